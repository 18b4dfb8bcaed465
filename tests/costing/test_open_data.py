"""The plan as open data: a zip of CSV files, plan.json and a Frictionless Data package describing them, the same
whatever the requester's language, naming no person, started by any member from the pages or the API, in as many
queries for a large plan as for a small one."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from costing.job_kinds import CostingJob
from costing.models import CostCategory, FundingCommitment
from costing.open_data import SCHEMA_PATH, csv_fields, plan_open_data_build, plan_open_data_export
from naphs.models import Job
from planning.activities import activity_update
from planning.endorsement import plan_endorse, plan_reopen
from planning.models import Activity, Plan, PlanVersion
from planning.versions import plan_version_save, plan_version_store
from tests.costing.conftest import area
from tests.costing.test_plan_workbook import _grow, whole  # noqa: F401  (whole: a fixture `published` asks for)

pytestmark = pytest.mark.django_db

D = Decimal
FILES = ["activities.csv", "costs.csv", "funding.csv", "gaps.csv", "plan.json", "datapackage.json"]
FRICTIONLESS_TYPES = {"string", "number", "integer", "boolean", "date", "year", "datetime", "object", "array"}


def _valid(field: dict, value: str) -> bool:
    """Whether a cell holds a value of its field's Frictionless type (and of its codes, if it lists them)."""
    constraints = field.get("constraints", {})
    if value == "":
        return not constraints.get("required", False)
    checks = {
        "integer": r"-?[0-9]+",
        "year": r"[0-9]{4}",
        "number": r"-?[0-9]+(\.[0-9]+)?",
        "boolean": r"true|false",
        "date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
    }
    if field["type"] in checks and not re.fullmatch(checks[field["type"]], value):
        return False
    return value in constraints["enum"] if "enum" in constraints else True


def _open(content: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(content))


def _table(archive: zipfile.ZipFile, name: str) -> tuple[list[str], list[dict[str, str]]]:
    text = archive.read(name).decode("utf-8")  # UTF-8, or this raises
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.fixture
def published(request, lead, moa):
    """The whole-plan workbook's plan (its fixture `whole`), with a commitment in euros in a year the plan has no
    rate for, and people with names and addresses that must not travel."""
    plan = request.getfixturevalue("whole")
    FundingCommitment.objects.create(
        plan=plan, source_organization=moa, source_kind="donor", amount=D("900"), currency="EUR",
        first_year=2029, last_year=2030, status="committed", technical_area=area("P1"),
        notes="Call Amina Okafor at amina.okafor@example.org",
    )  # fmt: skip
    lead.first_name, lead.last_name, lead.email = "Amina", "Okafor", "amina.okafor@example.org"
    lead.save()
    return plan


def test_the_api_export_writes_the_files_their_package_describes(
    client, published, people, django_capture_on_commit_callbacks
):
    client.force_login(people["viewer"])  # any member may export

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/plans/{published.pk}/open-data/export/", {}, content_type="application/json")

    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.kind, job.requested_by) == (CostingJob.PLAN_OPEN_DATA, people["viewer"])
    assert job.result_name.endswith("-open-data.zip")
    with job.result.open("rb") as file:
        archive = _open(file.read())
    assert archive.namelist() == FILES

    package = json.loads(archive.read("datapackage.json"))
    shipped = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert package["schema_version"] == shipped["schema_version"]
    assert package["profile"] == "tabular-data-package"
    assert package["resources"] == shipped["resources"]  # the published schema, as the repository ships it
    assert package["title"] == published.title
    paths = [resource["path"] for resource in package["resources"]]
    assert sorted(paths) == sorted(name for name in FILES if name != "datapackage.json")
    for resource in package["resources"]:
        assert resource["name"] and resource["description"], resource["path"]
        if resource["format"] != "csv":
            continue
        fields = resource["schema"]["fields"]
        for field in fields:
            assert field["type"] in FRICTIONLESS_TYPES and field["description"], (resource["path"], field)
        header, rows = _table(archive, resource["path"])
        assert header == [field["name"] for field in fields], resource["path"]  # the CSV is what the schema says
        assert rows, resource["path"]
        for row in rows:
            for field in fields:
                assert _valid(field, row[field["name"]]), (resource["path"], field["name"], row[field["name"]])
        key = resource["schema"]["primaryKey"]
        assert len({tuple(row[name] for name in key) for row in rows}) == len(rows), resource["path"]  # unique
        for foreign in resource["schema"].get("foreignKeys", []):
            assert set(foreign["fields"]) <= set(header)
    plan = json.loads(archive.read("plan.json"))
    assert plan["schema_version"] == shipped["schema_version"]
    assert plan["plan"]["jurisdiction"]["code"] == published.jurisdiction.code
    assert (plan["plan"]["first_year"], plan["plan"]["last_year"], plan["plan"]["status"]) == (2026, 2030, "draft")
    assert (plan["plan"]["base_currency"], plan["plan"]["framework"]["code"]) == ("USD", published.framework.code)
    assert plan["plan"]["endorsement"] is None


