"""Writes to plans and jurisdictions. Every function validates fully and saves all or nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from naphs.permissions import Role
from naphs.services import audit_record, duplicate_refusal, row_insert, versioned_update
from planning.models import CountryGrant, Framework, Jurisdiction, Plan
from stakeholders.access import plan_open_check

if TYPE_CHECKING:
    from stakeholders.models import User

PLAN_EDITABLE_FIELDS = ("title", "kind", "first_year", "last_year", "parent", "priority_diseases")


DEFAULT_FRAMEWORK = "JEE3"


def _default_framework() -> Framework | None:
    return Framework.objects.filter(code=DEFAULT_FRAMEWORK).first()


@transaction.atomic
def jurisdiction_create(*, level: str, name: str, code: str = "", parent: Jurisdiction | None = None) -> Jurisdiction:
    jurisdiction = Jurisdiction(level=level, name=name.strip(), code=code, parent=parent)
    jurisdiction.full_clean()
    row_insert(jurisdiction, refused=lambda: duplicate_refusal(jurisdiction))  # the same one added at once
    return jurisdiction


@transaction.atomic
def plan_create(
    *,
    by: User,
    jurisdiction: Jurisdiction,
    title: str,
    kind: str = Plan.Kind.STRATEGIC,  # the model's default: an API client may leave it out
    first_year: int,
    last_year: int,
    parent: Plan | None = None,
    framework: Framework | None = None,
    priority_diseases: list[str] | None = None,
) -> Plan:
    """Open a plan's workspace; the person who opens it becomes its secretariat lead.

    Under a parent plan, only its secretariat opens one; a plan under none needs an administrator's grant for
    the country (PermissionDenied otherwise). The plan follows `framework`, else its parent's, else JEE 3rd
    edition.
    """
    from stakeholders.services import membership_add

    plan_open_check(user=by, jurisdiction=jurisdiction, parent=parent)

    if framework is None:
        framework = parent.framework if parent is not None and parent.framework_id else _default_framework()
    plan = Plan(
        framework=framework,
        jurisdiction=jurisdiction,
        title=title.strip(),
        kind=kind,
        first_year=first_year,
        last_year=last_year,
        parent=parent,
        priority_diseases=list(priority_diseases or []),
    )
    plan.full_clean()
    plan.save()
    audit_record(plan=plan, by=by, action="created", target=plan)
    membership_add(plan=plan, by=by, user=by, role=Role.SECRETARIAT_LEAD, notify=False)
    return plan


@transaction.atomic
def plan_update(*, plan: Plan, by: User, version: int, **fields: Any) -> Plan:
    """Change a plan's settings, refusing the save if someone else changed the plan since `version`."""
    unknown = set(fields) - set(PLAN_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"plan_update() cannot change {', '.join(sorted(unknown))}")
    parent = fields.get("parent", plan.parent)
    if getattr(parent, "pk", None) != plan.parent_id:
        # Moving a plan is opening it anew there: under a plan one runs, or under none with the country's grant.
        plan_open_check(user=by, jurisdiction=plan.jurisdiction, parent=parent)
    changes = versioned_update(plan, version=version, fields=fields)
    if changes:
        audit_record(plan=plan, by=by, action="changed settings of", target=plan, changes=changes)
    return plan


@transaction.atomic
def country_grant_give(*, by: User | None, user: User, country: Jurisdiction) -> CountryGrant:
    """Let `user` open national plans of `country`; recorded in the audit trail with who gave it."""
    grant = CountryGrant(user=user, country=country, granted_by=by)
    grant.full_clean()
    grant.save()
    audit_record(
        plan=None,
        by=by,
        action="granted",
        target=grant,
        changes={"user": [None, user.get_username()], "country": [None, str(country)]},
    )
    return grant


@transaction.atomic
def country_grant_withdraw(*, grant: CountryGrant, by: User | None) -> None:
    """Take the grant back; plans opened with it keep their secretariat."""
    audit_record(
        plan=None,
        by=by,
        action="withdrew",
        target=grant,
        changes={"user": [grant.user.get_username(), None], "country": [str(grant.country), None]},
    )
    grant.delete()
