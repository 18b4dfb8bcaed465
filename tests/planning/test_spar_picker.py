"""Importing SPAR results in two steps: the uploaded table's countries are listed (as WHO writes them, with their
WHO region and how many indicators each reports, the plan's country chosen when the table has it), the person picks
one, and a job imports its row and says what was scored and what was not reported. The kept file is the uploader's,
for that plan only, and expires like other uploads."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from naphs.models import Job, Upload
from naphs.permissions import Role
from naphs.uploads import pending_upload_bytes, uploads_sweep
from planning.assessments import assessment_create
from planning.models import Assessment, Framework, IndicatorScore, Plan
from stakeholders.models import PlanMembership
from tests.planning.test_spar_published import scores_of, spar_published, tsv, xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def spar_assessment(plan, lead) -> Assessment:
    spar = Framework.objects.get(code="SPAR2")
    return assessment_create(plan=plan, by=lead, framework=spar, kind="spar", date=datetime.date(2025, 3, 1))


def _url(assessment) -> str:
    return f"/plans/{assessment.plan_id}/assessments/{assessment.pk}/import-spar/"


def _upload(client, assessment, rows=None, name="SPAR_2024.xlsx"):
    content = (xlsx if name.endswith(".xlsx") else tsv)(rows or spar_published()).getvalue()
    return client.post(_url(assessment), {"file": SimpleUploadedFile(name, content)})


def _kept(client, assessment) -> Upload:
    response = _upload(client, assessment)
    assert response.status_code == 302, response.content.decode()[:2000]
    upload = Upload.objects.get()
    assert response["Location"] == f"{_url(assessment)}{upload.pk}/"
    return upload


def _radios(page: str) -> dict[str, bool]:
    """{country: checked} of the picker's radio buttons."""
    found = re.findall(r'<input type="radio" name="country" value="([^"]*)"( checked)?', page)
    return {value.replace("&#x27;", "'"): bool(checked) for value, checked in found}


def test_the_uploaded_tables_countries_are_listed_with_region_and_reports_and_the_plans_country_chosen(
    client, spar_assessment, lead, plan, django_assert_max_num_queries
):
    plan.jurisdiction.name = "Iran"  # WHO writes "Iran (Islamic Republic of)"
    plan.jurisdiction.save()
    client.force_login(lead)

    upload = _kept(client, spar_assessment)

    assert not Job.objects.exists()  # nothing is imported before a country is picked
    assert (upload.status, upload.job, upload.uploaded_by, upload.plan) == ("pending", None, lead, plan)
    assert default_storage.exists(upload.file.name)
    with django_assert_max_num_queries(12):
        response = client.get(f"{_url(spar_assessment)}{upload.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert _radios(page) == {
        "Afghanistan": False,
        "Iran (Islamic Republic of)": True,
        "Pakistan": False,
        "Korea, Democratic People's Republic of": False,
    }
    pakistan = page[page.index('value="Pakistan"') :]
    pakistan = pakistan[: pakistan.index("</tr>")]
    assert "<td>EMR</td>" in pakistan and "31 of 35" in pakistan  # four left unreported
    assert "35 of 35" in page
    assert "AFR" not in page  # the regional averages are no countries


def test_a_plan_whose_country_the_table_lacks_has_none_chosen(client, spar_assessment, lead):
    client.force_login(lead)  # Testland
    upload = _kept(client, spar_assessment)

    page = client.get(f"{_url(spar_assessment)}{upload.pk}/").content.decode()

    assert not any(_radios(page).values())
    assert "The plan's country is not in this table under its name" in page


