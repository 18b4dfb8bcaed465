"""Every hostile file of tests/hostile_files.py through every upload of the product: each is refused with a
message that says why, writes no row, leaves no file behind, and the reader stops before it has built the cells
of the shapes that are refused by counting.

The uploads: the costing workbook (page and API), the progress workbook (page and API), M&E indicator values
(page and API),
the WHO costing tool layout, the score sheet, the SPAR
results table, and the administrators' framework and benchmark library imports. A new upload form or
serializer belongs in ENDPOINTS (tests/test_project_checks.py-style discovery: `test_every_upload_is_here`).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import URLResolver, get_resolver
from rest_framework.test import APIClient

from costing.job_kinds import CostingJob
from costing.models import CostingUpload, CostLine
from costing.services import plan_costing_get
from monitoring.job_kinds import MonitoringJob
from monitoring.models import MEIndicatorActual, ProgressUpdate, ProgressUpload
from naphs import spreadsheets
from naphs.models import Job, Upload
from planning.assessments import assessment_create
from planning.job_kinds import PlanningJob
from planning.models import (
    Activity,
    BenchmarkAction,
    BenchmarkIndicatorLink,
    BenchmarkLibrary,
    Crosswalk,
    CrosswalkLink,
    Framework,
    Indicator,
    IndicatorScore,
    Plan,
    TechnicalArea,
)
from tests.conftest import make_user
from tests.hostile_files import CORPUS, COUNTED, build

ROWS = (
    IndicatorScore,
    ProgressUpdate,
    MEIndicatorActual,
    CostLine,
    Activity,
    Framework,
    TechnicalArea,
    Indicator,
    BenchmarkLibrary,
    BenchmarkAction,
    CrosswalkLink,
    BenchmarkIndicatorLink,
)


@dataclass
class Context:
    plan: Plan
    lead: object
    admin: object
    assessment: int
    spar_assessment: int


def _run(action: Callable[[], object]) -> object:
    """What a request enqueues runs once it commits, as the worker would."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return action()


def _page_errors(response) -> str:
    page = response.content.decode()
    errors = re.findall(
        r'<(ul|p|div|small)[^>]*class="[^"]*(?:errorlist|field-error|errornote)[^"]*"[^>]*>(.*?)</\1>', page, re.S
    )
    return " ".join(re.sub(r"<[^>]+>", " ", error) for _tag, error in errors).strip()


def _refusal_of_job(job: Job | None) -> str:
    assert job is not None, "neither refused by the form nor queued"
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED, f"{job.kind} {job.status}: {job.message}"
    assert "unexpectedly" not in job.message, job.error
    texts = [job.message]
    upload = (
        Upload.objects.filter(job=job).first()
        or CostingUpload.objects.filter(job=job).first()
        or ProgressUpload.objects.filter(job=job).first()
    )
    if upload is not None:
        assert upload.status == "refused" and not upload.file
        texts += [problem["message"] for problem in upload.problems]
    return " ".join(texts)


def _form_post(client, ctx: Context, url: str, data: dict, kind: str, user) -> str:
    client.force_login(user)
    before = set(Job.objects.filter(kind=kind).values_list("pk", flat=True))
    response = _run(lambda: client.post(url, data))
    if response.status_code in (400, 413, 422) or (response.status_code == 200 and kind in ADMIN_KINDS):
        text = _page_errors(response)
        assert text, response.content.decode()[:3000]
        return text
    assert response.status_code == 302, (response.status_code, response.content.decode()[:2000])
    return _refusal_of_job(Job.objects.filter(kind=kind).exclude(pk__in=before).first())


ADMIN_KINDS = {
    PlanningJob.FRAMEWORK_IMPORT,
    PlanningJob.LIBRARY_IMPORT,
    PlanningJob.CROSSWALK_IMPORT,
    PlanningJob.MAPPING_IMPORT,
}


def _api_post(ctx, url: str, name: str, content: bytes, *, answers_with_upload: bool = True) -> str:
    """The file posted to an upload endpoint of the API: the refusal of its 400, or of the job its 202 started (an
    upload with its job, or the job itself)."""
    api = APIClient()
    api.force_authenticate(ctx.lead)
    response = _run(lambda: api.post(url, {"file": SimpleUploadedFile(name, content)}, format="multipart"))
    if response.status_code == 400:
        return " ".join(str(message) for messages in response.json().values() for message in messages)
    assert response.status_code == 202, response.content
    job = response.json()["job"] if answers_with_upload else response.json()
    return _refusal_of_job(Job.objects.get(pk=job["id"]))


