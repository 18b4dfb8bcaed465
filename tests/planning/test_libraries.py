"""Benchmark action libraries: importing from xlsx, CSV and JSON, the problems a bad file gets, the admin
upload page, the management command and the demo library."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.urls import reverse

from naphs.models import Job
from naphs.spreadsheets import ImportRefused
from naphs.xlsx import add_table_sheet, new_workbook, workbook_bytes
from planning.job_kinds import PlanningJob
from planning.libraries import DEMO_LIBRARY_NAME, demo_library_load, library_import
from planning.models import BenchmarkAction, BenchmarkLibrary, Framework
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

HEADERS = ["Indicator", "Level", "Action", "Action types", "Hazard"]
ROWS = [
    ["P1.1", 2, "Review national laws against IHR obligations.", "Assessment and data use", ""],
    ["P1.1", 3, "Draft amendments to the public health act.", "Planning and strategy; ADVOCACY", ""],
    ["D2.1", 4, "Train district teams on event-based surveillance.", "training;surveillance", "cholera"],
]
SAMPLE = Path(__file__).resolve().parents[2] / "planning" / "reference" / "sample_benchmark_library.csv"


@pytest.fixture
def jee() -> Framework:
    return Framework.objects.get(code="JEE3")


@pytest.fixture
def spar() -> Framework:
    return Framework.objects.get(code="SPAR2")


def xlsx(rows: list[list], headers: list[str] = HEADERS, title: str = "Actions") -> io.BytesIO:
    workbook = new_workbook()
    add_table_sheet(workbook, title=title, headers=headers, rows=rows)
    return io.BytesIO(workbook_bytes(workbook))


def csv_file(rows: list[list], headers: list[str] = HEADERS) -> io.BytesIO:
    lines = [headers, *rows]
    text = "\n".join(",".join(f'"{value}"' for value in line) for line in lines)
    return io.BytesIO(text.encode())


def json_file(actions: list[dict], **extra) -> io.BytesIO:
    return io.BytesIO(json.dumps({"framework": "JEE3", "name": "From JSON", "actions": actions, **extra}).encode())


def refused(**kwargs) -> list[str]:
    with pytest.raises(ImportRefused) as caught:
        library_import(**{"name": "Test library", "source": "", **kwargs})
    return [str(problem) for problem in caught.value.problems]


def actions_of(library: BenchmarkLibrary) -> list[tuple]:
    return list(library.actions.values_list("indicator__code", "level", "text", "action_types", "hazard"))


def test_an_xlsx_library_is_imported_with_types_and_hazards(jee):
    library = library_import(
        framework=jee, name="WHO benchmarks (2019)", source="WHO", upload=xlsx(ROWS), filename="library.xlsx"
    )
    assert (library.framework, library.name, library.source) == (jee, "WHO benchmarks (2019)", "WHO")
    assert actions_of(library) == [
        ("P1.1", 2, "Review national laws against IHR obligations.", ["assessment"], ""),
        ("P1.1", 3, "Draft amendments to the public health act.", ["planning", "advocacy"], ""),
        ("D2.1", 4, "Train district teams on event-based surveillance.", ["training", "surveillance"], "cholera"),
    ]


def test_a_csv_library_skips_blank_rows_and_ignores_extra_columns(jee):
    headers = ["ACTION_TYPES", "indicator", "Notes", "level", "action"]
    rows = [
        ["Training", "p1.1", "ignored", "2", "Train legal officers."],
        ["", "", "", "", ""],
        ["sop", "R1.3", "", "3", "Write SOPs."],
    ]
    library = library_import(framework=jee, name="CSV", source="", upload=csv_file(rows, headers), filename="a.csv")
    assert actions_of(library) == [
        ("P1.1", 2, "Train legal officers.", ["training"], ""),
        ("R1.3", 3, "Write SOPs.", ["sop"], ""),
    ]


def test_a_json_library_takes_its_framework_name_and_source_from_the_file(jee):
    upload = json_file(
        [
            {
                "indicator": "P5.1",
                "level": 3,
                "action": "Joint surveillance.",
                "action_types": ["surveillance"],
                "hazard": "Avian influenza",
            },
            {
                "indicator": "R3.1",
                "level": "5",
                "action": "Audit case management.",
                "action_types": "Monitoring and evaluation",
            },
        ],
        source="Written here",
    )
    library = library_import(framework=None, name="", upload=upload, filename="lib.json")
    assert (library.framework, library.name, library.source) == (jee, "From JSON", "Written here")
    assert actions_of(library) == [
        ("P5.1", 3, "Joint surveillance.", ["surveillance"], "Avian influenza"),
        ("R3.1", 5, "Audit case management.", ["monitoring"], ""),
    ]


def test_a_title_above_the_header_and_a_notes_sheet_are_skipped(jee):
    workbook = new_workbook()
    add_table_sheet(workbook, title="Read me", headers=["How to fill this workbook"], rows=[["One action a row."]])
    add_table_sheet(workbook, title="Actions", headers=["National benchmarks, 2019 edition"], rows=[[], HEADERS, *ROWS])
    upload = io.BytesIO(workbook_bytes(workbook))
    library = library_import(framework=jee, name="Titled", source="", upload=upload, filename="titled.xlsx")
    assert library.actions.count() == 3


def test_spar_codes_written_with_a_dot_after_the_letter_are_accepted(spar):
    rows = [["C.1.1", 2, "Review the law.", "assessment", ""], ["c2.1", 3, "Designate the NFP.", "Designation", ""]]
    library = library_import(framework=spar, name="SPAR", source="", upload=xlsx(rows), filename="spar.xlsx")
    assert [code for code, *_ in actions_of(library)] == ["C1.1", "C2.1"]


@pytest.mark.parametrize("level", [1, 6, "high", "", 2.5, "²"])
def test_a_level_outside_2_to_5_is_named_by_sheet_row_and_column(jee, level):
    rows = [ROWS[0], ["P1.1", level, "Do something.", "training", ""]]
    problems = refused(framework=jee, upload=xlsx(rows), filename="library.xlsx")
    assert len(problems) == 1
    assert problems[0].startswith("Sheet “Actions”, row 3, column B: the level is")
    assert "whole number from 2 to 5" in problems[0]
    assert not BenchmarkLibrary.objects.exists()


def test_every_problem_is_reported_at_once_and_nothing_is_saved(jee):
    rows = [
        ["X9.9", 2, "Unknown indicator.", "training", ""],
        ["P1.1", 2, "", "training", ""],
        ["P1.1", 2, "Bad type.", "Training; Juggling", ""],
        ["P1.1", 7, "Bad level.", "training", ""],
        ROWS[0],
    ]
    problems = refused(framework=jee, upload=csv_file(rows), filename="library.csv")
    assert problems == [
        "Sheet “library.csv”, row 2, column A: “X9.9” is not an indicator of JEE3 (Joint External Evaluation, "
        "3rd edition (2022)).",
        "Sheet “library.csv”, row 3, column C: the action text is empty.",
        "Sheet “library.csv”, row 4, column D: unknown action type “Juggling”; use one or more of: Advocacy; "
        "Assessment and data use; Coordination; Designation; Dissemination; Financing; Monitoring and "
        "evaluation; Planning and strategy; Procurement; Programme implementation; Simulation exercises and "
        "after-action reviews (SimEx and AAR); Standard operating procedures (SOPs); Surveillance; Tool development; "
        "Training.",
        "Sheet “library.csv”, row 5, column B: the level is “7”; it must be a whole number from 2 to 5.",
    ]
    assert not BenchmarkLibrary.objects.exists()
    assert not BenchmarkAction.objects.exists()


def test_json_problems_name_the_action_and_field(jee):
    upload = json_file(
        [
            {"indicator": "P1.1", "level": 2, "action": "Fine.", "action_types": ["training"]},
            {"indicator": "P1.1", "level": True, "action": "Level is not a number.", "action_types": ["training"]},
            {"indicator": "Z1", "level": 3, "action": "Unknown.", "action_types": ["nonsense"]},
            "not an object",
        ]
    )
    problems = refused(framework=jee, upload=upload, filename="lib.json")
    assert problems[0].startswith("Action 2, field level: ")
    assert problems[1].startswith("Action 3, field indicator: “Z1” is not an indicator of JEE3")
    assert problems[2].startswith("Action 3, field action_types: unknown action type “nonsense”")
    assert problems[3].startswith("Action 4: must be an object")
    assert not BenchmarkLibrary.objects.exists()


def test_a_missing_column_is_named(jee):
    problems = refused(framework=jee, upload=csv_file([["P1.1", 2, "Act."]], HEADERS[:3]), filename="l.csv")
    assert problems == [
        "Sheet “l.csv”, row 1: missing column action_types; the header row needs indicator, level, action, "
        "action_types (and optionally hazard)."
    ]


def test_a_duplicate_action_is_named_with_the_row_it_repeats(jee):
    problems = refused(framework=jee, upload=xlsx([ROWS[0], ROWS[1], ROWS[0]]), filename="l.xlsx")
    assert problems == ["Sheet “Actions”, row 4, column C: the same action for P1.1 level 2 is in row 2."]


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("library.xlsm", xlsx(ROWS).getvalue(), "Only .xlsx workbooks and .csv files"),
        ("library.xlsx", b"%PDF-1.7 not a workbook", "not an Excel workbook"),
        ("library.json", b"[1, 2, 3]", "must hold one object"),
        ("library.json", b'{"actions": [', "not valid JSON"),
        ("library.json", b" " * (20 * 1024 * 1024 + 1), "larger than 20 MB"),
    ],
)
def test_a_file_that_is_not_a_library_is_refused(jee, filename, content, message):
    problems = refused(framework=jee, upload=io.BytesIO(content), filename=filename)
    assert message in problems[0]


def test_a_macro_enabled_workbook_renamed_to_xlsx_is_refused(jee):
    buffer = io.BytesIO()
    with zipfile.ZipFile(xlsx(ROWS)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("xl/vbaProject.bin", b"macro")
    problems = refused(framework=jee, upload=io.BytesIO(buffer.getvalue()), filename="library.xlsx")
    assert "contains macros" in problems[0]


def test_a_json_library_for_another_framework_is_refused(jee):
    upload = json_file([{"indicator": "C1.1", "level": 2, "action": "A.", "action_types": ["training"]}])
    upload = io.BytesIO(upload.getvalue().replace(b'"JEE3"', b'"SPAR2"'))
    assert refused(framework=jee, upload=upload, filename="lib.json") == [
        "Field “framework”: this library is for “SPAR2”, not for JEE3."
    ]


def test_reimporting_a_library_replaces_its_actions(jee):
    first = library_import(framework=jee, name="WHO", source="2019", upload=xlsx(ROWS), filename="l.xlsx")
    rows = [ROWS[2], ["P2.1", 5, "Track budget execution.", "financing", ""]]
    second = library_import(framework=jee, name="WHO", source="2024", upload=xlsx(rows), filename="l.xlsx")
    assert second.pk == first.pk
    assert second.source == "2024"
    assert BenchmarkLibrary.objects.count() == 1
    assert sorted((code, level) for code, level, *_ in actions_of(second)) == [("D2.1", 4), ("P2.1", 5)]
    assert BenchmarkAction.objects.count() == 2


def test_a_refused_reimport_leaves_the_old_actions_in_place(jee):
    library_import(framework=jee, name="WHO", source="2019", upload=xlsx(ROWS), filename="l.xlsx")
    refused(framework=jee, name="WHO", upload=xlsx([ROWS[0], ["P1.1", 9, "Bad.", "training", ""]]), filename="l.xlsx")
    library = BenchmarkLibrary.objects.get()
    assert (library.source, library.actions.count()) == ("2019", 3)


def test_the_sample_file_in_the_docs_imports(jee):
    with SAMPLE.open("rb") as handle:
        library = library_import(framework=jee, name="Sample", source="", upload=handle, filename=SAMPLE.name)
    assert library.actions.count() >= 5


def test_the_command_imports_and_prints_counts(jee, tmp_path):
    path = tmp_path / "library.csv"
    path.write_bytes(csv_file(ROWS).getvalue())
    out = io.StringIO()
    call_command("library_import", str(path), framework="jee3", name="WHO benchmarks (2019)", stdout=out)
    assert "Imported 3 actions for 2 indicators into “WHO benchmarks (2019)” (JEE3)" in out.getvalue()
    assert BenchmarkLibrary.objects.get().actions.count() == 3


def test_the_command_prints_every_problem_and_saves_nothing(jee, tmp_path):
    path = tmp_path / "library.csv"
    path.write_bytes(csv_file([["P1.1", 1, "A.", "training", ""], ["Q1", 2, "B.", "training", ""]]).getvalue())
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported: 2 problem"):
        call_command("library_import", str(path), framework="JEE3", name="Bad", stderr=err)
    assert "row 2, column B" in err.getvalue()
    assert "row 3, column A" in err.getvalue()
    assert not BenchmarkLibrary.objects.exists()


@pytest.fixture
def staff():
    user = make_user("librarian", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_benchmarklibrary"))
    user.user_permissions.add(Permission.objects.get(codename="view_benchmarklibrary"))
    return user


IMPORT_URL = "admin:planning_benchmarklibrary_import"


def upload_post(client, jee, content: bytes, filename: str):
    """Upload a library on the admin page; the job it queues runs when the request commits, as a worker would."""
    data = {"framework": jee.pk, "name": "Uploaded", "source": "WHO", "file": SimpleUploadedFile(filename, content)}
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse(IMPORT_URL), data)


def test_staff_with_the_permission_upload_a_library_in_the_admin(client, jee, staff):
    client.force_login(staff)
    changelist = client.get(reverse("admin:planning_benchmarklibrary_changelist"))
    assert reverse(IMPORT_URL) in changelist.content.decode()
    assert client.get(reverse(IMPORT_URL)).status_code == 200
    response = upload_post(client, jee, xlsx(ROWS).getvalue(), "library.xlsx")
    job = Job.objects.get(kind=PlanningJob.LIBRARY_IMPORT)
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == Job.Status.SUCCEEDED
    assert BenchmarkLibrary.objects.get(name="Uploaded").actions.count() == 3
    assert "Imported 3 actions into" in client.get(response["Location"]).content.decode()


def test_the_admin_upload_lists_every_problem_and_saves_nothing(client, jee, staff):
    client.force_login(staff)
    rows = [["P1.1", 6, "A.", "training", ""], ["P1.1", 2, "B.", "dancing", ""]]
    response = upload_post(client, jee, csv_file(rows).getvalue(), "library.csv")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Nothing was saved: the file has 2 problems, each listed with where it is." in page
    assert "row 2, column B: the level is “6”" in page
    assert "unknown action type “dancing”" in page
    assert not BenchmarkLibrary.objects.exists()


def test_the_admin_upload_is_refused_to_others(client, jee):
    url = reverse(IMPORT_URL)
    assert client.get(url).status_code == 302  # anonymous: to the admin login
    client.force_login(make_user("member"))
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(make_user("clerk", is_staff=True))  # staff, but without the permission
    assert client.get(url).status_code == 403
    assert upload_post(client, jee, xlsx(ROWS).getvalue(), "library.xlsx").status_code == 403
    assert not BenchmarkLibrary.objects.exists()


def test_the_demo_library_covers_every_jee3_indicator_and_loads_once(jee):
    library, loaded = demo_library_load(framework=jee)
    assert loaded and library.name == DEMO_LIBRARY_NAME
    per_indicator = Counter(library.actions.values_list("indicator__code", flat=True))
    assert set(per_indicator) == set(jee.indicators.values_list("code", flat=True))
    assert min(per_indicator.values()) >= 2
    assert set(library.actions.values_list("level", flat=True)) == {2, 3, 4, 5}
    assert library.actions.filter(hazard="cholera").exists()
    ids = set(library.actions.values_list("pk", flat=True))
    again, loaded_again = demo_library_load(framework=jee)
    assert (again, loaded_again) == (library, False)
    assert set(again.actions.values_list("pk", flat=True)) == ids
