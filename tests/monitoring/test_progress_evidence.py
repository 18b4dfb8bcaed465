# ruff: noqa: F811  (the fixtures of tests/monitoring/progress_fixtures.py, imported by name, are arguments here)
"""Evidence of progress: files checked for being what their name says, links, downloads only for members, and
deletion by whoever added it or the secretariat while the period is open."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from monitoring.models import ProgressEvidence, ProgressUpdate, ReportingPeriod
from naphs.models import AuditEvent
from naphs.permissions import Role
from stakeholders.models import PlanMembership
from tests.conftest import make_user
from tests.monitoring.progress_fixtures import (  # noqa: F401  (fixtures)
    moa_activity,
    moh_activity,
    period,
    rates,
)

pytestmark = pytest.mark.django_db
FP, SL, VW = Role.FOCAL_POINT, Role.SECRETARIAT_LEAD, Role.VIEWER
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def office(folder: str, *, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{folder}document.xml", "<document/>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def report(plan, period, moa_activity, people) -> ProgressUpdate:
    return ProgressUpdate.objects.create(
        plan=plan, activity=moa_activity, period=period, status="on_track", percent_complete=20, reported_by=people[FP]
    )


def add_url(plan, report) -> str:
    return reverse(
        "progress_evidence_add",
        kwargs={"plan_id": plan.pk, "activity_id": report.activity_id, "period_id": report.period_id},
    )


def upload(client, plan, report, name: str, data: bytes, **extra):
    return client.post(add_url(plan, report), {"file": SimpleUploadedFile(name, data), "description": "x", **extra})


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("attendance.pdf", PDF),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20),
        ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20),
        ("minutes.docx", office("word/")),
        ("slides.pptx", office("ppt/")),
        ("list.csv", b"name,organization\nAmina,MOA\n"),
        ("notes.txt", "Réunion tenue le 3 mars.".encode()),
    ],
)
def test_a_focal_point_adds_a_file_that_is_what_it_claims(client, people, plan, report, name, data):
    client.force_login(people[FP])
    response = upload(client, plan, report, name, data)
    assert response.status_code == 302, response.context and response.context["evidence_form"].errors
    evidence = ProgressEvidence.objects.get()
    assert evidence.file_name == name and evidence.size == len(data) and evidence.added_by == people[FP]
    assert AuditEvent.objects.filter(target_type="progressevidence", action="added").count() == 1


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("report.pdf", b"<html><script>alert(1)</script></html>", "report.pdf is not a PDF document"),
        ("photo.png", PDF, "photo.png is not a PNG image"),
        ("photo.jpg", b"GIF89a....", "photo.jpg is not a JPEG image"),
        ("minutes.docx", PDF, "minutes.docx is not a Word document"),
        ("minutes.docx", office("xl/"), "minutes.docx is not a Word document"),
        ("budget.xlsx", office("word/"), "budget.xlsx: This is not an Excel workbook"),
        ("notes.txt", PDF, "notes.txt is not a text file"),
        ("notes.txt", b"\x00\x01\x02binary", "notes.txt is not a text file"),
        ("macro.docx", office("word/", extra={"word/vbaProject.bin": b"x"}), "macro.docx contains macros"),
        ("macro.xlsx", office("xl/", extra={"xl/vbaProject.bin": b"x"}), "contains macros"),
        ("bomb.docx", office("word/", extra={"word/media/big.xml": b"0" * 5_000_000}), "far more data"),
        ("virus.exe", b"MZ\x90\x00", "Upload a PDF"),
        ("empty.pdf", b"", "file is empty"),
    ],
)
def test_a_file_that_lies_about_its_type_or_is_hostile_is_refused_and_nothing_is_kept(
    client, people, plan, report, settings, name, data, message
):
    client.force_login(people[FP])
    response = upload(client, plan, report, name, data)
    assert response.status_code == 422
    assert message in response.text
    assert not ProgressEvidence.objects.exists()
    assert (
        not list((settings.MEDIA_ROOT / "evidence").glob("**/*.*"))
        if (settings.MEDIA_ROOT / "evidence").exists()
        else True
    )


@pytest.mark.parametrize("link", ["javascript:alert(1)", "ftp://example.org/x", "file:///etc/passwd", "https://"])
def test_a_link_is_http_or_https(client, people, plan, report, link):
    client.force_login(people[FP])
    response = client.post(add_url(plan, report), {"link": link})
    assert response.status_code == 422 and "http:// or https://" in response.text
    assert not ProgressEvidence.objects.exists()


def test_evidence_needs_a_report_first(client, people, plan, period, moa_activity):
    client.force_login(people[FP])
    url = reverse(
        "progress_evidence_add", kwargs={"plan_id": plan.pk, "activity_id": moa_activity.pk, "period_id": period.pk}
    )
    response = client.post(url, {"link": "https://example.org/photos"})
    assert response.status_code == 422 and "first, then add its evidence" in response.text
    assert not ProgressEvidence.objects.exists()


def test_a_file_and_a_link_at_once_are_refused(client, people, plan, report):
    client.force_login(people[FP])
    response = upload(client, plan, report, "a.pdf", PDF, link="https://example.org/")
    assert response.status_code == 422 and "one of the two" in response.text


def test_any_member_downloads_a_file_as_an_attachment_never_sniffed_and_an_outsider_gets_404(
    client, people, plan, report
):
    client.force_login(people[FP])
    upload(client, plan, report, "attendance.pdf", PDF)
    evidence = ProgressEvidence.objects.get()
    url = reverse("progress_evidence_file", kwargs={"plan_id": plan.pk, "evidence_id": evidence.pk})
    client.force_login(people[VW])
    response = client.get(url)
    assert response.status_code == 200
    assert (
        response["Content-Disposition"].startswith("attachment") and "attendance.pdf" in response["Content-Disposition"]
    )
    assert response["X-Content-Type-Options"] == "nosniff" and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    client.force_login(people["outsider"])
    assert client.get(url).status_code == 404


def test_evidence_is_deleted_by_whoever_added_it_or_the_secretariat_while_the_period_is_open(
    client, people, plan, report, moa
):
    client.force_login(people[FP])
    client.post(add_url(plan, report), {"link": "https://example.org/photos"})
    evidence = ProgressEvidence.objects.get()
    url = reverse("progress_evidence_delete", kwargs={"plan_id": plan.pk, "evidence_id": evidence.pk})
    colleague = make_user("colleague")
    PlanMembership.objects.create(plan=plan, user=colleague, role=Role.FOCAL_POINT, organization=moa)
    client.force_login(colleague)
    assert client.post(url).status_code == 403
    client.force_login(people[VW])
    assert client.post(url).status_code == 403
    ReportingPeriod.objects.filter(pk=report.period_id).update(state="closed")
    client.force_login(people[FP])
    client.post(url)
    assert ProgressEvidence.objects.exists()  # closed: kept
    ReportingPeriod.objects.filter(pk=report.period_id).update(state="open")
    assert client.post(url).status_code == 302
    assert not ProgressEvidence.objects.exists()
    assert AuditEvent.objects.filter(target_type="progressevidence", action="deleted").count() == 1


def test_the_secretariat_deletes_a_file_and_it_leaves_the_storage(client, people, plan, report, settings):
    client.force_login(people[FP])
    upload(client, plan, report, "attendance.pdf", PDF)
    evidence = ProgressEvidence.objects.get()
    stored = settings.MEDIA_ROOT / evidence.file.name
    assert stored.exists()
    client.force_login(people[SL])
    with pytest.MonkeyPatch.context():
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            response = client.post(
                reverse("progress_evidence_delete", kwargs={"plan_id": plan.pk, "evidence_id": evidence.pk})
            )
    assert response.status_code == 302
    assert not stored.exists()


def test_the_api_lists_uploads_links_downloads_and_deletes_evidence(people, plan, report, moh_activity, period):
    client = APIClient()
    client.force_authenticate(people[FP])
    url = f"/api/plans/{plan.pk}/progress/{report.pk}/evidence/"
    uploaded = client.post(url, {"file": SimpleUploadedFile("attendance.pdf", PDF), "description": "List"})
    assert uploaded.status_code == 201, uploaded.json()
    assert uploaded.json()["content_type"] == "application/pdf"
    lying = client.post(url, {"file": SimpleUploadedFile("report.pdf", b"<html></html>")})
    assert lying.status_code == 400 and "report.pdf is not a PDF document" in lying.json()["file"][0]
    linked = client.post(url, {"link": "https://example.org/photos"}, format="json")
    assert linked.status_code == 201
    bad_link = client.post(url, {"link": "javascript:alert(1)"}, format="json")
    assert bad_link.status_code == 400 and "link" in bad_link.json()
    unknown = client.post(url, {"link": "https://example.org/", "size": 3}, format="json")
    assert unknown.status_code == 400 and "size" in unknown.json()
    listed = APIClient()
    listed.force_authenticate(people[VW])
    assert len(listed.get(url).json()) == 2
    download = listed.get(f"{url}{uploaded.json()['id']}/file/")
    assert download.status_code == 200 and download["X-Content-Type-Options"] == "nosniff"
    assert listed.delete(f"{url}{linked.json()['id']}/").status_code == 403
    assert client.delete(f"{url}{linked.json()['id']}/").status_code == 204
    other = ProgressUpdate.objects.create(
        plan=plan, activity=moh_activity, period=period, status="on_track", percent_complete=1
    )
    refused = client.post(f"/api/plans/{plan.pk}/progress/{other.pk}/evidence/", {"link": "https://example.org/"})
    assert refused.status_code == 403
    assert ProgressEvidence.objects.count() == 1
