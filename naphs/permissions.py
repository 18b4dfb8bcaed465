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
    MANAGE = "manage"  # plan settings, members, status
    EDIT_ACTIVITIES = "edit_activities"  # technical leads: their own areas only
    EDIT_COSTS = "edit_costs"  # technical leads: own areas; focal points: own organization's activities
    COMMENT = "comment"
    REPORT_PROGRESS = "report_progress"  # scoped like EDIT_COSTS


SECRETARIAT_ROLES = frozenset({Role.SECRETARIAT_LEAD, Role.SECRETARIAT_MEMBER})

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.SECRETARIAT_LEAD: frozenset(Permission),
    Role.SECRETARIAT_MEMBER: frozenset(Permission),
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

# The guidance recommends a secretariat of four to six people; outside that the product warns, never blocks.
SECRETARIAT_RECOMMENDED_SIZE = (4, 6)