def test_the_rows_hold_the_plans_values_without_locale(
    published, people, moa_activity, moh_activity, catalogues_compiled
):
    viewer = people["viewer"]
    viewer.language = "fr"
    viewer.save(update_fields=["language"])
    job = Job.objects.create(kind=CostingJob.PLAN_OPEN_DATA, plan=published, requested_by=viewer, params={})

    with translation.override("fr"):  # as the worker runs the job (naphs.jobs.job_run)
        archive = _open(plan_open_data_export(job=job, progress=lambda percent, message: None).content)
    with translation.override("en"):
        english = _open(plan_open_data_build(plan=published))

    for name in FILES[:4]:
        assert archive.read(name) == english.read(name), name  # the same files whatever the language

    _header, activities = _table(archive, "activities.csv")
    moa_row, moh_row = activities
    assert (moa_row["id"], moa_row["technical_area"], moa_row["title"]) == (
        str(moa_activity.pk), "P1", "Train border veterinarians",
    )  # fmt: skip
    assert (moa_row["priority"], moa_row["status"], moa_row["source"]) == ("high", "planned", "custom")
    assert (moa_row["start_date"], moa_row["end_date"]) == ("2026-03-01", "2027-06-30")
    assert moa_row["responsible_organization"] == "Ministry of Agriculture"
    assert moa_row["supporting_organizations"] == "Ministry of Health"
    assert moa_row["indicators"] == area("P1").indicators.order_by("order").first().code
    assert moh_row["priority"] == ""

    _header, costs = _table(archive, "costs.csv")
    assert [(row["activity_id"], row["year"], row["category"], row["amount"], row["optional"]) for row in costs] == [
        (str(moa_activity.pk), "2026", "meetings", "1500.00", "false"),
        (str(moa_activity.pk), "2027", "meetings", "750.00", "false"),
        (str(moa_activity.pk), "2027", "training", "1000.00", "true"),
        (str(moh_activity.pk), "2026", "equipment", "2200.00", "false"),  # 2 × 1,000 EUR at 1.10
    ]

    _header, funding = _table(archive, "funding.csv")
    shares = [(r["source_kind"], r["status"], r["year"], r["amount"], r["currency"], r["amount_base"]) for r in funding]
    assert shares == [
        ("government", "committed", "2026", "1000.00", "USD", "1000.00"),
        ("government", "pledged", "2026", "300.00", "USD", "300.00"),
        ("government", "pledged", "2027", "300.00", "USD", "300.00"),
        ("donor", "committed", "2029", "450.00", "EUR", ""),  # no rate for 2029: not computable, left empty
        ("donor", "committed", "2030", "450.00", "EUR", ""),
    ]
    assert funding[1]["activity_ids"] == str(moh_activity.pk)
    assert (funding[0]["technical_area"], funding[0]["first_year"], funding[0]["last_year"]) == ("P1", "2026", "2026")

    _header, gaps = _table(archive, "gaps.csv")
    by_cell = {(row["technical_area"], row["year"]): row for row in gaps}
    p1 = by_cell[("P1", "2026")]
    assert (p1["required"], p1["funded"], p1["gap"]) == ("1500.00", "1000.00", "500.00")
    d1 = by_cell[("D1", "2026")]
    assert (d1["required"], d1["funded"], d1["gap"]) == ("2200.00", "0.00", "2200.00")  # a pledge is not funding


