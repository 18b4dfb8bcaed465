"""The WHO Benchmarks platform's seed files: imported unchanged (as files and as a zip) through the benchmark
indicator mapping, disease actions in drafts of plans that name the disease, the admin pages and the command, and
the problems bad files get."""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from collections import Counter

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.urls import reverse
from rest_framework.test import APIClient

from naphs.models import AuditEvent, Job
from naphs.spreadsheets import ImportRefused
from planning.assessments import assessment_create, scores_set
from planning.benchmark_platform import DEFAULT_NAME, platform_import
from planning.drafting import draft_generate, draft_preview
from planning.models import (
    Activity,
    BenchmarkAction,
    BenchmarkIndicatorLink,
    BenchmarkLibrary,
    Framework,
    GeneratedAction,
    GuidanceDocument,
)
from planning.reference import benchmark_mapping_rows
from planning.services import plan_update
from planning.targets import target_set
from tests.conftest import make_user
from tests.planning.benchmark_seed import (
    ACTIONS_PER_LEVEL,
    DISEASE_ACTIONS,
    GUIDANCE,
    PASSED_OVER,
    STRAY,
    as_uploads,
    benchmark_numbers,
    seed_files,
    seed_zip,
)
from tests.planning.test_endorsement import endorse

pytestmark = pytest.mark.django_db

LEVELLED = len(benchmark_numbers()) * 4 * ACTIONS_PER_LEVEL


@pytest.fixture
def jee() -> Framework:
    return Framework.objects.get(code="JEE3")


@pytest.fixture
def spar() -> Framework:
    return Framework.objects.get(code="SPAR2")


def refused(framework: Framework, files: dict) -> list[str]:
    with pytest.raises(ImportRefused) as caught:
        platform_import(framework=framework, files=as_uploads(files))
    assert not BenchmarkLibrary.objects.exists()
    return [str(problem) for problem in caught.value.problems]


def targets(framework_code: str) -> dict[str, list[str]]:
    mapping: dict[str, list[str]] = {}
    for framework, number, code in benchmark_mapping_rows():
        if framework == framework_code:
            mapping.setdefault(number, []).append(code)
    return mapping


def test_the_seed_files_import_unchanged_into_a_jee3_library(jee):
    imported = platform_import(framework=jee, files=as_uploads({**seed_files(), **STRAY}))
    library = imported.library
    assert (library.name, library.framework) == (DEFAULT_NAME, jee)
    assert imported.levelled == LEVELLED and imported.unmapped == []
    assert imported.by_disease == {tag: len(items) for tag, items in DISEASE_ACTIONS.items()}
    assert imported.indicators_mapped == 44
    assert imported.passed_over == PASSED_OVER
    mapping = targets("JEE3")
    # Every levelled action is in, once per indicator its benchmark indicator maps to, with the platform's number.
    actions = seed_files()["benchmark_indicator_actions.json"]
    expected = Counter()
    for platform_id, action in enumerate(actions, start=1):
        for code in mapping[action["benchmark_indicator_display_abbreviation"]]:
            expected[(platform_id, code, action["level"], action["text"])] += 1
    saved = Counter(
        library.actions.filter(level__isnull=False).values_list("platform_id", "indicator__code", "level", "text")
    )
    assert saved == expected
    # 3.3 (infection prevention and control) goes to two JEE 3 indicators: a row for each, one number.
    first_of_33 = library.actions.filter(benchmark_indicator="3.3").order_by("platform_id").first()
    assert set(
        library.actions.filter(platform_id=first_of_33.platform_id).values_list("indicator__code", flat=True)
    ) == {
        "P4.3",
        "R4.1",
    }
    # WHO's action types by index: 1 Advocacy ... 11 SimEx and AAR, 12 SOPs, 15 Training.
    assert library.actions.get(platform_id=1, indicator__code="P1.1").action_types == ["advocacy"]
    assert library.actions.get(platform_id=11).action_types == ["simulation"]
    assert library.actions.get(platform_id=12).action_types == ["sop"]
    # Disease actions come after the levelled ones, influenza, cholera, then Ebola, without a level.
    influenza = library.actions.filter(hazard="influenza").order_by("platform_id")
    assert [a.platform_id for a in influenza] == [len(actions) + 1, len(actions) + 2, len(actions) + 3]
    assert influenza[0].level is None and influenza[0].action_types == ["surveillance", "coordination"]
    assert influenza[0].indicator.code == "D2.1" and influenza[0].benchmark_indicator == "9.1"
    ebola = library.actions.filter(hazard="ebola").order_by("platform_id")
    assert ebola[0].platform_id == len(actions) + 3 + 2 + 1 and ebola[0].indicator.code == "R3.1"


