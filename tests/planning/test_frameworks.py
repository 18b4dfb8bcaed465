"""An administrator loads another framework from a spreadsheet of technical areas and indicators."""

import io

import pytest
from django.contrib.auth.models import Permission as AuthPermission
from django.core.files.uploadedfile import SimpleUploadedFile

from naphs.models import Job
from naphs.spreadsheets import ImportRefused
from planning.frameworks import framework_import
from planning.job_kinds import PlanningJob
from planning.models import Framework, Indicator, TechnicalArea
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

GOOD = b"""pillar,area_code,area_name,indicator_code,indicator_name
Prevent,N1,National legislation,N1.1,Public health law
Prevent,N1,National legislation,N1.2,Regulations
Detect,N2,Laboratories,N2.1,Specimen referral
"""


def csv(content: bytes, name: str = "framework.csv") -> io.BytesIO:
    upload = io.BytesIO(content)
    upload.name = name
    return upload


def test_a_national_tool_loads_with_its_areas_indicators_and_pillars():
    framework = framework_import(
        code="nsat", name="National self-assessment tool", upload=csv(GOOD), filename="framework.csv"
    )
    assert framework.code == "NSAT"
    assert list(framework.technical_areas.values_list("code", "pillar")) == [("N1", "Prevent"), ("N2", "Detect")]
    assert list(framework.indicators.values_list("code", "technical_area__code")) == [
        ("N1.1", "N1"), ("N1.2", "N1"), ("N2.1", "N2"),
    ]  # fmt: skip


def test_loading_again_renames_and_adds_but_never_deletes():
    framework_import(code="NSAT", name="Tool", upload=csv(GOOD), filename="f.csv")
    framework_import(
        code="NSAT", name="Tool, 2nd version",
        upload=csv(b"area_code,area_name,indicator_code,indicator_name\nN1,National legislation,N1.1,Law\n"
                   b"N3,Risk communication,N3.1,Community engagement\n"),
        filename="f.csv",
    )  # fmt: skip
    framework = Framework.objects.get(code="NSAT")
    assert framework.name == "Tool, 2nd version"
    assert Indicator.objects.get(framework=framework, code="N1.1").name == "Law"
    assert framework.indicators.count() == 4
    assert TechnicalArea.objects.get(framework=framework, code="N3").pillar == "Other"


def test_every_problem_is_named_by_row_and_column_and_nothing_is_saved():
    bad = b"""pillar,area_code,area_name,indicator_code,indicator_name
Prevent,N1,National legislation,N1.1,Public health law
Elsewhere,N1,Legislation,N1.1,
"""
    with pytest.raises(ImportRefused) as refused:
        framework_import(code="NSAT", name="Tool", upload=csv(bad), filename="f.csv")
    messages = [str(problem) for problem in refused.value.problems]
    assert "Sheet “f.csv”, row 3, column E: the indicator name is empty." in messages
    assert any("row 3, column A" in m and "not a pillar" in m for m in messages)
    assert any("row 3, column C" in m and "named “National legislation” on row 2" in m for m in messages)
    assert any("row 3, column D" in m and "listed already on row 2" in m for m in messages)
    assert not Framework.objects.filter(code="NSAT").exists()


def test_a_file_without_the_columns_is_refused():
    with pytest.raises(ImportRefused, match="missing column"):
        framework_import(code="X", name="X", upload=csv(b"code,name\nA,B\n"), filename="f.csv")


def test_the_admin_page_loads_a_framework_for_administrators_only(client, django_capture_on_commit_callbacks):
    admin = make_user("framework_admin", is_staff=True)
    admin.user_permissions.add(AuthPermission.objects.get(codename="add_framework"))
    clerk = make_user("clerk", is_staff=True)
    client.force_login(clerk)
    assert client.get("/admin/planning/framework/import/").status_code == 403

    client.force_login(admin)
    page = client.get("/admin/planning/framework/import/")
    assert page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/planning/framework/import/",
            {"code": "NSAT", "name": "National tool", "file": SimpleUploadedFile("f.csv", GOOD, "text/csv")},
        )
    job = Job.objects.get(kind=PlanningJob.FRAMEWORK_IMPORT)
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert Framework.objects.get(code="NSAT").indicators.count() == 3
    assert "now has 2 technical areas and 3 indicators" in client.get(response["Location"]).content.decode()

    refused = client.post(
        "/admin/planning/framework/import/",
        {"code": "BAD", "name": "Bad", "file": SimpleUploadedFile("f.xlsm", b"PK\x03\x04junk", "application/zip")},
    )
    assert refused.status_code == 200
    assert "macro-enabled workbook" in refused.content.decode()
    assert not Framework.objects.filter(code="BAD").exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/planning/framework/import/",
            {"code": "BAD", "name": "Bad", "file": SimpleUploadedFile("f.csv", b"area_code,area_name\nA,B\n")},
        )
    page = client.get(response["Location"]).content.decode()
    assert "Nothing was saved" in page and "missing columns indicator_code, indicator_name" in page
    assert not Framework.objects.filter(code="BAD").exists()
