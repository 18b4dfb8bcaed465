"""Costing's part in planning (planning.hooks): totals follow activities, activities show their costs, and cost
lines take comments. And costing's own hooks (naphs.hooks), where the apps above it take part in what it makes:
chapters of the plan document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from django.http import Http404
from django.utils.translation import gettext as _

from costing.models import CostLine
from costing.selectors import activities_with_cost, activity_cost_summary
from costing.services import costs_changed
from costing.versions import plan_content_part
from naphs.hooks import Hook
from planning import hooks

if TYPE_CHECKING:
    from django.utils.safestring import SafeString

    from planning.models import Activity, Plan


class DocumentChapter(NamedTuple):
    """A chapter an app above costing adds to the plan document, after the costing summary (and the provincial
    plans): its anchor (unique in the document), its title for the contents, its HTML in the active language (its
    own heading included, text escaped, charts as inline SVG, no URL), and about how many table rows it holds (for
    the document's parts)."""

    anchor: str
    title: str
    html: SafeString
    rows: int


# The chapters of the plan document that apps above costing write (monitoring's implementation progress): each
# receiver answers for the plan, in the active language, with a chapter or None (nothing to say yet). Called by
# costing.document.document_data.
document_chapters: Hook[[Plan], DocumentChapter | None] = Hook("document_chapters")

# What those chapters show, as far as the database records changes: each receiver answers with JSON-able marks,
# part of costing.document.document_key, so a stored render is not served once what a chapter shows has moved.
document_marks: Hook[[Plan], Any] = Hook("document_marks")


def _activity_deleting(activity: Activity) -> None:
    if activity.cost_lines.exists() or activity.funding_commitments.exists():
        costs_changed(activity.plan_id)


def _activity_page(activity: Activity) -> dict[str, Any]:
    return {"cost": activity_cost_summary(activity=activity)}


def _comment_target(plan: Plan, subject: str, object_id: int) -> hooks.CommentTarget | None:
    """A comment on a cost line of the plan: the line and its activity."""
    if subject != "cost_line":
        return None
    line = CostLine.objects.select_related("activity").filter(plan=plan, pk=object_id).first()
    if line is None:
        raise Http404(_("No such cost line."))
    return hooks.CommentTarget(line, line.activity)


def _comment_choices(activity: Activity) -> list[tuple[str, str]]:
    lines = CostLine.objects.filter(activity=activity).order_by("pk").values_list("pk", "description")
    return [(f"cost_line:{pk}", _("Cost line: %(line)s") % {"line": description}) for pk, description in lines]


def connect() -> None:
    """From CostingConfig.ready."""
    hooks.activity_moved.connect(costs_changed)
    hooks.activity_deleting.connect(_activity_deleting)
    hooks.activity_rows.connect(activities_with_cost)
    hooks.activity_page.connect(_activity_page)
    hooks.comment_target.connect(_comment_target)
    hooks.comment_choices.connect(_comment_choices)
    hooks.plan_content.connect(plan_content_part)
