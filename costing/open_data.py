"""A costed plan as open data: CSV files and JSON in a zip, described by a published Frictionless Data package.

A background job (`plan_open_data_export`) writes, for publication, what researchers and donors read of a plan
without retyping its PDF: activities.csv (each activity with its indicators, organizations and dates),
costs.csv (the activities' cost per year and category), funding.csv (each commitment's share of each year),
gaps.csv (cost, firm funding and gap per technical area and year), plan.json (the plan's metadata) and
datapackage.json, the Frictionless Data package (https://specs.frictionlessdata.io/) that documents every file
and column: the schema shipped beside this module (open_data_schema.json), with its `schema_version`, named
after the plan.

The files are the same whoever asks and in whatever language: UTF-8, comma-separated with a header row, dates as
year-month-day, numbers with a decimal point and no grouping, choices as their codes, true or false. They name
organizations, never people: no e-mail address, no person's name (who endorsed, who entered, free-text notes and
comments are left out).

The rows come from the current draft's content as the whole-plan workbook reads it (costing.plan_workbook
`plan_content_read`) and the gap as the funding page computes it (costing.versions `plan_gap_rows`), in a fixed
number of queries whatever the plan's size; or from a stored version (the endorsed one is what a ministry
publishes), its content and gap as the version holds them (costing.versions `StoredVersion`), in the same files
and columns, plan.json saying which version it is and whether it is an endorsed one. A version keeps no exchange
rates: its commitments' amounts in the base currency are converted at the plan's rates as they are now.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext

from costing.models import FundingCommitment
from costing.plan_workbook import PlanContent, plan_content_read
from costing.rollups import commitment_shares
from costing.services import CENT, Rates, plan_costing_get
from costing.versions import StoredVersion, plan_gap_rows
from naphs.jobs import JobFailed, JobResult, Progress, file_slug
from planning.models import Endorsement, PlanVersion

if TYPE_CHECKING:
    from naphs.models import Job
    from planning.models import Plan

SCHEMA_PATH = Path(__file__).with_name("open_data_schema.json")
ZERO = Decimal("0")


@cache
def _schema_text() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")


def open_data_schema() -> dict[str, Any]:
    """The published package descriptor (a fresh copy: the caller may fill it in)."""
    return json.loads(_schema_text())


def schema_version() -> str:
    return str(open_data_schema()["schema_version"])


def csv_fields(schema: Mapping[str, Any]) -> dict[str, list[str]]:
    """{file name: its columns, in order} for the package's CSV resources."""
    return {
        resource["path"]: [column["name"] for column in resource["schema"]["fields"]]
        for resource in schema["resources"]
        if resource.get("format") == "csv"
    }