def test_every_choice_the_schema_lists_is_the_products(published):
    """The published enumerations are the codes the product stores, so a value in a file is one the schema
    lists."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    enums = {
        (resource["name"], field["name"]): field["constraints"]["enum"]
        for resource in schema["resources"]
        if resource.get("format") == "csv"
        for field in resource["schema"]["fields"]
        if "enum" in field.get("constraints", {})
    }
    assert sorted(enums[("activities", "priority")]) == sorted(Activity.Rating.values)
    assert sorted(enums[("activities", "status")]) == sorted(Activity.Status.values)
    assert sorted(enums[("activities", "source")]) == sorted(Activity.Source.values)
    assert sorted(enums[("costs", "category")]) == sorted(CostCategory.values)
    assert sorted(enums[("funding", "source_kind")]) == sorted(FundingCommitment.SourceKind.values)
    assert sorted(enums[("funding", "status")]) == sorted(FundingCommitment.Status.values)
    assert csv_fields(schema).keys() == {"activities.csv", "costs.csv", "funding.csv", "gaps.csv"}


def test_no_person_is_named(published, people, lead):
    plan_endorse(plan=published, by=lead, endorsed_on=timezone.localdate(), authority="Amina Okafor", confirm=True)
    published = Plan.objects.get(pk=published.pk)

    archive = _open(plan_open_data_build(plan=published))

    text = "\n".join(archive.read(name).decode("utf-8") for name in FILES)
    assert "@" not in text
    for person in people.values():
        for value in (person.email, person.get_full_name(), person.first_name):
            assert value and value not in text, value
    assert "Okafor" not in text and "Amina" not in text  # nor the endorsing authority nor a commitment's notes
    assert "Ministry of Health" in text  # organizations are named
    endorsement = json.loads(archive.read("plan.json"))["plan"]["endorsement"]
    assert endorsement == {"version": 1, "endorsed_on": timezone.localdate().isoformat()}


def test_a_plan_ten_times_larger_takes_as_many_queries(published, lead):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            plan_open_data_build(plan=published)
        return len(queries)

    _grow(published, lead, 5)
    small = count()
    _grow(published, lead, 50)
    assert count() == small
    assert small <= 25


def test_the_buttons_start_the_export_and_the_api_refuses_unknown_fields(client, published, people):
    client.force_login(people["reviewer"])
    for page in (f"/plans/{published.pk}/", f"/plans/{published.pk}/costing/"):
        assert f'hx-post="/plans/{published.pk}/open-data/export/"' in client.get(page).content.decode(), page

    response = client.post(f"/plans/{published.pk}/open-data/export/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert Job.objects.get().kind == CostingJob.PLAN_OPEN_DATA

    response = client.post(
        f"/api/plans/{published.pk}/open-data/export/", {"language": "fr"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "language" in response.json()
    assert Job.objects.count() == 1


def _job_archive(job: Job) -> zipfile.ZipFile:
    assert job.status == Job.Status.SUCCEEDED, job.error
    with job.result.open("rb") as file:
        return _open(file.read())


def test_the_endorsed_version_exports_as_it_was_endorsed_after_the_draft_moved_on(
    client, published, people, lead, moa_activity, django_capture_on_commit_callbacks
):
    """What a ministry publishes: the endorsed version, in the same files and columns as the draft's, whatever
    the draft became since."""
    endorsed_files = _open(plan_open_data_build(plan=published))
    plan_endorse(plan=published, by=lead, endorsed_on=timezone.localdate(), authority="The cabinet", confirm=True)
    published = Plan.objects.get(pk=published.pk)
    plan_reopen(plan=published, by=lead, reason="The annual review")
    moa_activity.refresh_from_db()
    activity_update(activity=moa_activity, by=lead, version=moa_activity.version, title="Renamed since")
    endorsed = PlanVersion.objects.get(plan=published, kind=PlanVersion.Kind.ENDORSED)
    client.force_login(people["viewer"])  # any member may export a version

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/plans/{published.pk}/open-data/export/",
            {"plan_version": endorsed.pk},
            content_type="application/json",
        )

    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert job.params == {"version": endorsed.pk}
    assert "-open-data-" in job.result_name and job.result_name.endswith(".zip")
    archive = _job_archive(job)
    assert archive.namelist() == FILES
    for name in ("activities.csv", "costs.csv", "funding.csv", "gaps.csv"):
        assert archive.read(name) == endorsed_files.read(name), name  # the same rows as when it was endorsed
    assert "Renamed since" not in archive.read("activities.csv").decode()
    package = json.loads(archive.read("datapackage.json"))
    assert package["resources"] == json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["resources"]
    metadata = json.loads(archive.read("plan.json"))["plan"]
    assert metadata["endorsement"] == {"version": 1, "endorsed_on": timezone.localdate().isoformat()}
    assert metadata["version"] == {
        "id": endorsed.pk,
        "label": endorsed.label,
        "kind": "endorsed",
        "draft_number": 1,
        "saved_at": metadata["version"]["saved_at"],
        "endorsed": True,
    }
    assert metadata["version"]["saved_at"].endswith("Z")
    assert set(json.loads(endorsed_files.read("plan.json"))["plan"]) == set(metadata)  # the same keys

    draft = json.loads(_open(plan_open_data_build(plan=published)).read("plan.json"))["plan"]
    assert (draft["version"], draft["endorsement"]) == (None, None)  # the reopened draft is neither


def test_a_named_version_says_it_is_not_endorsed(published, lead):
    version = plan_version_save(plan=published, by=lead, label="Before the workshop")

    archive = _open(plan_open_data_build(plan=published, version=version))

    metadata = json.loads(archive.read("plan.json"))["plan"]
    assert metadata["endorsement"] is None
    assert (metadata["version"]["kind"], metadata["version"]["endorsed"]) == ("named", False)
    assert metadata["version"]["label"] == "Before the workshop"


def test_a_version_of_another_plan_is_refused_and_no_job_starts(client, published, other_country, lead):
    other = Plan.objects.create(jurisdiction=other_country, title="Elsewhere", first_year=2026, last_year=2030)
    theirs = plan_version_store(plan=other, by=None, kind=PlanVersion.Kind.NAMED, label="theirs")
    client.force_login(lead)

    for value in (theirs.pk, "abc", "0"):
        assert client.post(f"/plans/{published.pk}/open-data/export/", {"version": value}).status_code == 404
    for value in (theirs.pk, 0):
        response = client.post(
            f"/api/plans/{published.pk}/open-data/export/", {"plan_version": value}, content_type="application/json"
        )
        assert response.status_code == 400
        assert "plan_version" in response.json()
    assert not Job.objects.exists()
    with pytest.raises(ValueError):
        plan_open_data_build(plan=published, version=theirs)


def test_a_version_export_takes_as_many_queries_for_a_larger_plan(published, lead):
    def count() -> int:
        version = plan_version_save(plan=published, by=lead, label=f"v{PlanVersion.objects.count()}")
        with CaptureQueriesContext(connection) as queries:
            plan_open_data_build(plan=published, version=version)
        return len(queries)

    _grow(published, lead, 5)
    small = count()
    _grow(published, lead, 50)
    assert count() == small


def test_the_versions_page_and_the_overview_offer_a_versions_open_data(client, published, people, lead):
    plan_endorse(plan=published, by=lead, endorsed_on=timezone.localdate(), authority="The cabinet", confirm=True)
    endorsed = PlanVersion.objects.get(plan=published)
    client.force_login(people["reviewer"])

    page = client.get(f"/plans/{published.pk}/versions/").content.decode()
    assert f'action="/plans/{published.pk}/open-data/export/"' in page
    assert f'name="version" value="{endorsed.pk}"' in page
    overview = client.get(f"/plans/{published.pk}/").content.decode()
    assert f'<option value="{endorsed.pk}">{endorsed.label}</option>' in overview

    response = client.post(f"/plans/{published.pk}/open-data/export/", {"version": endorsed.pk})
    assert response.status_code == 302
    assert Job.objects.get().params == {"version": endorsed.pk}