def test_the_platforms_reference_library_goes_in_with_the_actions_it_cites(jee):
    archive = seed_zip({**seed_files(), **STRAY})
    imported = platform_import(framework=jee, files=[("seed-data.zip", io.BytesIO(archive))])
    assert imported.guidance is not None and (imported.guidance.documents, imported.guidance.tied) == (1, 1)
    assert GUIDANCE not in imported.passed_over
    document = GuidanceDocument.objects.get(library=imported.library)
    assert document.link == "https://guidance.example.org/files/1.pdf"
    cited = set(document.actions.values_list("platform_id", flat=True))
    assert cited == {1, 2}
    assert "1 reference document imported." in imported.summary()


def test_a_bad_reference_library_in_the_files_undoes_the_whole_import(jee):
    bad = [{**STRAY[GUIDANCE][0], "download_url": "javascript:alert(1)"}]
    with pytest.raises(ImportRefused) as refused:
        platform_import(framework=jee, files=as_uploads({**seed_files(), GUIDANCE: bad}))
    assert GUIDANCE in str(refused.value.problems[0])
    assert not BenchmarkLibrary.objects.filter(name=DEFAULT_NAME).exists()
    assert not GuidanceDocument.objects.exists()


def test_a_zip_of_the_seed_data_folder_imports_the_same(jee):
    from_files = platform_import(framework=jee, files=as_uploads(seed_files()))
    rows = set(from_files.library.actions.values_list("platform_id", "indicator__code", "level", "hazard", "text"))
    BenchmarkLibrary.objects.all().delete()
    archive = seed_zip({**seed_files(), **STRAY})
    imported = platform_import(framework=jee, files=[("seed-data.zip", io.BytesIO(archive))])
    assert imported.passed_over == PASSED_OVER
    assert (
        set(imported.library.actions.values_list("platform_id", "indicator__code", "level", "hazard", "text")) == rows
    )


def test_importing_again_replaces_the_librarys_actions(jee):
    platform_import(framework=jee, files=as_uploads(seed_files()))
    files = seed_files()
    files["benchmark_indicator_actions.json"] = files["benchmark_indicator_actions.json"][:10]
    files["benchmark_indicator_actions.json"][0]["text"] = "Test step, reworded."
    imported = platform_import(framework=jee, files=as_uploads(files))
    assert BenchmarkLibrary.objects.count() == 1
    assert imported.levelled == 10
    assert imported.library.actions.filter(level__isnull=False).count() == 10
    assert imported.library.actions.get(platform_id=1).text == "Test step, reworded."
    # The disease actions are numbered after the levelled ones: now from 11.
    assert imported.library.actions.filter(hazard="influenza").order_by("platform_id").first().platform_id == 11


def test_a_draft_generated_before_a_reimport_is_not_drafted_again(raising_plan, lead, seeded):
    draft = draft_generate(plan=raising_plan, by=lead, library=seeded, technical_areas=draft_areas(raising_plan))
    assert draft.added > 0
    activity = Activity.objects.filter(plan=raising_plan).first()
    platform_import(framework=seeded.framework, files=as_uploads(seed_files()))  # the same files again
    again = draft_generate(plan=raising_plan, by=lead, library=seeded, technical_areas=draft_areas(raising_plan))
    assert again.added == 0 and again.already_generated == draft.added
    activity.refresh_from_db()
    assert activity.benchmark_action is not None  # still linked to its action


