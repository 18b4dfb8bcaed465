"""Planning's hooks (naphs.hooks): where the apps above planning take part in its pages and its changes.

Each is called by planning; the apps above connect to them from their AppConfig.ready (costing.hooks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from naphs.hooks import Hook

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet

    from planning.models import Activity, Plan
    from stakeholders.models import User

# An activity of the plan (its id) moved to another technical area or responsible organization: what is
# summed by area or organization moves with it. Called inside the transaction that made the change.
activity_moved: Hook[[int], None] = Hook("activity_moved")

# Activities were added to the plan (its id): what counts the plan's activities moves. Called inside the transaction
# that added them (one activity, a generated draft, activities drawn into an operational plan).
activities_added: Hook[[int], None] = Hook("activities_added")

# An activity is about to be deleted (inside the transaction that deletes it).
activity_deleting: Hook[[Activity], None] = Hook("activity_deleting")

# The activity table's rows: each receiver may annotate the queryset with the columns it shows.
activity_rows: Hook[[QuerySet[Activity]], QuerySet[Activity]] = Hook("activity_rows")

# What the activity's page shows of it beside planning's own fields, by name in the page's context.
activity_page: Hook[[Activity], dict[str, Any]] = Hook("activity_page")

# Strategic activities were drawn into operational plan `plan` by `by`: `copies` are the new activities, each with
# its `origin`. Called inside planning.operational's transaction once the copies are saved, so a receiver's error
# undoes the whole drawing (costing copies the origins' cost lines).
operational_activities_drawn: Hook[[Plan, User, list[Activity]], None] = Hook("operational_activities_drawn")


# Plan `plan` was reopened as a new draft by `by`: called inside planning.endorsement.plan_reopen's transaction, the
# plan a draft again, so what waited for it to be writable may be written now (monitoring applies the new dates and
# drops its reviews decided while the plan was endorsed). A receiver's error undoes the reopening.
plan_reopened: Hook[[Plan, User], None] = Hook("plan_reopened")


class CommentTarget(NamedTuple):
    """An object of an app above planning that a comment thread is about (a cost line), as its app resolved it:
    the object, the activity it belongs to, and how a page names it."""

    object: Model
    activity: Activity


# A comment is to start a thread on the object `object_id` of the kind `subject` (a CommentThread.Subject planning
# does not resolve itself, such as "cost_line") in the plan: the receiver that knows the kind answers with the
# object and its activity, raising Http404 when the plan has no such object; the others answer None.
comment_target: Hook[[Plan, str, int], CommentTarget | None] = Hook("comment_target")

# What a comment from an activity's page may be about beside the activity itself: (choice, label) pairs, the
# choice "<subject>:<id>" as comment_target resolves it (costing offers the activity's cost lines).
comment_choices: Hook[[Activity], list[tuple[str, str]]] = Hook("comment_choices")

# The plan's whole content as plain values for a stored version (planning.versions): a receiver answers with the
# parts it knows as a JSON-able mapping (costing answers with everything, through costing.versions); the answers
# are merged into the version's `content`.
plan_content: Hook[[Plan], dict[str, Any]] = Hook("plan_content")