def test_picking_a_country_imports_its_row_and_the_page_lists_what_was_scored_and_not(
    client, spar_assessment, lead, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    upload = _kept(client, spar_assessment)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{_url(spar_assessment)}{upload.pk}/", {"country": "Pakistan"})

    page_url = f"/plans/{spar_assessment.plan_id}/assessments/{spar_assessment.pk}/"
    assert (response.status_code, response["Location"]) == (302, f"{page_url}#import-job")
    job = Job.objects.get()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.params["summary"] == {
        "country": "Pakistan",
        "scored": [code for code in job.params["summary"]["scored"]],
        "unreported": ["C3.2", "C9.3", "C12.1", "C15.1"],
    }
    assert len(job.params["summary"]["scored"]) == 31 == len(scores_of(spar_assessment))
    upload.refresh_from_db()
    assert (upload.status, upload.job) == ("applied", job)
    for page in (
        client.get(page_url).content.decode(),
        client.get(f"{page_url}?fragment=import-job", HTTP_HX_REQUEST="true").content.decode(),
    ):
        summary = page[page.index('id="spar-summary"') :]
        assert "Pakistan: 31 indicators scored" in summary and "4 not reported" in summary
        assert re.search(
            r'class="codes unreported"><li>C3\.2</li><li>C9\.3</li><li>C12\.1</li><li>C15\.1</li>', summary
        )

    # The file was read and deleted: it cannot be picked from again.
    assert client.get(f"{_url(spar_assessment)}{upload.pk}/").status_code == 404
    assert client.post(f"{_url(spar_assessment)}{upload.pk}/", {"country": "Pakistan"}).status_code == 404
    assert Job.objects.count() == 1


@pytest.mark.parametrize("picked", ["Atlantis", "", "Pakistan "])
def test_a_country_not_in_the_file_is_refused_and_nothing_starts(client, spar_assessment, lead, picked):
    client.force_login(lead)
    upload = _kept(client, spar_assessment)

    response = client.post(f"{_url(spar_assessment)}{upload.pk}/", {"country": picked})

    assert response.status_code == 422
    page = response.content.decode()
    if picked:
        assert f"“{picked}” is not a country of this table; choose one of the list." in page
    else:
        assert "Choose the country whose scores to import." in page
    assert not Job.objects.exists() and not IndicatorScore.objects.exists()
    upload.refresh_from_db()
    assert (upload.status, upload.job) == ("pending", None)  # still there to pick from


def test_a_country_with_no_scores_is_listed_and_refused_by_the_import(
    client, spar_assessment, lead, django_capture_on_commit_callbacks
):
    rows = spar_published(pakistan={})
    client.force_login(lead)
    _upload(client, spar_assessment, rows)
    upload = Upload.objects.get()
    page = client.get(f"{_url(spar_assessment)}{upload.pk}/").content.decode()
    pakistan = page[page.index('value="Pakistan"') :]
    assert "0 of 35" in pakistan[: pakistan.index("</tr>")]

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{_url(spar_assessment)}{upload.pk}/", {"country": "Pakistan"})

    job = Job.objects.get()
    assert job.status == Job.Status.FAILED
    assert "“Pakistan” reported no indicator in this table" in job.message
    assert "summary" not in job.params and not IndicatorScore.objects.exists()


def test_a_file_of_another_edition_or_no_spar_table_is_refused_at_the_upload(client, spar_assessment, lead):
    client.force_login(lead)
    jee = [["Country", "P.1.1", "P.1.2"], ["Pakistan", 60, 80]]
    response = _upload(client, spar_assessment, jee)
    assert response.status_code == 422
    assert "is an indicator of" in response.content.decode() and "another edition" in response.content.decode()

    response = _upload(client, spar_assessment, [["Name", "Score"], ["Pakistan", 60]], name="scores.tsv")
    assert response.status_code == 422
    assert "This is not a SPAR results table" in response.content.decode()
    assert not Upload.objects.exists() and not Job.objects.exists()


def test_only_the_uploader_picks_from_the_file_for_that_plan(client, spar_assessment, lead, people, country, jee3):
    client.force_login(lead)
    upload = _kept(client, spar_assessment)
    pick = f"{_url(spar_assessment)}{upload.pk}/"

    client.force_login(people[Role.SECRETARIAT_MEMBER])  # another member who may import: not their file
    assert client.get(pick).status_code == 404
    assert client.post(pick, {"country": "Pakistan"}).status_code == 404
    client.force_login(people[Role.VIEWER])
    assert client.get(pick).status_code == 403
    client.force_login(people["outsider"])
    assert client.get(pick).status_code == 404

    # The uploader's own other plan: the file is not of it.
    other = Plan.objects.create(framework=jee3, jurisdiction=country, title="Another", first_year=2026, last_year=2030)
    PlanMembership.objects.create(plan=other, user=lead, role=Role.SECRETARIAT_LEAD)
    theirs = assessment_create(
        plan=other, by=lead, framework=spar_assessment.framework, kind="spar", date=datetime.date(2025, 1, 1)
    )
    client.force_login(lead)
    assert client.get(f"{_url(theirs)}{upload.pk}/").status_code == 404
    assert client.post(f"{_url(theirs)}{upload.pk}/", {"country": "Pakistan"}).status_code == 404
    assert not Job.objects.exists()


def test_a_kept_file_counts_in_the_plans_room_and_expires_like_other_uploads(
    client, spar_assessment, lead, plan, settings, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    upload = _kept(client, spar_assessment)
    assert pending_upload_bytes(plan=plan) == upload.size
    uploads_sweep()  # within the grace: kept
    upload.refresh_from_db()
    assert upload.status == "pending" and default_storage.exists(upload.file.name)

    name = upload.file.name
    Upload.objects.filter(pk=upload.pk).update(
        created_at=timezone.now() - datetime.timedelta(seconds=settings.UPLOAD_SWEEP_GRACE_SECONDS + 1)
    )
    assert client.get(f"{_url(spar_assessment)}{upload.pk}/").status_code == 404  # expired
    with django_capture_on_commit_callbacks(execute=True):
        uploads_sweep()
    upload.refresh_from_db()
    assert upload.status == "refused" and not default_storage.exists(name)
    assert pending_upload_bytes(plan=plan) == 0


def test_a_country_named_with_the_file_is_imported_at_once(
    client, spar_assessment, lead, django_capture_on_commit_callbacks
):
    """As before the picker: a script (or a form that says the country) imports in one step."""
    client.force_login(lead)
    upload = SimpleUploadedFile("SPAR_2024.tsv", tsv(spar_published()).getvalue())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(spar_assessment), {"file": upload, "country": "Pakistan"})
    assert response.status_code == 302
    assert Job.objects.get().status == Job.Status.SUCCEEDED
    assert len(scores_of(spar_assessment)) == 31


def test_the_api_lists_the_tables_countries_then_imports_the_one_named(
    api_client, spar_assessment, lead, plan, people, django_capture_on_commit_callbacks
):
    plan.jurisdiction.name = "Pakistan"
    plan.jurisdiction.save()
    api_client.force_authenticate(lead)
    url = f"/api{_url(spar_assessment)}".replace("/import-spar/", "/spar-tables/")
    file = SimpleUploadedFile("SPAR_2024.tsv", tsv(spar_published()).getvalue())

    response = api_client.post(url, {"file": file}, format="multipart")

    assert response.status_code == 201, response.content
    table = response.json()
    assert table["chosen"] == "Pakistan" and table["filename"] == "SPAR_2024.tsv"
    assert {"name": "Pakistan", "region": "EMR", "reported": 31, "indicators": 35} in table["countries"]
    assert [c["name"] for c in table["countries"]][:2] == ["Afghanistan", "Iran (Islamic Republic of)"]
    assert not Job.objects.exists()

    response = api_client.post(f"{url}{table['id']}/import/", {"country": "Atlantis"}, format="json")
    assert response.status_code == 400
    assert response.json()["country"] == ["“Atlantis” is not a country of this table; choose one of the list."]
    api_client.force_authenticate(people[Role.SECRETARIAT_MEMBER])  # not their table
    assert api_client.post(f"{url}{table['id']}/import/", {"country": "Pakistan"}, format="json").status_code == 404
    api_client.force_authenticate(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"{url}{table['id']}/import/", {"country": "Pakistan"}, format="json")

    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert "Pakistan: 31 of 35 indicators scored." in job.message or len(scores_of(spar_assessment)) == 31
    assert len(scores_of(spar_assessment)) == 31
    assert api_client.post(f"{url}{table['id']}/import/", {"country": "Pakistan"}, format="json").status_code == 404

    jee = xlsx([["Country", "P.1.1", "P.1.2"], ["Pakistan", 60, 80]]).getvalue()
    response = api_client.post(url, {"file": SimpleUploadedFile("jee.xlsx", jee)}, format="multipart")
    assert response.status_code == 400 and "another edition" in " ".join(response.json()["file"])
