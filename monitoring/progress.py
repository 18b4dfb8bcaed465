"""Progress reports: the one way a report on an activity for a period is checked and saved, whether it comes from a
page, the API or the progress workbook.

`progress_clean` checks one report's values and says what is wrong field by field; `progress_save` saves one
report as the person last saw it (a stale report is refused as a conflict, never merged), records it in the audit
trail and says the plan's monitoring aggregates moved. Reports are taken while their period is open only; the
period's row is held while a report is saved, so a period being closed waits for the reports under way and every
report after it is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from costing.models import MAX_AMOUNT
from costing.services import CENT, Rates
from monitoring import aggregates
from monitoring.models import ProgressStatus, ProgressUpdate, ReportingPeriod
from naphs.services import audit_record, versioned_save

if TYPE_CHECKING:
    from planning.models import Activity
    from stakeholders.models import User

# What a report is made of, as a page, the API or a workbook row gives it.
REPORT_FIELDS = ("status", "percent_complete", "amount_spent", "currency", "narrative", "blockers")


@dataclass(frozen=True)
class Report:
    """One report's values, as typed: `amount_spent` None when nothing was spent or said."""

    status: str
    percent_complete: int
    amount_spent: Decimal | None = None
    currency: str = ""
    narrative: str = ""
    blockers: str = ""


def period_open_check(period: ReportingPeriod) -> None:
    """ValidationError unless reports are taken for the period now."""
    if period.state == ReportingPeriod.State.PLANNED:
        raise ValidationError(
            gettext("The reporting period %(period)s is not open yet: the secretariat opens it."),
            code="period_not_open",
            params={"period": period.label},
        )
    if period.state == ReportingPeriod.State.CLOSED:
        raise ValidationError(
            gettext("The reporting period %(period)s is closed: reports for it are no longer taken."),
            code="period_closed",
            params={"period": period.label},
        )


def progress_clean(report: Report, *, period: ReportingPeriod, rates: Rates) -> dict[str, Any]:
    """The report's fields as stored, with the amount converted to the base currency at the rate of the period's
    year. ValidationError naming each field that is wrong; nothing is written."""
    errors: dict[str, list[str]] = {}
    if report.status not in ProgressStatus.values:
        errors.setdefault("status", []).append(
            gettext("“%(value)s” is not a status; choose one of: %(choices)s.")
            % {"value": report.status, "choices": ", ".join(str(label) for label in ProgressStatus.labels)}
        )
    percent = report.percent_complete
    if not 0 <= percent <= 100:
        errors.setdefault("percent_complete", []).append(gettext("Percent complete is a whole number from 0 to 100."))
    elif report.status == ProgressStatus.COMPLETED and percent != 100:
        # xgettext:no-python-format
        errors.setdefault("percent_complete", []).append(gettext("A completed activity is 100% complete."))
    amount, currency = report.amount_spent, report.currency.strip().upper()
    base_amount: Decimal | None = None
    if amount is not None:
        if amount < 0:
            errors.setdefault("amount_spent", []).append(gettext("An amount spent cannot be negative."))
        elif amount > MAX_AMOUNT:
            errors.setdefault("amount_spent", []).append(gettext("This amount is too large to be an amount spent."))
        elif amount != amount.quantize(CENT):
            errors.setdefault("amount_spent", []).append(gettext("An amount has at most two decimal places."))
        currency = currency or rates.base
        year = period.ends_on.year
        if not rates.has(currency, year):
            try:
                rates.rate(currency, year)
            except ValidationError as missing:
                errors.setdefault("currency", []).extend(missing.messages)
        elif "amount_spent" not in errors:
            base_amount = (amount * rates.rate(currency, year)).quantize(CENT, rounding=ROUND_HALF_UP)
    elif currency:
        currency = ""  # a currency without an amount says nothing
    if errors:
        raise ValidationError(errors)
    return {
        "status": report.status,
        "percent_complete": percent,
        "amount_spent": amount,
        "currency": currency,
        "amount_spent_base": base_amount,
        "narrative": report.narrative.strip(),
        "blockers": report.blockers.strip(),
    }


def _period_hold(period: ReportingPeriod) -> ReportingPeriod:
    """Read the period's state again, holding its row until the transaction ends: closing it takes the row for
    update, so it waits for the reports under way (reports on one period take turns on the row, briefly)."""
    held = ReportingPeriod.objects.select_for_update(no_key=True).filter(pk=period.pk).first()
    if held is None:
        raise ValidationError(gettext("This reporting period has been removed."), code="period_removed")
    return held


@transaction.atomic
def progress_save(
    *,
    activity: Activity,
    period: ReportingPeriod,
    by: User,
    version: int | None,
    report: Report,
    rates: Rates | None = None,
) -> tuple[ProgressUpdate, dict[str, list[Any]]]:
    """Save one report on `activity` for `period`, as the person last saw it: `version` 0 when they saw no report
    yet, the report's version otherwise (None only for the product's own loads). The caller has checked that the
    person may report on the activity. Raises ValidationError (what and where) or EditConflict; nothing is saved
    then. Returns the report and what changed."""
    plan = activity.plan
    if period.plan_id != plan.pk:
        raise ValidationError(gettext("This reporting period belongs to another plan."), code="period_of_other_plan")
    held = _period_hold(period)
    period_open_check(held)
    fields = progress_clean(report, period=held, rates=rates or Rates.for_plan(plan))
    update, changes = versioned_save(
        ProgressUpdate,
        key={"activity": activity, "period": held},
        version=version,
        fields={"plan": plan, **fields, "reported_by": by},
    )
    changes.pop("reported_by", None)
    changes.pop("plan", None)
    if changes:
        audit_record(
            plan=plan,
            by=by,
            action="created" if version == 0 else "changed",
            target=update,
            changes=changes,
            area_id=activity.technical_area_id,
        )
        aggregates.monitoring_changed(plan.pk)
    return update, changes


def report_from(values: Mapping[str, Any]) -> Report:
    """A Report from cleaned form or serializer data (missing optional fields blank)."""
    return Report(
        status=values["status"],
        percent_complete=values["percent_complete"],
        amount_spent=values.get("amount_spent"),
        currency=values.get("currency") or "",
        narrative=values.get("narrative") or "",
        blockers=values.get("blockers") or "",
    )