def costing_page(client, ctx, name, content):
    data = {"file": SimpleUploadedFile(name, content)}
    return _form_post(client, ctx, f"/plans/{ctx.plan.pk}/costing/upload/", data, CostingJob.COSTING_UPLOAD, ctx.lead)


def costing_api(client, ctx, name, content):
    return _api_post(ctx, f"/api/plans/{ctx.plan.pk}/costing/uploads/", name, content)


def progress_page(client, ctx, name, content):
    data = {"file": SimpleUploadedFile(name, content)}
    url = f"/plans/{ctx.plan.pk}/monitoring/workbook/"
    return _form_post(client, ctx, url, data, MonitoringJob.PROGRESS_UPLOAD, ctx.lead)


def progress_api(client, ctx, name, content):
    return _api_post(ctx, f"/api/plans/{ctx.plan.pk}/monitoring/uploads/", name, content)


def indicator_values_page(client, ctx, name, content):
    data = {"file": SimpleUploadedFile(name, content)}
    url = f"/plans/{ctx.plan.pk}/monitoring/indicators/import/"
    return _form_post(client, ctx, url, data, MonitoringJob.INDICATOR_ACTUALS_IMPORT, ctx.lead)


def indicator_values_api(client, ctx, name, content):
    url = f"/api/plans/{ctx.plan.pk}/me-indicators/import/"
    return _api_post(ctx, url, name, content, answers_with_upload=False)


def attendance_sheet_page(client, ctx, name, content):
    from stakeholders.models import EngagementEvent

    event = EngagementEvent.objects.create(
        plan=ctx.plan,
        kind="consultation",
        title="Consultation",
        starts_on=datetime.date(2026, 3, 2),
        ends_on=datetime.date(2026, 3, 4),
        place="Capital",
    )
    client.force_login(ctx.lead)
    url = f"/plans/{ctx.plan.pk}/events/{event.pk}/attendance/import/"
    response = client.post(url, {"file": SimpleUploadedFile(name, content)})
    assert response.status_code in (400, 413, 422), response.status_code
    text = _page_errors(response)
    assert text, response.content.decode()[:3000]
    return text


def who_page(client, ctx, name, content):
    data = {"file": SimpleUploadedFile(name, content)}
    url = f"/plans/{ctx.plan.pk}/costing/who/import/"
    return _form_post(client, ctx, url, data, CostingJob.WHO_COSTING_IMPORT, ctx.lead)


def score_sheet(client, ctx, name, content):
    data = {"file": SimpleUploadedFile(name, content)}
    url = f"/plans/{ctx.plan.pk}/assessments/{ctx.assessment}/import/"
    return _form_post(client, ctx, url, data, PlanningJob.SCORES_IMPORT, ctx.lead)


def spar_table(client, ctx, name, content):
    data = {"file": SimpleUploadedFile(name, content), "country": "Testland"}
    url = f"/plans/{ctx.plan.pk}/assessments/{ctx.spar_assessment}/import-spar/"
    return _form_post(client, ctx, url, data, PlanningJob.SPAR_IMPORT, ctx.lead)


def spar_table_to_pick(client, ctx, name, content):
    """The first step of the page's picker: the table is read for its countries, and refused there."""
    data = {"file": SimpleUploadedFile(name, content)}
    url = f"/plans/{ctx.plan.pk}/assessments/{ctx.spar_assessment}/import-spar/"
    return _form_post(client, ctx, url, data, PlanningJob.SPAR_IMPORT, ctx.lead)


def spar_table_api(client, ctx, name, content):
    """The API's first call (spar-tables/): the table is read for its countries, and refused there, before any
    table is kept for the second call (spar-tables/{id}/import/)."""
    api = APIClient()
    api.force_authenticate(ctx.lead)
    url = f"/api/plans/{ctx.plan.pk}/assessments/{ctx.spar_assessment}/spar-tables/"
    response = _run(lambda: api.post(url, {"file": SimpleUploadedFile(name, content)}, format="multipart"))
    assert response.status_code == 400, response.content
    return " ".join(str(message) for messages in response.json().values() for message in messages)


