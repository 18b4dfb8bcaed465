"""Engagement events of a plan (consultations, workshops, validation meetings, technical working groups): services
and selectors.

Every write is checked whole before anything is saved, each problem named by its field (an event ending before it
starts names both dates; an organizer, technical area, activity, person or comment thread that is not the plan's is
refused by name), a stale edit is refused (EditConflict), and every write is audited. Participants come from the
plan's register (stakeholders.Person of this plan only); their organization and sector default from the person and
are kept as they were at the event. The audit of a participant names the person by their register number, never
their contact details.

The participation summary (by sector and by organization: invited, attended) is counted in the database, without
names. Events are writable while the plan is endorsed (stakeholders.apps registers them): engagement goes on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import FileResponse
from django.utils.formats import date_format
from django.utils.translation import gettext

from naphs.choices import Sector
from naphs.errors import EditConflict
from naphs.services import audit_record
from naphs.uploads import document_file_check, document_response, stored_name, upload_quota_check
from planning.models import Activity, CommentThread, TechnicalArea
from stakeholders.models import EngagementEvent, EventDecision, EventDocument, Organization, Participant, Person
from stakeholders.selectors import organization_list_for_plan

if TYPE_CHECKING:
    from decimal import Decimal

    from planning.models import Plan
    from stakeholders.models import User

EVENT_FIELDS = (
    "kind",
    "title",
    "starts_on",
    "ends_on",
    "place",
    "online",
    "online_link",
    "agenda",
    "outcomes",
    "activity",
    "cost",
)
EVENT_M2M = ("organizers", "technical_areas")
EVENT_TEXT = ("title", "place", "online_link", "agenda", "outcomes")
DECISION_M2M = ("activities", "priority_areas", "threads")
MAX_DOCUMENTS_PER_EVENT = 50


def _date_text(value: Any) -> str:
    return date_format(value, "DATE_FORMAT")


# --- References the plan may use ---------------------------------------------------------------------------------


def _foreign_names(chosen: Iterable[Any], allowed_ids: set[int]) -> list[str]:
    return [str(item) for item in chosen if item.pk not in allowed_ids]


def organizers_check(plan: Plan, organizations: Iterable[Organization]) -> list[str]:
    organizations = list(organizations)
    if not organizations:
        return []
    allowed = set(
        organization_list_for_plan(plan=plan).filter(pk__in=[o.pk for o in organizations]).values_list("pk", flat=True)
    )
    return [
        gettext("%(organization)s is not an organization of %(country)s.")
        % {"organization": name, "country": plan.jurisdiction.name}
        for name in _foreign_names(organizations, allowed)
    ]


def areas_check(plan: Plan, areas: Iterable[TechnicalArea]) -> list[str]:
    return [
        gettext("%(area)s is not a technical area of this plan's framework.") % {"area": area}
        for area in areas
        if area.framework_id != plan.framework_id
    ]


def activities_check(plan: Plan, activities: Iterable[Activity]) -> list[str]:
    return [
        gettext("“%(activity)s” is not an activity of this plan.") % {"activity": activity}
        for activity in activities
        if activity.plan_id != plan.pk
    ]


def threads_check(plan: Plan, threads: Iterable[CommentThread]) -> list[str]:
    return [
        gettext("Comment thread %(number)s is not a thread of this plan.") % {"number": thread.pk}
        for thread in threads
        if thread.plan_id != plan.pk
    ]


# --- Events ------------------------------------------------------------------------------------------------------


def event_dates_check(starts_on: Any, ends_on: Any) -> dict[str, list[str]]:
    """An event ending before it starts is refused, naming both dates."""
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        return {
            "ends_on": [
                gettext(
                    "The last day (%(ends)s) is before the first day (%(starts)s): an event cannot end "
                    "before it starts."
                )
                % {"ends": _date_text(ends_on), "starts": _date_text(starts_on)}
            ]
        }
    return {}


def _event_prepare(plan: Plan, event: EngagementEvent, fields: Mapping[str, Any]) -> tuple[dict, dict]:
    unknown = set(fields) - set(EVENT_FIELDS) - set(EVENT_M2M)
    if unknown:
        raise TypeError(f"Engagement events have no editable field {', '.join(sorted(unknown))}")
    values = {name: fields.get(name, getattr(event, name)) for name in EVENT_FIELDS}
    for name in EVENT_TEXT:
        values[name] = (values[name] or "").strip()
    values["online"] = bool(values["online"])
    relations: dict[str, list[Any]] = {}
    for name in EVENT_M2M:
        if name in fields:
            relations[name] = list(fields[name] or [])
        elif event.pk is not None:
            relations[name] = list(getattr(event, name).all())
        else:
            relations[name] = []
    errors: dict[str, list[str]] = dict(event_dates_check(values["starts_on"], values["ends_on"]))
    if values["online"] and not values["online_link"]:
        errors.setdefault("online_link", []).append(gettext("An online event needs its link (https://…)."))
    if values["online_link"] and urlsplit(values["online_link"]).scheme.lower() not in ("http", "https"):
        errors.setdefault("online_link", []).append(gettext("A link starts with http:// or https:// and names a site."))
    if not values["online"] and not values["place"]:
        errors.setdefault("place", []).append(gettext("Give the place, or mark the event online with its link."))
    activity = values["activity"]
    if activity is not None and (problems := activities_check(plan, [activity])):
        errors.setdefault("activity", []).extend(problems)
    if problems := organizers_check(plan, relations["organizers"]):
        errors.setdefault("organizers", []).extend(problems)
    if problems := areas_check(plan, relations["technical_areas"]):
        errors.setdefault("technical_areas", []).extend(problems)
    candidate = EngagementEvent(plan=plan, **values)
    try:
        candidate.full_clean(exclude=["plan", "created_by", "cost_answers", *errors], validate_constraints=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return values, relations


def _audit_value(value: Any) -> Any:
    if isinstance(value, list):
        return sorted(str(item) for item in value)
    return "" if value is None else str(value)


@transaction.atomic
def event_create(*, plan: Plan, by: User, fields: Mapping[str, Any]) -> EngagementEvent:
    values, relations = _event_prepare(plan, EngagementEvent(plan=plan), fields)
    event = EngagementEvent.objects.create(plan=plan, created_by=by, **values)
    for name, items in relations.items():
        getattr(event, name).set(items)
    changes = {name: _audit_value(value) for name, value in values.items() if value not in (None, "", False)}
    changes.update({name: _audit_value(items) for name, items in relations.items() if items})
    audit_record(plan=plan, by=by, action="created", target=event, changes=changes)
    return event


def _held(model: Any, instance: Any, version: int | None) -> Any:
    """The row held for this write, as stored; EditConflict when it moved on since `version` (or is gone)."""
    held = model.objects.select_for_update().filter(pk=instance.pk).first()
    if held is None or (version is not None and held.version != version):
        raise EditConflict(held or instance)
    return held


@transaction.atomic
def event_update(*, event: EngagementEvent, by: User, version: int, fields: Mapping[str, Any]) -> EngagementEvent:
    """Change an event as the person last saw it (EditConflict when someone saved it since `version`)."""
    plan = event.plan
    held = _held(EngagementEvent, event, version)
    values, relations = _event_prepare(plan, held, fields)
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if getattr(held, name) != value:
            changes[name] = [_audit_value(getattr(held, name)), _audit_value(value)]
        setattr(event, name, value)
    for name, items in relations.items():
        before = list(getattr(held, name).all())
        if {item.pk for item in before} != {item.pk for item in items}:
            changes[name] = [_audit_value(before), _audit_value(items)]
            getattr(event, name).set(items)
    if changes:
        event.version = version + 1
        event.save(update_fields=[*values, "version", "updated_at"])
        audit_record(plan=plan, by=by, action="edited", target=event, changes=changes)
    return event


@transaction.atomic
def event_cost_record(
    *, event: EngagementEvent, by: User, version: int, cost: Decimal, answers: dict[str, Any]
) -> EngagementEvent:
    """Keep the total the meeting cost builder computed (base currency) and the answers it came from."""
    held = _held(EngagementEvent, event, version)
    event.cost, event.cost_answers, event.version = cost, answers, version + 1
    event.save(update_fields=["cost", "cost_answers", "version", "updated_at"])
    audit_record(
        plan=event.plan,
        by=by,
        action="edited",
        target=event,
        changes={"cost": [_audit_value(held.cost), str(cost)], "cost_answers": "meeting"},
    )
    return event


@transaction.atomic
def event_delete(*, event: EngagementEvent, by: User, version: int | None) -> None:
    """Remove an event with its participants, decisions and documents (their files go once it commits)."""
    _held(EngagementEvent, event, version)
    stored = [name for name in event.documents.values_list("file", flat=True) if name]
    audit_record(
        plan=event.plan,
        by=by,
        action="deleted",
        target=event,
        changes={
            "title": event.title,
            "starts_on": str(event.starts_on),
            "participants": event.participants.count(),
            "decisions": event.decisions.count(),
            "documents": len(stored),
        },
    )
    event.delete()
    storage = EventDocument._meta.get_field("file").storage

    def files_delete() -> None:
        for name in stored:
            storage.delete(name)

    transaction.on_commit(files_delete)


# --- Participants ------------------------------------------------------------------------------------------------


def register_for_plan(*, plan: Plan) -> QuerySet[Person]:
    """The plan's register as participants are drawn from it: people not erased."""
    return Person.objects.filter(plan=plan, erased_at__isnull=True).select_related("organization")