def test_actions_of_unmapped_benchmark_indicators_are_listed_not_imported(jee, spar):
    BenchmarkIndicatorLink.objects.filter(indicator__framework=jee, benchmark_indicator="4.2").delete()
    imported = platform_import(framework=jee, files=as_uploads(seed_files()))
    assert imported.unmapped == [("4.2", 4 * ACTIONS_PER_LEVEL)]
    assert imported.levelled == LEVELLED - 4 * ACTIONS_PER_LEVEL
    assert "Not mapped to JEE3, so 8 actions were not imported: 4.2 (8)." in imported.summary()
    assert not imported.library.actions.filter(benchmark_indicator="4.2").exists()
    # SPAR 2 has no counterpart for antimicrobial resistance, immunization, nor the link to security authorities.
    into_spar = platform_import(framework=spar, files=as_uploads(seed_files()))
    assert [number for number, _count in into_spar.unmapped] == ["3.1", "3.2", "3.4", "6.1", "6.2", "13.1"]
    assert into_spar.levelled + sum(count for _n, count in into_spar.unmapped) == LEVELLED
    assert into_spar.library.framework == spar
    summary = into_spar.summary()
    assert "Diseases: Influenza 3, Cholera 2, Ebola disease 2." in summary
    assert summary.endswith("48 actions were not imported: 3.1 (8), 3.2 (8), 3.4 (8), 6.1 (8), 6.2 (8), 13.1 (8).")
    assert len(summary) <= 250


def test_files_whose_numbering_matches_no_mapping_are_refused(jee):
    BenchmarkIndicatorLink.objects.filter(indicator__framework=jee).delete()
    problems = refused(jee, seed_files())
    assert len(problems) == 1 and "numbering matches no mapping" in problems[0]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: f.pop("benchmark_indicator_actions.json"), "benchmark_indicator_actions.json is missing"),
        (lambda f: f.pop("benchmark_indicators.json"), "benchmark_indicators.json is missing"),
        (
            lambda f: f["benchmark_indicator_actions.json"][2].update(level=6),
            "benchmark_indicator_actions.json, item 3, field level: “6” is not a whole number from 2 to 5.",
        ),
        (
            lambda f: f["benchmark_indicator_actions.json"][4].update(action_types=[16]),
            "benchmark_indicator_actions.json, item 5, field action_types: “16” is not one of WHO's action types",
        ),
        (
            lambda f: f["cholera_actions.json"][0].update(activity_types=["0"]),
            "cholera_actions.json, item 1, field activity_types: “0” is not one of WHO's action types",
        ),
        (
            lambda f: f["benchmark_indicator_actions.json"][0].update(benchmark_indicator_display_abbreviation="19.1"),
            "benchmark_indicator_actions.json, item 1, field benchmark_indicator_display_abbreviation: "
            "benchmark_indicators.json has no benchmark indicator 19.1.",
        ),
        (
            lambda f: f["benchmark_indicator_actions.json"][1].update(text="", action="Renamed field"),
            "benchmark_indicator_actions.json, item 2, field text: must be a text that is not empty.",
        ),
        (
            lambda f: f["ebola_actions.json"][1].pop("action_text"),
            "ebola_actions.json, item 2, field action_text: missing.",
        ),
        (
            lambda f: f.update({"benchmark_indicators.json": {"not": "a list"}}),
            "benchmark_indicators.json: must be a list of objects",
        ),
    ],
)
def test_files_that_are_not_the_platforms_are_refused_naming_file_item_and_field(jee, change, expected):
    files = seed_files()
    change(files)
    problems = refused(jee, files)
    assert any(expected in problem for problem in problems), problems


def test_every_problem_is_listed_at_once(jee):
    files = seed_files()
    files["benchmark_indicator_actions.json"][0]["level"] = 1
    files["benchmark_indicator_actions.json"][9]["level"] = "high"
    files["influenza_actions.json"][2]["activity_types"] = "8"
    problems = refused(jee, files)
    assert len(problems) == 3
    assert "item 10, field level: “high”" in problems[1]
    assert "influenza_actions.json, item 3, field activity_types" in problems[2]


