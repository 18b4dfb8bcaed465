"""The results framework, written: M&E indicators with their yearly targets, the plan's capacity indicators, and
actuals per reporting period (a grid, the API, or a spreadsheet imported by a job).

Every write checks the whole before saving anything (ValidationError by field, each message naming what and where),
refuses a stale edit (EditConflict), is recorded in the audit trail inside its transaction, and says the plan's
monitoring figures moved (monitoring.aggregates.monitoring_changed). Who may call them is the views' and the API's
to decide (monitoring.indicators.indicator_writable_by). The plan's content is not touched: an indicator names
activities and an area, it changes neither, so all of this goes on while the plan is endorsed.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext, ngettext

from monitoring.aggregates import monitoring_changed
from monitoring.indicators import indicator_area_ids_writable_by
from monitoring.models import MEIndicator, MEIndicatorActual, MEIndicatorTarget, ReportingPeriod
from naphs.errors import EditConflict
from naphs.services import audit_record, row_lock, versioned_save, versioned_update
from naphs.spreadsheets import (
    ImportRefused,
    Problem,
    Sheet,
    cell_text,
    find_header,
    heading_text,
    in_every_language,
    read_spreadsheet,
)
from planning.models import MIN_YEAR, Activity, IndicatorTarget

if TYPE_CHECKING:
    from planning.models import Plan
    from stakeholders.models import PlanMembership, User

# What a person edits on an indicator; its activities and targets travel beside these.
INDICATOR_FIELDS = (
    "code",
    "name",
    "kind",
    "technical_area",
    "definition",
    "unit",
    "data_source",
    "frequency",
    "means_of_verification",
    "baseline_value",
    "baseline_year",
)
# What a capacity indicator takes from planning, never from a person.
CAPACITY_READ_ONLY = ("baseline_value", "baseline_year", "kind", "technical_area")
VALUE_DIGITS, VALUE_PLACES = 18, 4
MAX_VALUE = Decimal(10) ** (VALUE_DIGITS - VALUE_PLACES) - 1


def _add(errors: dict[str, list[str]], name: str, message: str | Iterable[str]) -> None:
    errors.setdefault(name, []).extend([message] if isinstance(message, str) else message)


def value_parse(value: Any, *, label: str) -> Decimal:
    """A measured value or a target as a Decimal (never through float): a Decimal, an int, or text with a point
    (a form's localized input arrives as a Decimal already). ValueError with a message naming `label`."""
    if isinstance(value, bool):
        raise ValueError(gettext("%(label)s: enter a number.") % {"label": label})
    if isinstance(value, float):
        value = repr(value)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(
            gettext("%(label)s: “%(value)s” is not a number.") % {"label": label, "value": value}
        ) from None
    if not number.is_finite():
        raise ValueError(gettext("%(label)s: enter a number.") % {"label": label})
    if abs(number) > MAX_VALUE:
        raise ValueError(gettext("%(label)s: %(value)s is too large.") % {"label": label, "value": value})
    if number != number.quantize(Decimal(1).scaleb(-VALUE_PLACES)):
        raise ValueError(gettext("%(label)s: at most %(places)d decimals.") % {"label": label, "places": VALUE_PLACES})
    return number


def indicator_prepare(
    indicator: MEIndicator,
    *,
    fields: Mapping[str, Any],
    activities: Sequence[Activity],
    targets: Mapping[int, Any] | None,
) -> tuple[list[Activity], dict[int, Decimal] | None]:
    """Apply `fields` to an unsaved copy of an indicator and check it whole against its plan. Raises one
    ValidationError with every problem by field (targets under "targets"); returns the activities without
    repeats and the targets as Decimals by year (None: unchanged)."""
    unknown = set(fields) - set(INDICATOR_FIELDS)
    if unknown:
        raise TypeError(f"M&E indicators have no editable field {', '.join(sorted(unknown))}")
    plan = indicator.plan
    errors: dict[str, list[str]] = {}
    capacity = indicator.kind == MEIndicator.Kind.CAPACITY and indicator.pk is not None
    for name, value in fields.items():
        if capacity and name in CAPACITY_READ_ONLY and value != getattr(indicator, name):
            _add(
                errors,
                name,
                gettext(
                    "A capacity indicator's baseline, target, type and area come from the plan's assessments and "
                    "targets; they cannot be typed."
                ),
            )
            continue
        setattr(indicator, name, value)
    if not capacity and indicator.kind == MEIndicator.Kind.CAPACITY:
        _add(
            errors,
            "kind",
            gettext("Capacity indicators are added from the plan's framework (“Add the plan's capacity indicators”)."),
        )
    indicator.code = (indicator.code or "").strip()
    indicator.name = (indicator.name or "").strip()

    if indicator.baseline_value is not None and not isinstance(indicator.baseline_value, Decimal):
        try:
            indicator.baseline_value = value_parse(indicator.baseline_value, label=gettext("Baseline value"))
        except ValueError as error:
            _add(errors, "baseline_value", str(error))
    year = indicator.baseline_year
    if year is not None and not capacity:
        if year > plan.first_year:
            _add(
                errors,
                "baseline_year",
                gettext("The baseline year (%(year)s) comes after the plan's first year (%(first)s).")
                % {"year": year, "first": plan.first_year},
            )
        elif year < MIN_YEAR:
            _add(errors, "baseline_year", gettext("%(year)s is too long ago for a baseline.") % {"year": year})
    if not capacity and (indicator.baseline_value is None) != (year is None) and "baseline_value" not in errors:
        _add(
            errors,
            "baseline_year" if year is None else "baseline_value",
            gettext("A baseline has a value and the year it was measured: give both or neither."),
        )

    try:
        indicator.full_clean(exclude=["plan", "baseline_value", "baseline_year"], validate_constraints=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            if name not in errors:
                _add(errors, name, messages)
    if indicator.code and "code" not in errors:
        taken = MEIndicator.objects.filter(plan=plan, code__iexact=indicator.code).exclude(pk=indicator.pk)
        if taken.exists():
            _add(
                errors,
                "code",
                gettext("The plan already has an indicator with the code %(code)s.") % {"code": indicator.code},
            )

    area = indicator.technical_area if indicator.technical_area_id else None
    if area is not None and area.framework_id != plan.framework_id:
        _add(
            errors,
            "technical_area",
            gettext("%(area)s is not a technical area of this plan's framework.") % {"area": area},
        )
    chosen = list({activity.pk: activity for activity in activities}.values())
    foreign = [activity.pk for activity in chosen if activity.plan_id != plan.pk]
    if foreign:
        _add(
            errors,
            "activities",
            ngettext(
                "Activity %(ids)s belongs to another plan.", "Activities %(ids)s belong to another plan.", len(foreign)
            )
            % {"ids": ", ".join(map(str, foreign))},
        )

    cleaned: dict[int, Decimal] | None = None
    if targets is not None:
        if capacity and targets:
            _add(
                errors,
                "targets",
                gettext("A capacity indicator's targets are the plan's targets; they cannot be typed."),
            )
        cleaned = {}
        for key, raw in targets.items():
            try:
                target_year = int(key)
            except (TypeError, ValueError):
                _add(errors, "targets", gettext("“%(year)s” is not a year.") % {"year": key})
                continue
            if not plan.first_year <= target_year <= plan.last_year:
                _add(
                    errors,
                    "targets",
                    gettext("%(year)s lies outside the plan's years (%(period)s).")
                    % {"year": target_year, "period": plan.period},
                )
                continue
            if raw is None or raw == "":
                continue
            try:
                cleaned[target_year] = value_parse(raw, label=gettext("Target for %(year)s") % {"year": target_year})
            except ValueError as error:
                _add(errors, "targets", str(error))
    if errors:
        raise ValidationError(errors)
    return chosen, cleaned


def _activities_json(activities: Iterable[Activity]) -> list[str]:
    return sorted(f"{activity.pk}: {activity.title}" for activity in activities)


def _targets_json(targets: Mapping[int, Decimal]) -> dict[str, str]:
    return {str(year): str(value) for year, value in sorted(targets.items())}


def _targets_write(indicator: MEIndicator, targets: Mapping[int, Decimal]) -> dict[str, list[Any]]:
    """Make the indicator's targets exactly `targets`; what changed, for the audit."""
    current = {target.year: target for target in MEIndicatorTarget.objects.filter(indicator=indicator)}
    before = {year: target.value for year, target in current.items()}
    if before == dict(targets):
        return {}
    MEIndicatorTarget.objects.filter(indicator=indicator).exclude(year__in=list(targets)).delete()
    for year, value in targets.items():
        if year in current:
            if current[year].value != value:
                MEIndicatorTarget.objects.filter(pk=current[year].pk).update(value=value)
        else:
            MEIndicatorTarget.objects.create(indicator=indicator, year=year, value=value)
    return {"targets": [_targets_json(before), _targets_json(targets)]}


@transaction.atomic
def me_indicator_create(
    *,
    plan: Plan,
    by: User,
    fields: Mapping[str, Any],
    activities: Sequence[Activity] = (),
    targets: Mapping[int, Any] | None = None,
) -> MEIndicator:
    """Add an indicator of the plan's own (output, outcome or impact), with a target per year of the plan."""
    indicator = MEIndicator(plan=plan)
    chosen, cleaned = indicator_prepare(indicator, fields=fields, activities=activities, targets=targets or {})
    indicator.save()
    indicator.activities.set(chosen)
    _targets_write(indicator, cleaned or {})
    audit_record(
        plan=plan,
        by=by,
        action="created",
        target=indicator,
        changes={
            **{name: str(getattr(indicator, name)) for name in ("code", "name", "kind")},
            "activities": _activities_json(chosen),
            "targets": _targets_json(cleaned or {}),
        },
    )
    monitoring_changed(plan.pk)
    return indicator


@transaction.atomic
def me_indicator_update(
    *,
    indicator: MEIndicator,
    by: User,
    version: int,
    fields: Mapping[str, Any],
    activities: Sequence[Activity] | None = None,
    targets: Mapping[int, Any] | None = None,
) -> MEIndicator:
    """Change an indicator as the person last saw it (`version`): EditConflict when someone saved it since.
    `activities` or `targets` None keeps them; a list or a mapping replaces them whole (all the years at once)."""
    current = list(indicator.activities.all())
    candidate = copy.copy(indicator)
    chosen, cleaned = indicator_prepare(
        candidate, fields=fields, activities=current if activities is None else activities, targets=targets
    )
    saved = {name: getattr(candidate, name) for name in INDICATOR_FIELDS}
    changes = versioned_update(indicator, version=version, fields=saved)
    if {activity.pk for activity in chosen} != {activity.pk for activity in current}:
        indicator.activities.set(chosen)
        changes["activities"] = [_activities_json(current), _activities_json(chosen)]
    if cleaned is not None:
        changes.update(_targets_write(indicator, cleaned))
    if changes:
        audit_record(plan=indicator.plan, by=by, action="edited", target=indicator, changes=changes)
        monitoring_changed(indicator.plan_id)
    return indicator


@transaction.atomic
def me_indicator_delete(*, indicator: MEIndicator, by: User, version: int | None) -> None:
    """Remove an indicator with its targets and actuals; with `version`, only if nobody changed it since."""
    if version is not None and not MEIndicator.objects.filter(pk=indicator.pk, version=version).exists():
        raise EditConflict(indicator)
    audit_record(
        plan=indicator.plan,
        by=by,
        action="deleted",
        target=indicator,
        changes={"code": indicator.code, "name": indicator.name, "actuals": indicator.actuals.count()},
    )
    plan_id = indicator.plan_id
    indicator.delete()
    monitoring_changed(plan_id)


@transaction.atomic
def capacity_indicators_add(*, plan: Plan, by: User) -> list[MEIndicator]:
    """One capacity indicator per indicator of the plan's framework that has a target in the plan, named and
    coded as the framework does; those already in the results framework are left as they are, so asking twice
    adds nothing. A code some other indicator of the plan took gets a suffix. Returns those added."""
    row_lock(plan)  # two clicks at once add each indicator once
    present = set(
        MEIndicator.objects.filter(plan=plan, capacity_indicator__isnull=False).values_list(
            "capacity_indicator_id", flat=True
        )
    )
    codes = {code.casefold() for code in MEIndicator.objects.filter(plan=plan).values_list("code", flat=True)}
    added: list[MEIndicator] = []
    wanted = (
        IndicatorTarget.objects.filter(plan=plan, indicator__framework_id=plan.framework_id or 0)
        .exclude(indicator_id__in=present)
        .select_related("indicator__technical_area")
        .order_by("indicator__order", "indicator__code")
    )
    for target in wanted:
        source = target.indicator
        code, number = source.code, 1
        while code.casefold() in codes:
            number += 1
            code = f"{source.code}-{number}"
        codes.add(code.casefold())
        added.append(
            MEIndicator(
                plan=plan,
                code=code[:30],
                name=source.local_name[:300],
                kind=MEIndicator.Kind.CAPACITY,
                capacity_indicator=source,
                technical_area=source.technical_area,
                unit=gettext("capacity level (1 to 5)")[:60],
                data_source=gettext("JEE/SPAR assessment")[:300],
                frequency=MEIndicator.Frequency.ANNUAL,
            )
        )
    if added:
        MEIndicator.objects.bulk_create(added)
        audit_record(
            plan=plan,
            by=by,
            action="created",
            target=added[0],
            changes={"capacity indicators": [indicator.code for indicator in added]},
        )
        monitoring_changed(plan.pk)
    return added


# --- Actuals ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActualEntry:
    """One indicator's value for one period, as a grid row, the API or a spreadsheet row gives it: `value` None
    removes what was entered; `version` the actual's version as the person saw it (0: none), None for an import
    (which compares values, so the same file twice changes nothing)."""

    indicator: MEIndicator
    value: Any
    note: str = ""
    version: int | None = None
    where: str = ""  # for messages: the row of a file; the indicator's code otherwise


def _entry_check(entry: ActualEntry, *, plan: Plan) -> Decimal | None:
    indicator = entry.indicator
    if indicator.plan_id != plan.pk:
        raise ValueError(gettext("Indicator %(code)s belongs to another plan.") % {"code": indicator.code})
    if indicator.kind == MEIndicator.Kind.CAPACITY:
        raise ValueError(
            gettext("%(code)s is a capacity indicator: its actual is the latest assessment's level, not typed.")
            % {"code": indicator.code}
        )
    if entry.value is None or (isinstance(entry.value, str) and not entry.value.strip()):
        return None
    return value_parse(entry.value, label=indicator.code)


@transaction.atomic
def indicator_actuals_save(
    *, plan: Plan, period: ReportingPeriod, by: User, entries: Sequence[ActualEntry]
) -> dict[str, int]:
    """Save the period's values of several indicators at once, all or nothing: ValidationError keyed by indicator
    code for values that are wrong, EditConflict naming the indicators someone else changed since (nothing saved).
    Returns counts of "added", "changed", "removed"."""
    if period.plan_id != plan.pk:
        raise ValidationError(gettext("This reporting period belongs to another plan."), code="period_of_other_plan")
    errors: dict[str, list[str]] = {}
    checked: list[tuple[ActualEntry, Decimal | None]] = []
    for entry in entries:
        try:
            checked.append((entry, _entry_check(entry, plan=plan)))
        except ValueError as error:
            _add(errors, entry.indicator.code, f"{entry.where}{error!s}" if entry.where else str(error))
        if len(entry.note) > 5000:
            _add(
                errors,
                entry.indicator.code,
                gettext("%(code)s: a note holds 5,000 characters at most.") % {"code": entry.indicator.code},
            )
    if errors:
        raise ValidationError(errors)
    existing = {
        actual.indicator_id: actual
        for actual in MEIndicatorActual.objects.select_for_update().filter(
            period=period, indicator_id__in=[entry.indicator.pk for entry, _value in checked]
        )
    }
    stale = [
        entry.indicator.code
        for entry, _value in checked
        if entry.version is not None
        and entry.version != (existing[entry.indicator.pk].version if entry.indicator.pk in existing else 0)
    ]
    if stale:
        first = next(entry for entry, _value in checked if entry.indicator.code == stale[0])
        instance = existing.get(first.indicator.pk) or MEIndicatorActual(indicator=first.indicator, period=period)
        raise EditConflict(
            instance,
            gettext(
                "Someone else changed the %(period)s values of %(codes)s after you opened them: nothing was saved. "
                "Reload to see their values, then try again."
            )
            % {"period": period.label, "codes": ", ".join(stale)},
            names=stale,
        )
    counts = {"added": 0, "changed": 0, "removed": 0}
    for entry, value in checked:
        current = existing.get(entry.indicator.pk)
        note = entry.note.strip()
        if value is None:
            if current is not None:
                audit_record(
                    plan=plan,
                    by=by,
                    action="deleted",
                    target=current,
                    changes={"value": str(current.value)},
                    area_id=entry.indicator.technical_area_id,
                )
                current.delete()
                counts["removed"] += 1
            continue
        if current is not None and current.value == value and current.note == note:
            continue
        actual, changes = versioned_save(
            MEIndicatorActual,
            key={"indicator": entry.indicator, "period": period},
            version=current.version if current is not None else 0,
            fields={"value": value, "note": note, "entered_by": by},
        )
        changes.pop("entered_by", None)
        counts["changed" if current is not None else "added"] += 1
        audit_record(
            plan=plan,
            by=by,
            action="edited" if current is not None else "created",
            target=actual,
            changes=changes,
            area_id=entry.indicator.technical_area_id,
        )
    if any(counts.values()):
        monitoring_changed(plan.pk)
    return counts


# --- Import from a spreadsheet ----------------------------------------------------------------------------------

IMPORT_COLUMNS = ("code", "period", "value", "note")


def import_headings() -> list[str]:
    """The template's headings in the reader's language."""
    return [gettext("Indicator code"), gettext("Period (name or first day)"), gettext("Value"), gettext("Note")]


def _heading_key(value: Any) -> str:
    words = in_every_language(
        "me_actuals_headings",
        lambda: [
            *zip(import_headings(), IMPORT_COLUMNS, strict=True),
            (gettext("Indicator"), "code"),
            (gettext("Code"), "code"),
            (gettext("Period"), "period"),
            (gettext("Reporting period"), "period"),
        ],
    )
    return words.get(heading_text(value), heading_text(value))


def _period_of(value: Any, periods: Sequence[ReportingPeriod]) -> ReportingPeriod | None:
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return next((period for period in periods if period.starts_on == value), None)
    text = cell_text(value)
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        folded = heading_text(text)
        return next((period for period in periods if heading_text(period.label) == folded), None)
    return next((period for period in periods if period.starts_on == day), None)


def indicator_actuals_import(
    *, plan: Plan, by: User, upload: IO[bytes], filename: str, membership: PlanMembership | None = None
) -> dict[str, int]:
    """Import actuals from a sheet of rows (indicator code, period's name or first day, value, note) under a header
    in the person's language or English. Every problem is located (sheet, row, column) and nothing is saved
    unless the whole sheet is sound (ImportRefused); the same file twice changes nothing. With `membership`, a row of
    an indicator the member does not write (a technical lead's other areas) is refused. The caller's transaction
    holds it all."""
    writable = None if membership is None else indicator_area_ids_writable_by(membership)
    sheets = read_spreadsheet(upload, name=filename, limits="me_actuals")
    sheet: Sheet | None = next(
        (sheet for sheet in sheets if any(any(cell_text(v) for v in row) for row in sheet.rows)), None
    )
    if sheet is None:
        raise ImportRefused([gettext("The file has no rows to import.")])
    header = find_header(sheet, required=IMPORT_COLUMNS[:3], key=_heading_key)
    if header is None or not all(name in header[1] for name in IMPORT_COLUMNS[:3]):
        names = ", ".join(f"“{heading}”" for heading in import_headings()[:3])
        raise ImportRefused(
            [sheet.problem(gettext("No header row with the columns %(names)s.") % {"names": names}, row=1)]
        )
    start, columns = header
    indicators = {
        indicator.code.casefold(): indicator for indicator in MEIndicator.objects.filter(plan=plan).order_by("pk")
    }
    periods = list(ReportingPeriod.objects.filter(plan=plan).order_by("starts_on"))
    problems: list[Problem] = []
    by_period: dict[int, list[ActualEntry]] = {}
    period_of: dict[int, ReportingPeriod] = {}
    seen: dict[tuple[int, int], int] = {}

    def cell(row: list[Any], name: str) -> Any:
        position = columns.get(name)
        return row[position] if position is not None and position < len(row) else None

    for index in range(start + 1, len(sheet.rows)):
        row, number = sheet.rows[index], index + 1
        if not any(cell_text(value) for value in row):
            continue
        code = cell_text(cell(row, "code"))
        indicator = indicators.get(code.casefold()) if code else None
        if indicator is None:
            message = (
                gettext("“%(code)s” is not an indicator of this plan.") % {"code": code}
                if code
                else gettext("no indicator code.")
            )
            problems.append(sheet.problem(message, row=number, column=columns["code"] + 1))
        elif indicator.kind == MEIndicator.Kind.CAPACITY:
            problems.append(
                sheet.problem(
                    gettext("%(code)s is a capacity indicator: its actual is the latest assessment's level, not typed.")
                    % {"code": indicator.code},
                    row=number,
                    column=columns["code"] + 1,
                )
            )
            indicator = None
        elif writable is not None and indicator.technical_area_id not in writable:
            problems.append(
                sheet.problem(
                    gettext("%(code)s is not an indicator of your technical areas: you do not enter its values.")
                    % {"code": indicator.code},
                    row=number,
                    column=columns["code"] + 1,
                )
            )
            indicator = None
        raw_period = cell(row, "period")
        period = _period_of(raw_period, periods)
        if period is None:
            problems.append(
                sheet.problem(
                    gettext("“%(period)s” is not a reporting period of this plan (its name or first day).")
                    % {"period": cell_text(raw_period)},
                    row=number,
                    column=columns["period"] + 1,
                )
            )
        raw_value = cell(row, "value")
        value: Decimal | None = None
        if not cell_text(raw_value):
            problems.append(sheet.problem(gettext("no value."), row=number, column=columns["value"] + 1))
        else:
            try:
                value = value_parse(raw_value, label=gettext("Value"))
            except ValueError as error:
                problems.append(sheet.problem(str(error), row=number, column=columns["value"] + 1))
        note = cell_text(cell(row, "note"))
        if len(note) > 5000 and "note" in columns:
            problems.append(
                sheet.problem(gettext("a note holds 5,000 characters at most."), row=number, column=columns["note"] + 1)
            )
        if indicator is None or period is None or value is None:
            continue
        if (indicator.pk, period.pk) in seen:
            problems.append(
                sheet.problem(
                    gettext("%(code)s already has a value for %(period)s in row %(row)d.")
                    % {"code": indicator.code, "period": period.label, "row": seen[indicator.pk, period.pk]},
                    row=number,
                    column=columns["code"] + 1,
                )
            )
            continue
        seen[indicator.pk, period.pk] = number
        period_of[period.pk] = period
        by_period.setdefault(period.pk, []).append(ActualEntry(indicator=indicator, value=value, note=note))
    if problems:
        raise ImportRefused(problems)
    if not by_period:
        raise ImportRefused([sheet.problem(gettext("no values found under the header."), row=start + 1)])
    counts = {"added": 0, "changed": 0, "removed": 0}
    for period_id, entries in by_period.items():
        done = indicator_actuals_save(plan=plan, period=period_of[period_id], by=by, entries=entries)
        for key, count in done.items():
            counts[key] += count
    return counts