def person_of_plan_check(plan: Plan, people: Iterable[Person]) -> list[str]:
    problems = []
    for person in people:
        if person.plan_id != plan.pk:
            problems.append(
                gettext(
                    "Person %(number)s is in the register of another plan, not of this one: add them to this "
                    "plan's register first."
                )
                % {"number": person.pk}
            )
        elif person.erased_at is not None:
            problems.append(gettext("%(person)s was erased from the register.") % {"person": person})
    return problems


def participant_audit(participant: Participant, **extra: Any) -> dict[str, Any]:
    # The person by their register number: the audit never copies names' contact details.
    return {"event": participant.event_id, "person": participant.person_id, **extra}


@transaction.atomic
def participants_add(
    *, event: EngagementEvent, by: User, people: Sequence[Person], invited: bool = True, attended: bool | None = None
) -> list[Participant]:
    """Add people of the plan's register to the event, all or none: a person of another plan, or one already a
    participant, is refused by name. Each keeps the organization and sector the person has now."""
    plan = event.plan
    if not people:
        raise ValidationError({"people": [gettext("Choose at least one person of the register.")]})
    problems = person_of_plan_check(plan, people)
    present = set(Participant.objects.filter(event=event, person__in=people).values_list("person_id", flat=True))
    problems.extend(
        gettext("%(person)s is already a participant of this event.") % {"person": person}
        for person in people
        if person.pk in present
    )
    if problems:
        raise ValidationError({"people": problems})
    added = []
    for person in people:
        participant = Participant.objects.create(
            event=event,
            person=person,
            invited=invited,
            attended=attended,
            organization_id=person.organization_id,
            sector=person.sector,
        )
        added.append(participant)
        audit_record(
            plan=plan,
            by=by,
            action="added",
            target=participant,
            changes=participant_audit(participant, invited=invited, attended=attended),
        )
    return added