def test_broken_files_and_archives_are_refused(jee):
    def refusal(name: str, data: bytes) -> str:
        with pytest.raises(ImportRefused) as caught:
            platform_import(framework=jee, files=[(name, io.BytesIO(data))])
        return str(caught.value)

    assert "seed.zip: not a zip archive." in refusal("seed.zip", b"{}")
    assert "seed.zip: a damaged zip archive" in refusal("seed.zip", b"PK\x03\x04 broken")
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("db/seed-data/", b"")
    assert "seed.zip: the archive is empty." in refusal("seed.zip", empty.getvalue())
    broken = {**seed_files(), "benchmark_indicators.json": b"[{"}
    assert "benchmark_indicators.json: not valid JSON" in "; ".join(refused(jee, broken))
    files = {**seed_files(), "benchmark_indicator_actions.json": b"\xff\xfe"}
    assert "not UTF-8" in "; ".join(refused(jee, files))

    def hostile(name: str, data: bytes = b"[]") -> str:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, data)
        return refusal("seed.zip", buffer.getvalue())

    assert "points outside the archive" in hostile("../benchmark_indicators.json")
    assert "points outside the archive" in hostile("/etc/benchmark_indicators.json")
    assert "an archive inside the archive" in hostile("db/seed-data/more.zip", seed_zip(seed_files()))
    assert "nested more than" in hostile("a/b/c/d/e/f/g/h/i/benchmark_indicators.json")
    assert "unpacks to far more data" in hostile("benchmark_indicators.json", b" " * 5_000_000)
    twice = io.BytesIO()
    with zipfile.ZipFile(twice, "w") as archive:
        archive.writestr("a/benchmark_indicators.json", b"[]")
        archive.writestr("b/benchmark_indicators.json", b"[]")
    assert "benchmark_indicators.json: given twice" in refusal("seed.zip", twice.getvalue())
    assert not BenchmarkLibrary.objects.exists()


def test_who_action_type_labels_are_read_by_every_library_import(jee):
    from planning.libraries import library_import

    document = {
        "framework": "JEE3",
        "name": "WHO labels",
        "actions": [
            {"indicator": "P1.1", "level": 2, "action": "One.", "action_types": ["SimEx and AAR", "SOPs"]},
            {"indicator": "P1.1", "level": 3, "action": "Two.", "action_types": ["Program Implementation"]},
            {"indicator": "P1.1", "level": 4, "action": "Three.", "action_types": ["Assessment and Data Use"]},
        ],
    }
    library = library_import(
        framework=None, name="", upload=io.BytesIO(json.dumps(document).encode()), filename="labels.json"
    )
    assert list(library.actions.values_list("action_types", flat=True)) == [
        ["simulation", "sop"],
        ["programme"],
        ["assessment"],
    ]


def test_a_disease_action_needs_its_disease(jee):
    from django.db import IntegrityError, transaction

    library = BenchmarkLibrary.objects.create(framework=jee, name="Constraint")
    indicator = jee.indicators.first()
    BenchmarkAction.objects.create(library=library, indicator=indicator, level=None, hazard="cholera", text="A.")
    with pytest.raises(IntegrityError), transaction.atomic():
        BenchmarkAction.objects.create(library=library, indicator=indicator, level=None, hazard="", text="B.")


def test_the_command_imports_several_files_or_a_zip(jee, tmp_path):
    paths = []
    for name, handle in as_uploads({**seed_files(), **STRAY}):
        (tmp_path / name).write_bytes(handle.getvalue())
        paths.append(str(tmp_path / name))
    out = io.StringIO()
    call_command("library_import", *paths, stdout=out)
    assert f"Into “{DEFAULT_NAME}” (JEE3):" in out.getvalue()
    assert f"{LEVELLED} levelled actions imported." in out.getvalue()
    assert "Passed over (not read): assessment_jee1.json, countries.json" in out.getvalue()
    archive = tmp_path / "seed.zip"
    archive.write_bytes(seed_zip(seed_files()))
    call_command("library_import", str(archive), framework="SPAR2", name="Benchmarks for SPAR", stdout=out)
    assert BenchmarkLibrary.objects.get(name="Benchmarks for SPAR").framework.code == "SPAR2"
    files = seed_files()
    files["benchmark_indicator_actions.json"][0]["level"] = 9
    bad = tmp_path / "bad.zip"
    bad.write_bytes(seed_zip(files))
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported: 1 problem"):
        call_command("library_import", str(bad), name="Bad", stderr=err)
    assert "item 1, field level: “9”" in err.getvalue()
    assert not BenchmarkLibrary.objects.filter(name="Bad").exists()