def _text(value: Any) -> str:
    """A cell, locale-free: a number with a decimal point and no grouping, true or false, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _csv(columns: list[str], rows: Iterable[Mapping[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_text(row.get(column)) for column in columns])
    return out.getvalue().encode("utf-8")


def _costs(content: PlanContent) -> list[dict[str, Any]]:
    """Each activity's cost per year, category and optional or not, summed over its lines; years without cost
    are left out."""
    totals: dict[tuple[int, int, str, bool], Decimal] = defaultdict(Decimal)
    order = {activity["id"]: index for index, activity in enumerate(content.activities)}
    for line in content.cost_lines:
        for year, amount in line["amounts"].items():
            if amount:
                totals[(line["activity"], year, line["category"], bool(line["optional"]))] += amount
    return [
        {"activity_id": activity, "year": year, "category": category, "amount": amount, "optional": optional}
        for (activity, year, category, optional), amount in sorted(
            totals.items(), key=lambda item: (order.get(item[0][0], 0), item[0][1], item[0][2], item[0][3])
        )
    ]


def _funding(content: PlanContent, rates: Rates) -> Iterator[dict[str, Any]]:
    """Each commitment's share of each of its years, in its currency and in the base currency when the plan has
    the rate (costing.rollups.commitment_shares: the split the gap counts)."""
    for row in content.funding:
        commitment = FundingCommitment(
            amount=row["amount"], currency=row["currency"], first_year=row["first_year"], last_year=row["last_year"]
        )
        for year, amount in commitment_shares(commitment).items():
            try:
                base: Decimal | None = (amount * rates.rate(row["currency"], year)).quantize(
                    CENT, rounding=ROUND_HALF_UP
                )
            except ValidationError:
                base = None
            yield {
                "commitment_id": row["id"],
                "source_organization": row["source_organization"],
                "source_kind": row["source_kind"],
                "status": row["status"],
                "year": year,
                "amount": amount,
                "currency": row["currency"],
                "amount_base": base,
                "first_year": row["first_year"],
                "last_year": row["last_year"],
                "technical_area": row["technical_area"],
                "activity_ids": row["activities"],
            }


def _gaps(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        required, funded = row["required"].quantize(CENT), row["funded"].quantize(CENT)
        if required or funded:
            yield {"technical_area": row["technical_area"], "year": row["year"], "required": required,
                   "funded": funded, "gap": required - funded}  # fmt: skip


def _plan_metadata(
    plan: Plan, version: PlanVersion | None, currency: str, price_year: int, written: datetime
) -> dict[str, Any]:
    """plan.json: what the plan is, and which of its versions the files hold (None: the current draft), with no
    person named (the endorsement's number and date, not who recorded it). The endorsement is the current draft's
    when the plan is endorsed, or the stored version's when it is an endorsed one."""
    endorsements: QuerySet[Endorsement] | None = None
    if version is not None and version.kind == PlanVersion.Kind.ENDORSED:
        endorsements = Endorsement.objects.filter(plan_id=plan.pk, plan_version_id=version.pk)
    elif version is None and plan.is_frozen:
        endorsements = Endorsement.objects.filter(plan_id=plan.pk, number=plan.edition)
    found = endorsements.values("number", "endorsed_on").first() if endorsements is not None else None
    endorsement = None
    if found is not None:
        endorsement = {"version": found["number"], "endorsed_on": found["endorsed_on"].isoformat()}
    stored = None
    if version is not None:
        stored = {
            "id": version.pk,
            "label": version.label,
            "kind": version.kind,
            "draft_number": version.edition,
            "saved_at": version.created_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "endorsed": endorsement is not None,
        }
    framework = plan.framework
    jurisdiction = plan.jurisdiction
    return {
        "schema_version": schema_version(),
        "plan": {
            "id": plan.pk,
            "title": plan.title,
            "kind": plan.kind,
            "jurisdiction": {"code": jurisdiction.code, "name": jurisdiction.name, "level": jurisdiction.level},
            "first_year": plan.first_year,
            "last_year": plan.last_year,
            "status": plan.status,
            "endorsement": endorsement,
            "version": stored,
            "base_currency": currency,
            "price_year": price_year,
            "framework": {"code": framework.code, "name": framework.name} if framework is not None else None,
        },
        "generated_at": written.isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


def plan_open_data_build(*, plan: Plan, version: PlanVersion | None = None, progress: Progress | None = None) -> bytes:
    """The zip of the plan's current draft as open data, or of its stored `version` (one of this plan's); see the
    module docstring. A fixed number of queries."""
    report = progress or (lambda percent, message: None)
    report(5, gettext("Reading the plan"))
    if version is None:
        content = plan_content_read(plan)
        currency, gap_rows = plan_gap_rows(plan, content)
    else:
        if version.plan_id != plan.pk:
            raise ValueError("The version is not one of this plan's.")
        content = StoredVersion(version).content()
        currency, gap_rows = content.currency, content.by_area_year
    costing = plan_costing_get(plan)
    rates = Rates(costing)
    written = datetime.now(UTC)
    metadata = _plan_metadata(plan, version, currency, costing.price_year, written)

    package = open_data_schema()
    package["name"] = f"naphs-{file_slug(plan.jurisdiction.code or plan.jurisdiction.name)}-{plan.pk}"
    package["title"] = plan.title
    package["created"] = metadata["generated_at"]
    columns = csv_fields(package)
    report(40, gettext("Writing the files"))
    files = {
        "activities.csv": _csv(columns["activities.csv"], content.activities),
        "costs.csv": _csv(columns["costs.csv"], _costs(content)),
        "funding.csv": _csv(columns["funding.csv"], _funding(content, rates)),
        "gaps.csv": _csv(columns["gaps.csv"], _gaps(gap_rows)),
        "plan.json": json.dumps(metadata, indent=2, ensure_ascii=False).encode("utf-8"),
        "datapackage.json": json.dumps(package, indent=2, ensure_ascii=False).encode("utf-8"),
    }
    report(90, gettext("Packing the files"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def plan_open_data_export(*, job: Job, progress: Progress) -> JobResult:
    """The job: the plan's current draft as open data, a zip; or a stored version of it (`version` in the params,
    the id of a version of the job's plan)."""
    plan = job.plan
    if plan is None:
        raise JobFailed(gettext("This export belongs to a plan, and the job has none."))
    version_id = job.params.get("version")
    if version_id is None:
        return JobResult(
            filename=f"{file_slug(plan.title)}-open-data.zip",
            content=plan_open_data_build(plan=plan, progress=progress),
        )
    version = PlanVersion.objects.filter(plan=plan, pk=version_id).first()
    if version is None:
        raise JobFailed(gettext("The version of the plan this export was asked for is not one of its versions."))
    try:
        content = plan_open_data_build(plan=plan, version=version, progress=progress)
    except ValueError as error:  # a version stored in a shape this release cannot read
        raise JobFailed(gettext("This version of the plan cannot be read by this release.")) from error
    return JobResult(filename=f"{file_slug(plan.title)}-open-data-{file_slug(version.label)}.zip", content=content)
