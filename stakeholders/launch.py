"""The launch: the checklist the secretariat works through before launching the endorsed plan, and the launch itself.

The checklist is computed now, in a constant number of queries whatever the plan's size, item by item in a fixed
order (ITEM_ORDER): the endorsed version (planning), the share of activities costed and the funding identified
against the cost (costing answers through stakeholders.hooks.launch_checks, so this app never imports costing),
advocacy for the largest funding gaps (the gaps from stakeholders.hooks.area_gaps), a responsible organization for
every activity, and stakeholder coverage of the plan's areas. A reporting period ready for monitoring is no item:
launching opens one.

Launching records the date (today or earlier), the event (one of the plan's), notes, the checklist as it stood with
what the secretariat confirmed of the items not met, and who; one launch per endorsed version. Inside the same
transaction stakeholders.hooks.plan_launched fires (monitoring opens the first reporting period), so a receiver's
failure undoes the launch.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import asdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext

from naphs.languages import number_text
from naphs.permissions import Permission
from naphs.services import audit_record, row_insert
from planning.models import Activity, Endorsement, Plan
from planning.selectors import technical_areas_of
from stakeholders import hooks
from stakeholders.access import membership_get_for_user
from stakeholders.hooks import LaunchCheck
from stakeholders.models import Advocacy, EngagementEvent, Launch, Stakeholder

if TYPE_CHECKING:
    from collections.abc import Sequence

    from planning.models import TechnicalArea
    from stakeholders.models import User

# The items in the order the page shows them; an item an app adds with another key comes after these.
ENDORSED, COSTED, FUNDING, ADVOCACY, RESPONSIBLE, COVERAGE = (
    "endorsed",
    "costed",
    "funding",
    "advocacy",
    "responsible",
    "coverage",
)
ITEM_ORDER = (ENDORSED, COSTED, FUNDING, ADVOCACY, RESPONSIBLE, COVERAGE)
# How many of the largest area gaps need an advocacy plan.
LARGEST_GAPS = 3
NOTE_MAX = 1000


class PlanNotEndorsed(ValidationError):
    """Only an endorsed version is launched: pages say so, the API answers 409 with the code `plan_not_endorsed`."""

    def __init__(self, plan: Plan) -> None:
        super().__init__(
            gettext(
                "Only an endorsed plan is launched; this one is “%(status)s”. The secretariat lead endorses it first, "
                "on the endorsement page."
            )
            % {"status": plan.get_status_display()},
            code="plan_not_endorsed",
        )


def _url(name: str, plan: Plan, query: str = "") -> str:
    """The page where an item is worked on."""
    return reverse(name, kwargs={"plan_id": plan.pk}) + query


def _names(areas: Sequence[TechnicalArea]) -> str:
    return ", ".join(str(area) for area in areas)


# --- The items stakeholders computes -------------------------------------------------------------------------------


def _endorsed_item(plan: Plan) -> LaunchCheck:
    name = gettext("An endorsed version")
    url = _url("plan_endorsement", plan)
    endorsement: Endorsement | None = plan.current_endorsement
    if endorsement is None:
        detail = gettext("The plan is “%(status)s”: the secretariat lead endorses a version before it is launched.") % {
            "status": plan.get_status_display()
        }
        return LaunchCheck(ENDORSED, name, detail, False, url)
    detail = gettext("Version %(number)d, endorsed on %(date)s by %(authority)s.") % {
        "number": endorsement.number,
        "date": formats.date_format(endorsement.endorsed_on, "DATE_FORMAT"),
        "authority": endorsement.authority,
    }
    return LaunchCheck(ENDORSED, name, detail, True, url)


def _advocacy_item(plan: Plan, areas: dict[int, TechnicalArea]) -> LaunchCheck | None:
    """The three largest area gaps, each with an active advocacy linked to the area (or to one of its activities).
    None when no app answers for the gaps."""
    answers = hooks.area_gaps.send(plan)
    if not answers:
        return None
    gaps: dict[int, Decimal] = {}
    for answer in answers:
        for area_id, gap in answer.items():
            gaps.setdefault(area_id, gap)
    name = gettext("Advocacy plans for the largest gaps")
    url = _url("advocacy_list", plan)
    ranked = sorted(
        (area_id for area_id, gap in gaps.items() if gap > 0),
        key=lambda area_id: (-gaps[area_id], areas[area_id].order if area_id in areas else 0, area_id),
    )[:LARGEST_GAPS]
    if not ranked:
        return LaunchCheck(ADVOCACY, name, gettext("No technical area has a funding gap."), True, url)
    active = Advocacy.objects.filter(plan=plan, status__in=Advocacy.ACTIVE)
    addressed = set(active.filter(technical_areas__in=ranked).values_list("technical_areas", flat=True))
    addressed |= set(
        active.filter(activities__technical_area__in=ranked).values_list("activities__technical_area", flat=True)
    )
    missing = [areas[area_id] for area_id in ranked if area_id not in addressed and area_id in areas]
    largest = _names([areas[area_id] for area_id in ranked if area_id in areas])
    if not missing:
        detail = ngettext(
            "The largest gap (%(areas)s) has an active advocacy plan.",
            "Each of the %(count)d largest gaps (%(areas)s) has an active advocacy plan.",
            len(ranked),
        ) % {"count": len(ranked), "areas": largest}
        return LaunchCheck(ADVOCACY, name, detail, True, url)
    detail = ngettext(
        "Of the largest gaps (%(areas)s), %(count)d has no active advocacy plan: %(missing)s.",
        "Of the largest gaps (%(areas)s), %(count)d have no active advocacy plan: %(missing)s.",
        len(missing),
    ) % {"areas": largest, "count": len(missing), "missing": _names(missing)}
    return LaunchCheck(ADVOCACY, name, detail, False, url)


def _responsible_item(plan: Plan) -> LaunchCheck:
    name = gettext("A responsible organization for every activity")
    counts = Activity.objects.filter(plan=plan).aggregate(
        total=Count("pk"), without=Count("pk", filter=Q(responsible_organization__isnull=True))
    )
    total, without = counts["total"], counts["without"]
    url = _url("activities", plan, "?no_responsible_organization=on")
    if not total:
        return LaunchCheck(
            RESPONSIBLE, name, gettext("The plan has no activities yet."), False, _url("activities", plan)
        )
    if not without:
        detail = ngettext(
            "The activity has a responsible organization.",
            "All %(count)s activities have a responsible organization.",
            total,
        ) % {"count": number_text(total)}
        return LaunchCheck(RESPONSIBLE, name, detail, True, url)
    detail = ngettext(
        "%(count)s activity of %(total)s has no responsible organization.",
        "%(count)s activities of %(total)s have no responsible organization.",
        without,
    ) % {"count": number_text(without), "total": number_text(total)}
    return LaunchCheck(RESPONSIBLE, name, detail, False, url)


def _coverage_item(plan: Plan, areas: dict[int, TechnicalArea]) -> LaunchCheck:
    """Every technical area that has activities has an engaged stakeholder interested in it."""
    name = gettext("Stakeholder coverage of all areas")
    url = _url("stakeholder_map", plan)
    planned = set(Activity.objects.filter(plan=plan).values_list("technical_area_id", flat=True).distinct())
    covered = set(
        Stakeholder.technical_areas.through.objects.filter(
            stakeholder__plan=plan, stakeholder__relationship__in=Stakeholder.ENGAGED
        ).values_list("technicalarea_id", flat=True)
    )
    if not planned:
        return LaunchCheck(COVERAGE, name, gettext("The plan has no activities yet."), False, url)
    uncovered = sorted(
        (areas[area_id] for area_id in planned - covered if area_id in areas), key=lambda area: (area.order, area.pk)
    )
    if not uncovered:
        detail = ngettext(
            "The technical area with activities has an engaged stakeholder.",
            "Each of the %(count)d technical areas with activities has an engaged stakeholder.",
            len(planned),
        ) % {"count": len(planned)}
        return LaunchCheck(COVERAGE, name, detail, True, url)
    detail = ngettext(
        "%(count)d technical area with activities has no engaged stakeholder: %(areas)s.",
        "%(count)d technical areas with activities have no engaged stakeholder: %(areas)s.",
        len(uncovered),
    ) % {"count": len(uncovered), "areas": _names(uncovered)}
    return LaunchCheck(COVERAGE, name, detail, False, url)


def launch_checklist(plan: Plan) -> list[LaunchCheck]:
    """The checklist as it stands now, in ITEM_ORDER, in the active language: a constant number of queries."""
    areas = {area.pk: area for area in technical_areas_of(plan)}
    items = [_endorsed_item(plan)]
    for answer in hooks.launch_checks.send(plan):
        items.extend(answer)
    advocacy = _advocacy_item(plan, areas)
    if advocacy is not None:
        items.append(advocacy)
    items += [_responsible_item(plan), _coverage_item(plan, areas)]
    rank = {key: index for index, key in enumerate(ITEM_ORDER)}
    return sorted(items, key=lambda item: rank.get(item.key, len(rank)))  # stable: an app's own order kept


def unmet_keys(items: Sequence[LaunchCheck]) -> list[str]:
    """The items the secretariat confirms before launching: those not met (the endorsement cannot be confirmed)."""
    return [item.key for item in items if not item.met and item.key != ENDORSED]


# --- Launching ---------------------------------------------------------------------------------------------------


def _date_text(day: datetime.date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


def _already_launched(plan: Plan, number: int) -> ValidationError | None:
    launch = Launch.objects.filter(plan=plan, number=number).first()
    if launch is None:
        return None
    return ValidationError(
        gettext("Version %(number)d of this plan was launched already on %(date)s; nothing was saved.")
        % {"number": number, "date": _date_text(launch.launched_on)},
        code="launched_already",
    )


def _checked(
    *,
    plan: Plan,
    endorsement: Endorsement,
    launched_on: datetime.date | None,
    event: EngagementEvent | None,
    notes: str,
) -> str:
    """The launch's fields checked whole: ValidationError naming each that is wrong."""
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    if launched_on is None:
        errors["launched_on"] = [gettext("Give the date the plan was launched.")]
    elif launched_on > today:
        errors["launched_on"] = [
            gettext("A launch is recorded once it has happened: %(date)s is in the future (today is %(today)s).")
            % {"date": _date_text(launched_on), "today": _date_text(today)}
        ]
    elif launched_on < endorsement.endorsed_on:
        errors["launched_on"] = [
            gettext("The plan cannot have been launched (%(date)s) before it was endorsed, on %(endorsed)s.")
            % {"date": _date_text(launched_on), "endorsed": _date_text(endorsement.endorsed_on)}
        ]
    if event is not None and event.plan_id != plan.pk:
        errors["event"] = [gettext("“%(event)s” is not an event of this plan.") % {"event": event}]
    notes = (notes or "").strip()
    if errors:
        raise ValidationError(errors)
    return notes