@pytest.fixture
def librarian():
    user = make_user("librarian", is_staff=True)
    for codename in ("add_benchmarklibrary", "view_benchmarklibrary"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


IMPORT_URL = "admin:planning_benchmarklibrary_import"


def admin_post(client, jee, files: list[tuple[str, bytes]], **fields):
    """Post on the admin page; the job it queues runs when the request commits, as a worker would."""
    data = {"framework": jee.pk, "name": "", "source": "", **fields}
    data["file"] = [SimpleUploadedFile(name, content) for name, content in files]
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse(IMPORT_URL), data)


def test_the_admin_imports_several_seed_files_or_a_zip(client, jee, librarian):
    client.force_login(librarian)
    page = client.get(reverse(IMPORT_URL)).content.decode()
    assert "multiple" in page and ".zip" in page
    files = [(name, handle.getvalue()) for name, handle in as_uploads({**seed_files(), **STRAY})]
    response = admin_post(client, jee, files)
    job = Job.objects.get(kind="library_import")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert f"{LEVELLED} levelled actions imported" in client.get(response["Location"]).content.decode()
    library = BenchmarkLibrary.objects.get(name=DEFAULT_NAME)
    assert library.actions.filter(level__isnull=True).count() == sum(map(len, DISEASE_ACTIONS.values()))
    response = admin_post(client, jee, [("seed-data.zip", seed_zip(seed_files()))], name="Zipped")
    assert BenchmarkLibrary.objects.get(name="Zipped").actions.count() == library.actions.count()


def test_the_admin_lists_the_problems_of_bad_seed_files(client, jee, librarian):
    client.force_login(librarian)
    files = seed_files()
    files["benchmark_indicator_actions.json"][3]["action_types"] = [0]
    response = admin_post(client, jee, [("seed.zip", seed_zip(files))])
    page = client.get(response["Location"]).content.decode()
    assert "benchmark_indicator_actions.json, item 4, field action_types" in page
    not_a_zip = admin_post(client, jee, [("seed.zip", b"not a zip at all")])
    assert "seed.zip: not a zip archive." in client.get(not_a_zip["Location"]).content.decode()
    assert not BenchmarkLibrary.objects.exists()


def test_the_admin_import_is_refused_to_others(client, jee):
    url = reverse(IMPORT_URL)
    client.force_login(make_user("member"))
    assert "/admin/login/" in client.get(url)["Location"]
    client.force_login(make_user("clerk", is_staff=True))  # staff, but without the permission
    assert client.get(url).status_code == 403
    assert admin_post(client, jee, [("seed.zip", seed_zip(seed_files()))]).status_code == 403
    assert not BenchmarkLibrary.objects.exists()


def test_the_mapping_is_edited_exported_and_imported_whole_in_the_admin(client, jee):
    keeper = make_user("keeper", is_staff=True)
    for codename in ("add_benchmarkindicatorlink", "view_benchmarkindicatorlink", "change_benchmarkindicatorlink"):
        keeper.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(keeper)
    shipped = BenchmarkIndicatorLink.objects.count()
    assert shipped == len(benchmark_mapping_rows())
    exported = client.get(reverse("admin:planning_benchmarkindicatorlink_export"))
    lines = exported.content.decode().splitlines()
    assert lines[0] == "framework,benchmark_indicator,indicator" and "JEE3,1.1,P1.1" in lines
    url = reverse("admin:planning_benchmarkindicatorlink_import")
    good = b"framework,benchmark_indicator,indicator\nJEE3,1.1,P1.1\nJEE3,1.1,P1.2\n"
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(url, {"file": SimpleUploadedFile("mapping.csv", good)})
    job = Job.objects.get(kind="benchmark_mapping_import")
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert sorted(jee.indicators.filter(benchmark_links__isnull=False).values_list("code", flat=True)) == [
        "P1.1",
        "P1.2",
    ]
    assert BenchmarkIndicatorLink.objects.filter(indicator__framework__code="SPAR2").exists()  # not named: kept
    bad = b"framework,benchmark_indicator,indicator\nJEE3,1.1,P1.1\nJEE3,one,P1.1\nJEE3,2.1,Q9\n"
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(url, {"file": SimpleUploadedFile("mapping.csv", bad)})
    page = client.get(response["Location"]).content.decode()
    assert "row 3, column B" in page and "row 4, column C" in page
    assert BenchmarkIndicatorLink.objects.filter(indicator__framework=jee).count() == 2
    client.force_login(make_user("clerk", is_staff=True))
    assert client.get(url).status_code == 403
    assert client.get(reverse("admin:planning_benchmarkindicatorlink_export")).status_code == 403