def framework_admin(client, ctx, name, content):
    data = {"code": "HOSTILE", "name": "Hostile", "file": SimpleUploadedFile(name, content)}
    return _form_post(client, ctx, "/admin/planning/framework/import/", data, PlanningJob.FRAMEWORK_IMPORT, ctx.admin)


def library_admin(client, ctx, name, content):
    jee = Framework.objects.get(code="JEE3")
    data = {"framework": jee.pk, "name": "Hostile", "source": "", "file": SimpleUploadedFile(name, content)}
    url = "/admin/planning/benchmarklibrary/import/"
    return _form_post(client, ctx, url, data, PlanningJob.LIBRARY_IMPORT, ctx.admin)


def crosswalk_admin(client, ctx, name, content):
    crosswalk = Crosswalk.objects.get(name="JEE 2 – JEE 3")
    data = {"crosswalk": crosswalk.pk, "file": SimpleUploadedFile(name, content)}
    url = "/admin/planning/crosswalk/import/"
    return _form_post(client, ctx, url, data, PlanningJob.CROSSWALK_IMPORT, ctx.admin)


def mapping_admin(client, ctx, name, content):
    data = {"file": SimpleUploadedFile(name, content)}
    url = "/admin/planning/benchmarkindicatorlink/import/"
    return _form_post(client, ctx, url, data, PlanningJob.MAPPING_IMPORT, ctx.admin)


ENDPOINTS: dict[str, Callable[..., str]] = {
    "costing workbook page": costing_page,
    "costing workbook API": costing_api,
    "progress workbook page": progress_page,
    "progress workbook API": progress_api,
    "M&E indicator values page": indicator_values_page,
    "M&E indicator values API": indicator_values_api,
    "WHO costing layout": who_page,
    "attendance sheet of an engagement event": attendance_sheet_page,
    "score sheet": score_sheet,
    "SPAR results table": spar_table,
    "SPAR results table, to pick a country from": spar_table_to_pick,
    "SPAR results table API": spar_table_api,
    "framework (admin)": framework_admin,
    "benchmark library (admin)": library_admin,
    "crosswalk (admin)": crosswalk_admin,
    "benchmark indicator mapping (admin)": mapping_admin,
}
# The route of each, normalized (see _normalized), for the discovery test below.
ROUTES = {
    "plans/<plan_id>/costing/upload/",
    "api/plans/<plan_id>/costing/uploads/",
    # The progress workbook's page (plans/<plan_id>/monitoring/workbook/) takes a file too: "progress workbook page".
    "api/plans/<plan_id>/monitoring/uploads/",
    "plans/<plan_id>/monitoring/indicators/import/",
    "api/plans/<plan_id>/me-indicators/import/",
    "plans/<plan_id>/costing/who/import/",
    "plans/<plan_id>/events/<engagement_event_id>/attendance/import/",
    "plans/<plan_id>/assessments/<assessment_id>/import/",
    "plans/<plan_id>/assessments/<assessment_id>/import-spar/",
    # Takes no file: it imports the table the API's spar-tables/ kept, whose hostile run is "SPAR results table API".
    "api/plans/<plan_id>/assessments/<assessment_id>/spar-tables/<upload_id>/import/",
    "admin/planning/framework/import/",
    "admin/planning/benchmarklibrary/import/",
    "admin/planning/crosswalk/import/",
    "admin/planning/benchmarkindicatorlink/import/",
}


@pytest.fixture
def ctx(plan, lead, jee3) -> Context:
    plan_costing_get(plan)
    admin = make_user("hostile_admin", is_staff=True, is_superuser=True)
    jee = assessment_create(plan=plan, by=lead, framework=jee3, kind="jee", date=datetime.date(2024, 5, 1))
    spar = Framework.objects.get(code="SPAR2")
    spar_assessment = assessment_create(plan=plan, by=lead, framework=spar, kind="spar", date=datetime.date(2025, 3, 1))
    return Context(plan, lead, admin, jee.pk, spar_assessment.pk)