PARTICIPANT_FIELDS = ("invited", "attended", "organization", "sector")


def _participant_prepare(plan: Plan, fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(PARTICIPANT_FIELDS)
    if unknown:
        raise TypeError(f"Participants have no editable field {', '.join(sorted(unknown))}")
    errors: dict[str, list[str]] = {}
    organization = fields.get("organization")
    if organization is not None and (problems := organizers_check(plan, [organization])):
        errors["organization"] = problems
    sector = fields.get("sector")
    if sector and sector not in Sector.values:
        errors["sector"] = [gettext("Choose a sector from the list.")]
    if errors:
        raise ValidationError(errors)
    return dict(fields)


@transaction.atomic
def participant_update(*, participant: Participant, by: User, version: int, fields: Mapping[str, Any]) -> Participant:
    """Mark a participant invited or not, attended or not (None: not recorded); the organization and sector they
    came for may be corrected."""
    plan = participant.event.plan
    values = _participant_prepare(plan, fields)
    held = _held(Participant, participant, version)
    changes = {}
    for name, value in values.items():
        before = getattr(held, name)
        if before != value:
            changes[name] = [_audit_value(before), _audit_value(value)]
            setattr(participant, name, value)
    if changes:
        participant.version = version + 1
        participant.save(update_fields=[*values, "version"])
        audit_record(
            plan=plan, by=by, action="edited", target=participant, changes=participant_audit(participant, **changes)
        )
    return participant


@transaction.atomic
def participant_remove(*, participant: Participant, by: User, version: int | None) -> None:
    _held(Participant, participant, version)
    audit_record(
        plan=participant.event.plan,
        by=by,
        action="removed",
        target=participant,
        changes=participant_audit(participant),
    )
    participant.delete()


def participant_list_for_event(*, event: EngagementEvent) -> QuerySet[Participant]:
    return (
        Participant.objects.filter(event=event)
        .select_related("person", "person__organization", "organization")
        .order_by("person__name", "pk")
    )


def people_to_add(*, event: EngagementEvent, organization_id: int | None = None, sector: str = "") -> QuerySet[Person]:
    """The register's people not yet participants of the event, filtered by organization and sector."""
    people = register_for_plan(plan=event.plan).exclude(participations__event=event)
    if organization_id:
        people = people.filter(organization_id=organization_id)
    if sector:
        people = people.filter(sector=sector)
    return people.order_by("name", "pk")


# --- Decisions ---------------------------------------------------------------------------------------------------


def _decision_prepare(plan: Plan, decision: EventDecision, fields: Mapping[str, Any]) -> tuple[str, dict]:
    unknown = set(fields) - {"text", *DECISION_M2M}
    if unknown:
        raise TypeError(f"Decisions have no editable field {', '.join(sorted(unknown))}")
    text = (fields.get("text", decision.text) or "").strip()
    relations: dict[str, list[Any]] = {}
    for name in DECISION_M2M:
        if name in fields:
            relations[name] = list(fields[name] or [])
        elif decision.pk is not None:
            relations[name] = list(getattr(decision, name).all())
        else:
            relations[name] = []
    errors: dict[str, list[str]] = {}
    if not text:
        errors["text"] = [gettext("Write the decision or outcome.")]
    for name, check in (("activities", activities_check), ("priority_areas", areas_check), ("threads", threads_check)):
        if problems := check(plan, relations[name]):
            errors[name] = problems
    if errors:
        raise ValidationError(errors)
    return text, relations


@transaction.atomic
def decision_create(*, event: EngagementEvent, by: User, fields: Mapping[str, Any]) -> EventDecision:
    text, relations = _decision_prepare(event.plan, EventDecision(event=event), fields)
    decision = EventDecision.objects.create(event=event, text=text)
    for name, items in relations.items():
        getattr(decision, name).set(items)
    changes: dict[str, Any] = {"event": event.pk, "text": text}
    changes.update({name: _audit_value(items) for name, items in relations.items() if items})
    audit_record(plan=event.plan, by=by, action="created", target=decision, changes=changes)
    return decision


@transaction.atomic
def decision_update(*, decision: EventDecision, by: User, version: int, fields: Mapping[str, Any]) -> EventDecision:
    plan = decision.event.plan
    held = _held(EventDecision, decision, version)
    text, relations = _decision_prepare(plan, held, fields)
    changes: dict[str, Any] = {}
    if held.text != text:
        changes["text"] = [held.text, text]
        decision.text = text
    for name, items in relations.items():
        before = list(getattr(held, name).all())
        if {item.pk for item in before} != {item.pk for item in items}:
            changes[name] = [_audit_value(before), _audit_value(items)]
            getattr(decision, name).set(items)
    if changes:
        decision.version = version + 1
        decision.save(update_fields=["text", "version"])
        audit_record(plan=plan, by=by, action="edited", target=decision, changes=changes)
    return decision


@transaction.atomic
def decision_delete(*, decision: EventDecision, by: User, version: int | None) -> None:
    _held(EventDecision, decision, version)
    audit_record(
        plan=decision.event.plan,
        by=by,
        action="deleted",
        target=decision,
        changes={"event": decision.event_id, "text": decision.text},
    )
    decision.delete()


def decision_list_for_event(*, event: EngagementEvent) -> QuerySet[EventDecision]:
    return (
        EventDecision.objects.filter(event=event)
        .prefetch_related("activities", "priority_areas", "threads")
        .order_by("pk")
    )


# --- Documents ---------------------------------------------------------------------------------------------------


@transaction.atomic
def document_add(*, event: EngagementEvent, by: User, file: UploadedFile, title: str = "") -> EventDocument:
    """Keep a document of the event: checked as every upload (size, the plan's room, and that the file is what its
    name says: naphs.uploads). ValidationError naming the file, and nothing kept, otherwise."""
    _held(EngagementEvent, event, None)  # documents of one event are added in turn
    if event.documents.count() >= MAX_DOCUMENTS_PER_EVENT:
        raise ValidationError(
            {
                "file": [
                    gettext("An event keeps at most %(count)d documents; delete one before adding another.")
                    % {"count": MAX_DOCUMENTS_PER_EVENT}
                ]
            }
        )
    try:
        kind = document_file_check(file)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None
    upload_quota_check(plan=event.plan, size=file.size or 0)
    document = EventDocument(event=event, added_by=by, title=title.strip()[:250])
    document.file_name = (file.name or "document").rsplit("/", 1)[-1][:200]
    document.content_type, document.size = kind.content_type, file.size or 0
    document.file.save(stored_name(document.file_name), file, save=False)
    stored = document.file.name or ""
    try:
        document.full_clean()
        document.save()
    except Exception:
        document.file.storage.delete(stored)
        raise
    audit_record(
        plan=event.plan,
        by=by,
        action="added",
        target=document,
        changes={"event": event.pk, "file": document.file_name, "size": document.size},
    )
    return document


@transaction.atomic
def document_delete(*, document: EventDocument, by: User) -> None:
    stored = document.file.name or ""
    audit_record(
        plan=document.event.plan,
        by=by,
        action="deleted",
        target=document,
        changes={"event": document.event_id, "file": document.file_name},
    )
    document.delete()
    if stored:
        storage = EventDocument._meta.get_field("file").storage
        transaction.on_commit(lambda: storage.delete(stored))


def event_document_response(document: EventDocument) -> FileResponse:
    return document_response(document.file, file_name=document.file_name, content_type=document.content_type)


# --- Reads -------------------------------------------------------------------------------------------------------


def event_list_for_plan(
    *, plan: Plan, kind: str = "", year: int | None = None, area_id: int | None = None
) -> QuerySet[EngagementEvent]:
    """The plan's events, latest first, with their counts of participants (invited, attended) and decisions."""
    events = EngagementEvent.objects.filter(plan=plan)
    if kind:
        events = events.filter(kind=kind)
    if year:
        events = events.filter(starts_on__year=year)
    if area_id:
        events = events.filter(technical_areas=area_id)
    return (
        events.annotate(
            participant_count=Count("participants", distinct=True),
            invited_count=Count("participants", filter=Q(participants__invited=True), distinct=True),
            attended_count=Count("participants", filter=Q(participants__attended=True), distinct=True),
            decision_count=Count("decisions", distinct=True),
        )
        .select_related("activity")
        .prefetch_related(Prefetch("technical_areas", queryset=TechnicalArea.objects.order_by("order", "code")))
        .order_by("-starts_on", "-pk")
    )


def event_years(*, plan: Plan) -> list[int]:
    return [value.year for value in EngagementEvent.objects.filter(plan=plan).dates("starts_on", "year", order="DESC")]


def event_get(*, plan: Plan, event_id: Any) -> EngagementEvent | None:
    event = (
        EngagementEvent.objects.filter(plan=plan, pk=event_id)
        .select_related("activity", "created_by")
        .prefetch_related(
            "organizers", Prefetch("technical_areas", queryset=TechnicalArea.objects.order_by("order", "code"))
        )
        .first()
    )
    if event is not None:
        event.plan = plan
    return event


@dataclass(frozen=True)
class ParticipationRow:
    """Participation of one sector or organization: participants invited, and those who attended."""

    key: Any
    label: str
    participants: int
    invited: int
    attended: int


@dataclass(frozen=True)
class ParticipationSummary:
    by_sector: list[ParticipationRow]
    by_organization: list[ParticipationRow]
    participants: int
    invited: int
    attended: int
    events: int


def _counted(rows: Any) -> Any:
    """Group rows (a values() queryset of participants) with their counts: all, invited, attended."""
    return rows.annotate(
        n_participants=Count("pk"),
        n_invited=Count("pk", filter=Q(invited=True)),
        n_attended=Count("pk", filter=Q(attended=True)),
    )


def participation_summary(*, plan: Plan, event: EngagementEvent | None = None) -> ParticipationSummary:
    """Participation by sector and by organization (as they were at each event), for one event or all the plan's:
    counted in the database, three queries whatever the number of participants, no names."""
    participants = Participant.objects.filter(event__plan=plan)
    if event is not None:
        participants = participants.filter(event=event)
    sector_labels = dict(Sector.choices)
    by_sector = [
        ParticipationRow(
            row["sector"],
            str(sector_labels.get(row["sector"], gettext("No sector given"))),
            row["n_participants"],
            row["n_invited"],
            row["n_attended"],
        )
        for row in _counted(participants.order_by().values("sector")).order_by("-n_participants", "sector")
    ]
    by_organization = [
        ParticipationRow(
            row["organization_id"],
            row["organization__name"] or gettext("No organization given"),
            row["n_participants"],
            row["n_invited"],
            row["n_attended"],
        )
        for row in _counted(participants.order_by().values("organization_id", "organization__name")).order_by(
            "-n_participants", "organization__name"
        )
    ]
    totals = participants.aggregate(
        n_participants=Count("pk"),
        n_invited=Count("pk", filter=Q(invited=True)),
        n_attended=Count("pk", filter=Q(attended=True)),
        n_events=Count("event", distinct=True),
    )
    return ParticipationSummary(
        by_sector=by_sector,
        by_organization=by_organization,
        participants=totals["n_participants"],
        invited=totals["n_invited"],
        attended=totals["n_attended"],
        events=totals["n_events"] if event is None else 1,
    )