# Priority diseases: the plan names them, and their actions join its draft ---------------------------------------


@pytest.fixture
def seeded(jee3) -> BenchmarkLibrary:
    return platform_import(framework=jee3, files=as_uploads(seed_files())).library


@pytest.fixture
def raising_plan(plan, lead):
    """D2.1 (benchmark 9.1 and 9.2) raised from 2 to 3; R3.1 (14.3) and PoE2 (16.2) kept at 3; R1.3 (12.1) raised
    from 1 to 2."""
    assessment = assessment_create(
        plan=plan, by=lead, framework=plan.framework, kind="jee", date=datetime.date(2025, 6, 1)
    )
    scores_set(assessment=assessment, by=lead, scores={"D2.1": 2, "R3.1": 3, "PoE2": 3, "R1.3": 1})
    for code, level in {"D2.1": 3, "R3.1": 3, "PoE2": 3, "R1.3": 2}.items():
        target_set(plan=plan, by=lead, indicator=plan.framework.indicators.get(code=code), level=level,
                   justification="Agreed at the workshop.")  # fmt: skip
    return plan


def draft_areas(plan) -> list:
    return list(plan.framework.technical_areas.filter(code__in=["D2", "R1", "R3", "PoE"]))


def test_a_plan_names_its_priority_diseases_and_their_actions_join_its_draft(raising_plan, lead, seeded):
    plan = raising_plan
    plan_update(plan=plan, by=lead, version=plan.version, priority_diseases=["influenza", "ebola"])
    preview = draft_preview(plan=plan, library=seeded, technical_areas=draft_areas(plan))
    # Influenza: 9.1 (D2.1, raised) and 12.1 (R1.3, raised); not 14.1 (R1.5, no target). Ebola: 14.3 and 16.2 are
    # not raised (target = current level), so none. Cholera is not named.
    assert preview.by_disease == {"influenza": 2}
    assert preview.diseases == [("Influenza", 2)]
    result = draft_generate(plan=plan, by=lead, library=seeded, technical_areas=draft_areas(plan))
    assert result.by_disease == {"influenza": 2}
    assert "2 of them are about Influenza, a priority disease of the plan." in result.summary()
    disease = Activity.objects.filter(plan=plan, benchmark_action__hazard="influenza")
    assert sorted(disease.values_list("title", flat=True)) == [
        "Influenza: Test influenza step for 12.1.",
        "Influenza: Test influenza step for 9.1.",
    ]
    assert all(activity.hazards == ["biological"] for activity in disease)
    # Levelled actions as before: 2 per level per benchmark indicator, D2.1 gets 9.1's and 9.2's level-3 actions.
    assert Activity.objects.filter(plan=plan, indicators__code="D2.1", benchmark_action__level=3).count() == 4
    # Once: generating again adds nothing.
    again = draft_generate(plan=plan, by=lead, library=seeded, technical_areas=draft_areas(plan))
    assert again.added == 0 and again.by_disease == {}
    # Without a named disease, no disease action comes.
    plan.refresh_from_db()
    plan_update(plan=plan, by=lead, version=plan.version, priority_diseases=[])
    Activity.objects.filter(plan=plan).delete()
    GeneratedAction.objects.filter(plan=plan).delete()
    plain = draft_generate(plan=plan, by=lead, library=seeded, technical_areas=draft_areas(plan))
    assert plain.by_disease == {} and not Activity.objects.filter(plan=plan, benchmark_action__level=None).exists()