def _stored_files() -> list[Path]:
    return [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("shape", list(CORPUS))
def test_a_hostile_file_is_refused_clearly_saves_nothing_and_leaves_no_file(client, ctx, shape, endpoint):
    name, content = build(shape)
    counts = {model: model.objects.count() for model in ROWS}
    cells_before = spreadsheets.cells_built

    refusal = ENDPOINTS[endpoint](client, ctx, name, content)

    assert refusal.strip(), "refused without saying why"
    assert {model: model.objects.count() for model in ROWS} == counts
    assert _stored_files() == [], "an uploaded file was left behind"
    if shape in COUNTED:  # bounded work: refused by its declared size or a count, before its cells were built
        assert spreadsheets.cells_built == cells_before
        assert re.search(r"more than|larger than|Upload ", refusal), refusal


def test_the_reader_reads_none_of_the_tester_workbooks_cells(monkeypatch):
    """The tester's 2.1 MB workbook of 9.5 million cells, with its dimension and without: refused with the sheet
    and the limit named, by its declaration or by a count that stops at the limit, with no cell built."""
    import io

    from tests.hostile_files import many_cells

    for data, words in ((build("9.5 million cells")[1], "declares the range A1:AX190000"),
                        (many_cells(declared=False), "more than 2,000,000 cells")):  # fmt: skip
        before = spreadsheets.cells_built
        with pytest.raises(spreadsheets.ImportRefused) as refused:
            spreadsheets.read_spreadsheet(io.BytesIO(data), name="costing.xlsx", limits="costing_workbook")
        assert refused.value.problems[0].sheet == "Data" and words in str(refused.value)
        assert spreadsheets.cells_built == before


RECORDS = "admin/naphs/upload/"  # the admin's read-only list of uploads: it takes no file


def _normalized(route: str) -> str:
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", route)
    route = re.sub(r"<\w+:(\w+)>", r"<\1>", route)
    route = route.replace("^", "").replace("$", "")
    return "" if "<format>" in route else route  # the same route with a format suffix


def test_every_upload_is_here():
    """A route that takes a file and is not in ENDPOINTS fails this test: add it, with its hostile-file run."""
    found = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = _normalized(prefix + str(pattern.pattern))
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif re.search(r"import|upload", route) and "<" not in route.rstrip("/").rsplit("/", 1)[-1]:
                found.add(route)

    walk(get_resolver().url_patterns)
    found = {route for route in found if not route.startswith(RECORDS)}
    assert found >= ROUTES
    assert not found - ROUTES, f"upload routes without a hostile-file run: {sorted(found - ROUTES)}"


# Progress evidence (monitoring.evidence) keeps a file rather than importing it, through its own routes
# (…/progress/<activity_id>/evidence/ and the API's …/progress/<progress_id>/evidence/): a workbook or CSV file is
# read with every check of the imports above first. Only a workbook of formulas is kept: evidence is stored, never
# calculated, and links to other workbooks are refused all the same.
EVIDENCE_KEPT = {"formulas"}


@pytest.mark.parametrize("shape", list(CORPUS))
def test_a_hostile_file_as_progress_evidence_is_refused_clearly_and_leaves_no_file(client, ctx, shape):
    from monitoring.models import ProgressEvidence, ProgressUpdate, ReportingPeriod

    period = ReportingPeriod.objects.create(
        plan=ctx.plan,
        label="2026 Q1",
        starts_on=datetime.date(2026, 1, 1),
        ends_on=datetime.date(2026, 3, 31),
        due_on=datetime.date(2026, 4, 15),
        state=ReportingPeriod.State.OPEN,
    )
    activity = Activity.objects.create(
        plan=ctx.plan, technical_area=TechnicalArea.objects.get(framework__code="JEE3", code="P1"), title="Train"
    )
    ProgressUpdate.objects.create(
        plan=ctx.plan, activity=activity, period=period, status="on_track", percent_complete=5
    )
    name, content = build(shape)
    cells_before = spreadsheets.cells_built
    client.force_login(ctx.lead)
    url = f"/plans/{ctx.plan.pk}/monitoring/periods/{period.pk}/progress/{activity.pk}/evidence/"
    response = client.post(url, {"file": SimpleUploadedFile(name, content)})
    if shape in EVIDENCE_KEPT:
        assert response.status_code == 302 and ProgressEvidence.objects.count() == 1
        return
    assert response.status_code == 422, response.status_code
    assert _page_errors(response), "refused without saying why"
    assert not ProgressEvidence.objects.exists()
    assert _stored_files() == [], "an uploaded file was left behind"
    if shape in COUNTED:
        assert spreadsheets.cells_built == cells_before