def _confirmations(items: Sequence[LaunchCheck], confirmed: Mapping[str, str]) -> dict[str, str]:
    """The notes of the unmet items, once each is confirmed; ValidationError naming those that are not, or a key
    that is no item of the checklist."""
    keys = {item.key for item in items}
    unknown = sorted(set(confirmed) - keys)
    if unknown:
        raise ValidationError(
            {
                "confirm": [
                    gettext("These are not items of the launch checklist: %(keys)s. The items are: %(items)s.")
                    % {"keys": ", ".join(unknown), "items": ", ".join(item.key for item in items)}
                ]
            },
            code="unknown_item",
        )
    unmet = unmet_keys(items)
    missing = [item for item in items if item.key in unmet and item.key not in confirmed]
    if missing:
        raise ValidationError(
            {
                "confirm": [
                    ngettext(
                        "This item of the checklist is not met; confirm it to launch anyway: %(items)s.",
                        "These items of the checklist are not met; confirm each to launch anyway: %(items)s.",
                        len(missing),
                    )
                    % {"items": "; ".join(f"{item.name} ({item.key})" for item in missing)}
                ]
            },
            code="unconfirmed",
        )
    notes = {}
    for key in unmet:
        note = (confirmed.get(key) or "").strip()
        if len(note) > NOTE_MAX:
            raise ValidationError(
                {"confirm": [gettext("A note has at most %(limit)d characters.") % {"limit": NOTE_MAX}]}
            )
        notes[key] = note
    return notes


