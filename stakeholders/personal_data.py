"""Data protection for the people of a plan's register: everything the plan holds about a person, exported on their
request (`person_export`), and their record erased on request (`person_erase`).

Erasing clears the name, title, e-mail, phone, notes and account link and sets `erased_at` (the person is then
"Erased person N"); their participations stay, so an event's summary still counts their organization and sector,
without a name. The audit trail keeps who changed what, but no longer the person's values: the entries about the
person and about their participations lose their personal values, and any other entry of the plan that quotes the
name, e-mail or phone has those values replaced. The erasure is itself audited, without personal data.

Contact details are for the plan's members only: nothing here, and nothing the public exports read (the plan
document, the open data files), puts them in a file meant for the public.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext

from naphs.errors import EditConflict
from naphs.models import AuditEvent
from naphs.services import audit_record
from stakeholders.models import Advocacy, Participant, Person, User

ERASED_VALUE = "[erased]"  # what replaces a personal value in the audit trail (data, not a sentence)
ERASED_FIELDS = ("name", "title", "email", "phone", "notes")


def person_export(*, person: Person) -> dict[str, Any]:
    """Everything the plan holds about `person`, as JSON-ready data: the record, their participations with the
    events, the advocacy they are a messenger of, and the audit trail's entries about them."""
    participations = (
        Participant.objects.filter(person=person).select_related("event", "organization").order_by("event__starts_on")
    )
    advocacy = Advocacy.objects.filter(messengers=person).order_by("pk")
    participant_ids = [p.pk for p in participations]
    audit = AuditEvent.objects.filter(
        Q(target_type="person", target_id=person.pk) | Q(target_type="participant", target_id__in=participant_ids),
        plan_id=person.plan_id,
    ).order_by("created_at", "pk")
    return {
        "plan": {"id": person.plan_id, "title": person.plan.title},
        "person": {
            "id": person.pk,
            "name": person.name,
            "title": person.title,
            "organization": person.organization.name if person.organization else None,
            "organization_id": person.organization_id,
            "email": person.email,
            "phone": person.phone,
            "sector": person.sector,
            "level": person.level,
            "account": person.user.get_username() if person.user else None,
            "notes": person.notes,
            "erased_at": person.erased_at.isoformat() if person.erased_at else None,
            "created_at": person.created_at.isoformat(),
            "updated_at": person.updated_at.isoformat(),
        },
        "participations": [
            {
                "event": {
                    "id": p.event_id,
                    "title": p.event.title,
                    "kind": p.event.kind,
                    "starts_on": p.event.starts_on.isoformat(),
                    "ends_on": p.event.ends_on.isoformat(),
                    "place": p.event.place,
                },
                "invited": p.invited,
                "attended": p.attended,
                "organization": p.organization.name if p.organization else None,
                "sector": p.sector,
            }
            for p in participations
        ],
        "advocacy_as_messenger": [{"id": a.pk, "title": a.title, "status": a.status, "need": a.need} for a in advocacy],
        "audit_trail": [
            {
                "at": event.created_at.isoformat(),
                "action": event.action,
                "target_type": event.target_type,
                "target_id": event.target_id,
                "changes": event.changes,
            }
            for event in audit
        ],
    }


def _scrub(value: Any, personal: list[str]) -> Any:
    """`value` (an audit change's value) with every personal value in it replaced."""
    if isinstance(value, list):
        return [_scrub(item, personal) for item in value]
    if isinstance(value, dict):
        return {key: _scrub(item, personal) for key, item in value.items()}
    if isinstance(value, str):
        folded = value.casefold()
        if any(text in folded for text in personal):
            return ERASED_VALUE
    return value


def _all_values_erased(value: Any) -> Any:
    if isinstance(value, list):
        return [_all_values_erased(item) for item in value]
    if isinstance(value, dict):
        return {key: _all_values_erased(item) for key, item in value.items()}
    return None if value is None else ERASED_VALUE


@transaction.atomic
def person_erase(*, person: Person, by: User, version: int | None) -> Person:
    """Erase `person`'s personal data on their request (see the module's docstring). A record already erased, or
    changed since `version`, is refused."""
    held = Person.objects.select_for_update().filter(pk=person.pk).first()
    if held is None or (version is not None and held.version != version):
        raise EditConflict(held or person)
    if held.erased_at is not None:
        raise ValidationError(gettext("This person's record is already erased."), code="already_erased")
    personal = [
        text.casefold()
        for text in (held.name, held.email, held.phone)
        if text and len(text.strip()) >= 3  # a value this short would match too much of the trail
    ]
    participant_ids = list(Participant.objects.filter(person=held).values_list("pk", flat=True))
    erased_repr = gettext("Erased person %(number)s") % {"number": held.pk}
    own = AuditEvent.objects.filter(
        Q(target_type="person", target_id=held.pk) | Q(target_type="participant", target_id__in=participant_ids),
        plan_id=held.plan_id,
    )
    own_ids = set()
    for event in own:
        own_ids.add(event.pk)
        event.target_repr = erased_repr
        event.changes = {key: _all_values_erased(value) for key, value in (event.changes or {}).items()}
        event.save(update_fields=["target_repr", "changes"])
    if personal:
        quoting = Q()
        for text in personal:
            quoting |= Q(changes_text__icontains=text) | Q(target_repr__icontains=text)
        others = (
            AuditEvent.objects.filter(plan_id=held.plan_id)
            .exclude(pk__in=own_ids)
            .annotate(changes_text=Cast("changes", TextField()))
            .filter(quoting)
        )
        for event in others:
            event.changes = _scrub(event.changes or {}, personal)
            if any(text in event.target_repr.casefold() for text in personal):
                event.target_repr = ERASED_VALUE
            event.save(update_fields=["target_repr", "changes"])
    now = timezone.now()
    Person.objects.filter(pk=held.pk).update(
        **dict.fromkeys(ERASED_FIELDS, ""), user=None, erased_at=now, version=held.version + 1, updated_at=now
    )
    person.refresh_from_db()
    audit_record(
        plan=person.plan, by=by, action="changed", target=person, changes={"erased_at": [None, now.isoformat()]}
    )
    return person
