"""Roles in a plan and what each may do: the table in DESIGN.md, as data.

Pure data with no model imports, so models, forms and access helpers can all use it.
"""

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SECRETARIAT_LEAD = "secretariat_lead", _("Secretariat lead")
    SECRETARIAT_MEMBER = "secretariat_member", _("Secretariat member")
    TECHNICAL_LEAD = "technical_lead", _("Technical lead")
    FOCAL_POINT = "focal_point", _("Focal point")
    REVIEWER = "reviewer", _("Reviewer")
    VIEWER = "viewer", _("Viewer")


class Permission(StrEnum):
    VIEW = "view"  # see the plan
    MANAGE = "manage"  # members, status, review rounds, exports of the whole plan
    EDIT_PLAN = (
        "edit_plan"  # the plan's content the secretariat keeps: settings, scores, targets, draft, costing, funding
    )
    EDIT_ACTIVITIES = "edit_activities"  # technical leads: their own areas only
    EDIT_COSTS = "edit_costs"  # technical leads: own areas; focal points: own organization's activities
    COMMENT = "comment"
    REPORT_PROGRESS = "report_progress"  # scoped like EDIT_COSTS
    ENDORSE = "endorse"  # endorse a version of the plan and reopen it: the secretariat lead only
    # The stakeholder register and map, engagement events, advocacy and the launch: the secretariat, and on an endorsed
    # plan too (advocacy for funding and the launch come after the endorsement). Every member reads them.
    ENGAGE = "engage"


SECRETARIAT_ROLES = frozenset({Role.SECRETARIAT_LEAD, Role.SECRETARIAT_MEMBER})

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.SECRETARIAT_LEAD: frozenset(Permission),
    Role.SECRETARIAT_MEMBER: frozenset(Permission) - {Permission.ENDORSE},
    Role.TECHNICAL_LEAD: frozenset(
        {
            Permission.VIEW,
            Permission.EDIT_ACTIVITIES,
            Permission.EDIT_COSTS,
            Permission.COMMENT,
            Permission.REPORT_PROGRESS,
        }
    ),
    Role.FOCAL_POINT: frozenset(
        {Permission.VIEW, Permission.EDIT_COSTS, Permission.COMMENT, Permission.REPORT_PROGRESS}
    ),
    Role.REVIEWER: frozenset({Permission.VIEW, Permission.COMMENT}),
    Role.VIEWER: frozenset({Permission.VIEW}),
}

# What an endorsed plan refuses to everyone until the secretariat lead reopens it: every write to its content.
# Progress reporting goes on against an endorsed plan, and so do members, review rounds and exports.
FROZEN_WHEN_ENDORSED = frozenset(
    {Permission.EDIT_PLAN, Permission.EDIT_ACTIVITIES, Permission.EDIT_COSTS, Permission.COMMENT}
)

# The guidance recommends a secretariat of four to six people; outside that the product warns, never blocks.
SECRETARIAT_RECOMMENDED_SIZE = (4, 6)