def test_the_settings_page_offers_the_libraries_diseases_by_name_and_refuses_a_stale_or_frozen_save(
    client, plan, lead, people, seeded
):
    url = reverse("plan_settings", args=[plan.pk])
    client.force_login(lead)
    page = client.get(url).content.decode()
    assert 'name="priority_diseases"' in page
    assert "Influenza" in page and "Cholera" in page and "Ebola disease" in page
    form = {"title": plan.title, "kind": plan.kind, "first_year": 2026, "last_year": 2030, "version": plan.version}
    response = client.post(url, {**form, "priority_diseases": ["cholera", "ebola"]})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.priority_diseases == ["cholera", "ebola"]
    event = AuditEvent.objects.filter(plan=plan, action="changed settings of").latest("pk")
    assert event.changes["priority_diseases"] == [[], ["cholera", "ebola"]]
    stale = client.post(url, {**form, "priority_diseases": ["influenza"]})  # the version read before the save
    assert stale.status_code == 409
    unknown = client.post(url, {**form, "version": plan.version, "priority_diseases": ["plague"]})
    assert unknown.status_code == 200 and "plague" in unknown.content.decode()
    plan.refresh_from_db()
    assert plan.priority_diseases == ["cholera", "ebola"]
    client.force_login(people["technical_lead"])
    assert client.post(url, {**form, "priority_diseases": ["influenza"]}).status_code == 403
    client.force_login(people["outsider"])
    assert client.get(url).status_code == 404
    endorse(plan, lead)
    client.force_login(lead)
    plan.refresh_from_db()
    assert client.post(url, {**form, "version": plan.version, "priority_diseases": []}).status_code == 423
    plan.refresh_from_db()
    assert plan.priority_diseases == ["cholera", "ebola"]


def test_the_plan_api_reads_and_writes_priority_diseases(plan, lead, people, seeded):
    api = APIClient()
    api.force_authenticate(lead)
    url = f"/api/plans/{plan.pk}/"
    assert api.get(url).json()["priority_diseases"] == []
    response = api.patch(url, {"priority_diseases": ["influenza"], "version": plan.version}, format="json")
    assert response.status_code == 200 and response.json()["priority_diseases"] == ["influenza"]
    stale = api.patch(url, {"priority_diseases": ["cholera"], "version": plan.version}, format="json")
    assert stale.status_code == 409
    plan.refresh_from_db()
    unknown = api.patch(url, {"priority_diseases": ["plague"], "version": plan.version}, format="json")
    assert unknown.status_code == 400 and "priority_diseases" in unknown.json()
    viewer = APIClient()
    viewer.force_authenticate(people["viewer"])
    assert viewer.patch(url, {"priority_diseases": [], "version": plan.version}, format="json").status_code == 403
    outsider = APIClient()
    outsider.force_authenticate(people["outsider"])
    assert outsider.patch(url, {"priority_diseases": [], "version": plan.version}, format="json").status_code == 404
    endorse(plan, lead)
    plan.refresh_from_db()
    frozen = api.patch(url, {"priority_diseases": [], "version": plan.version}, format="json")
    assert frozen.status_code == 423
    plan.refresh_from_db()
    assert plan.priority_diseases == ["influenza"]


def test_an_operational_plan_keeps_the_strategic_plans_priority_diseases(plan, lead, seeded):
    from planning.operational import operational_plan_create

    plan_update(plan=plan, by=lead, version=plan.version, priority_diseases=["cholera"])
    operational = operational_plan_create(
        strategic=plan, by=lead, title="Year one", first_year=2026, last_year=2026, activities=[]
    )
    assert operational.priority_diseases == ["cholera"]


def test_the_settings_page_runs_the_same_queries_however_many_libraries_know_diseases(client, plan, lead, seeded):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(lead)
    url = reverse("plan_settings", args=[plan.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as one_library:
        assert client.get(url).status_code == 200
    platform_import(framework=seeded.framework, files=as_uploads(seed_files()), name="A second copy")
    with CaptureQueriesContext(connection) as two_libraries:
        assert client.get(url).status_code == 200
    assert len(two_libraries) <= len(one_library)