def plan_launch(
    *,
    plan: Plan,
    by: User,
    launched_on: datetime.date | None,
    event: EngagementEvent | None = None,
    notes: str = "",
    confirmed: Mapping[str, str] | None = None,
) -> Launch:
    """Launch the endorsed version of the plan (the secretariat, Permission.ENGAGE).

    `confirmed` maps each item of the checklist not met that the secretariat confirms to its note (may be empty).
    Refused with PlanNotEndorsed for a plan that is not endorsed; with ValidationError by field for a missing or
    future date, a date before the endorsement, another plan's event, items not met left unconfirmed, and a version
    launched already (two launching at once: one launch, the other told when it was launched). Audited; the hook
    plan_launched fires inside the transaction, so a receiver's failure undoes the launch."""
    membership_get_for_user(user=by, plan_id=plan.pk, need=Permission.ENGAGE)
    with transaction.atomic():
        # The plan's row for update: an endorsement or reopening waits, and so does a second launch.
        locked = Plan.objects.select_related("jurisdiction").select_for_update(of=("self",)).get(pk=plan.pk)
        endorsement = locked.current_endorsement
        if endorsement is None:
            raise PlanNotEndorsed(locked)
        refusal = _already_launched(locked, endorsement.number)
        if refusal is not None:
            raise refusal
        notes = _checked(plan=locked, endorsement=endorsement, launched_on=launched_on, event=event, notes=notes)
        assert launched_on is not None  # checked above
        items = launch_checklist(locked)
        confirmations = _confirmations(items, confirmed or {})
        checklist = [
            {
                **asdict(item),
                "confirmed": item.key in confirmations,
                "note": confirmations.get(item.key, ""),
            }
            for item in items
        ]
        launch = row_insert(
            Launch(
                plan=locked,
                number=endorsement.number,
                launched_on=launched_on,
                event=event,
                notes=notes,
                checklist=checklist,
                launched_by=by,
            ),
            refused=lambda: _already_launched(locked, endorsement.number),
        )
        audit_record(
            plan=locked,
            by=by,
            action="created",
            target=launch,
            changes={
                "number": [None, launch.number],
                "launched_on": [None, launched_on.isoformat()],
                "event": [None, str(event) if event else None],
                "unmet_confirmed": sorted(confirmations),
            },
        )
        hooks.plan_launched.send(locked, by, launch)
    return launch


# --- Reads -------------------------------------------------------------------------------------------------------


def launch_list_for_plan(*, plan: Plan) -> list[Launch]:
    """The plan's launches, the latest version first, with their event and who launched: one query."""
    return list(Launch.objects.filter(plan=plan).select_related("event", "launched_by").order_by("-number"))


def launch_of_current_version(plan: Plan, launches: Sequence[Launch]) -> Launch | None:
    """The launch of the endorsed version the plan stands at, if it was launched."""
    number = plan.endorsed_number
    return next((launch for launch in launches if launch.number == number), None) if number else None


def launch_events_for_plan(*, plan: Plan) -> Any:
    """The plan's engagement events a launch may name, launch events first, the latest first."""
    from django.db.models import Case, IntegerField, Value, When

    return EngagementEvent.objects.filter(plan=plan).order_by(
        Case(When(kind=EngagementEvent.Kind.LAUNCH, then=Value(0)), default=Value(1), output_field=IntegerField()),
        "-starts_on",
        "pk",
    )
