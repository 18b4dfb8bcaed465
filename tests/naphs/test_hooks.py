"""naphs.hooks: how an app lets the apps above it take part, and what planning's hooks carry to costing."""

from naphs.hooks import Hook, pipe
from planning import hooks as planning_hooks


def test_a_hook_calls_its_receivers_in_order_once_each_and_pipes_a_value_through_them():
    hook: Hook[[int], int] = Hook("test")
    assert hook.send(1) == [] and pipe(hook, 1) == 1  # nobody connected: nothing happens

    def double(n: int) -> int:
        return n * 2

    def plus_one(n: int) -> int:
        return n + 1

    hook.connect(double)
    hook.connect(plus_one)
    hook.connect(double)  # once is enough
    assert hook.send(5) == [10, 6]
    assert pipe(hook, 5) == 11


def test_costing_takes_part_in_planning_through_planning_hooks_alone():
    from costing import hooks as costing_hooks
    from costing.selectors import activities_with_cost
    from costing.services import costs_changed

    assert costs_changed in planning_hooks.activity_moved.receivers
    assert activities_with_cost in planning_hooks.activity_rows.receivers
    assert costing_hooks._activity_deleting in planning_hooks.activity_deleting.receivers
    assert costing_hooks._activity_page in planning_hooks.activity_page.receivers
