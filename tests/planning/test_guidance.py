"""Guidance beside the actions: WHO's reference library imported with a benchmark library, an activity's page
naming its guidance and tools, and the national guidance the secretariat adds (pages and API)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from naphs.errors import EditConflict
from naphs.models import AuditEvent
from naphs.permissions import Role
from naphs.spreadsheets import ImportRefused
from planning.guidance import (
    guidance_create,
    guidance_for_activities,
    guidance_update,
    platform_guidance_import,
)
from planning.models import (
    Activity,
    BenchmarkAction,
    BenchmarkLibrary,
    GuidanceDocument,
    Indicator,
    Plan,
    TechnicalArea,
)
from stakeholders.models import PlanMembership
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

SL, SM, TL, FP, RV, VW = (role.value for role in Role)
FILENAME = "reference_library_documents.json"


def area(code: str, framework: str = "JEE3") -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code=framework, code=code)


def published(number: int, **fields) -> dict:
    """One document in the platform's shape, with texts of our own."""
    document = {
        "id": number,
        "title": f"Handbook number {number}\nfor planners",
        "description": f"How to go about step {number}.",
        "author": "World Health Organization",
        "date": "2019",
        "relevant_pages": "All, 9-12",
        "download_url": f"https://guidance.example.org/files/{number}.pdf",
        "thumbnail_url": f"https://guidance.example.org/thumbs/{number}.png",
        "technical_area": "National Legislation, Policy and Financing",
        "reference_type": "Guideline",
        "created_at": "2021-04-12 20:53:06 UTC",
        "updated_at": "2021-04-12 20:53:06 UTC",
        "last_modified": "2020-02-12 19:07:11 UTC",
        "url": None,
        "benchmark_indicator_action_ids": [],
    }
    document.update(fields)
    return document


@pytest.fixture
def library(jee3) -> BenchmarkLibrary:
    """A library whose actions carry the platform's numbers: number 1 sits under two indicators."""
    library = BenchmarkLibrary.objects.create(framework=jee3, name="WHO benchmarks (platform)")
    p11 = Indicator.objects.get(framework=jee3, code="P1.1")
    p12 = Indicator.objects.get(framework=jee3, code="P1.2")
    rows = [
        (p11, 1, "Map the laws that touch health security."),
        (p12, 1, "Map the laws that touch health security."),
        (p11, 2, "Draft   amendments to the public health law."),
        (p12, 3, "Hold a review of the financing rules."),
    ]
    for order, (indicator, number, text) in enumerate(rows, 1):
        BenchmarkAction.objects.create(
            library=library,
            indicator=indicator,
            level=2,
            text=text,
            action_types=["planning"],
            order=order,
            platform_id=number,
            benchmark_indicator="1.1",
        )
    return library


def actions(library: BenchmarkLibrary, number: int) -> list[BenchmarkAction]:
    return list(library.actions.filter(platform_id=number).order_by("pk"))


# --- The import -------------------------------------------------------------------------------------------------


def test_the_import_ties_documents_by_the_platforms_numbers_and_by_action_text(library):
    documents = [
        published(10, reference_type="Tool", benchmark_indicator_action_ids=[1, 2]),
        published(11, benchmark_indicator_actions=["Draft amendments to the public health law."]),
        published(12, reference_type="Training Package", benchmark_indicator_action_ids=[999]),
        published(13, reference_type="briefing note", download_url=None, url="http://guidance.example.org/13"),
    ]
    imported = platform_guidance_import(library=library, documents=documents, filename=FILENAME)

    assert (imported.documents, imported.tied) == (4, 2)
    assert imported.unmatched == {"#999": [3]}
    tool = GuidanceDocument.objects.get(platform_id=10)
    assert tool.title == "Handbook number 10 for planners"  # the title's newline is a space
    assert tool.reference_type == "tool" and tool.year == "2019" and tool.relevant_pages == "All, 9-12"
    assert tool.technical_area_name == "National Legislation, Policy and Financing"
    # Number 1 sits under two indicators: the document is tied to both, and to number 2.
    assert set(tool.actions.all()) == {*actions(library, 1), *actions(library, 2)}
    by_text = GuidanceDocument.objects.get(platform_id=11)
    assert list(by_text.actions.all()) == actions(library, 2)  # the text matched, its spaces aside
    assert GuidanceDocument.objects.get(platform_id=13).link == "http://guidance.example.org/13"


def test_importing_again_replaces_the_librarys_documents(library):
    platform_guidance_import(library=library, documents=[published(1), published(2)], filename=FILENAME)
    platform_guidance_import(library=library, documents=[published(3, title="A newer guide")], filename=FILENAME)

    assert list(library.guidance_documents.values_list("title", flat=True)) == ["A newer guide"]


def test_deleting_the_library_deletes_its_documents(library):
    platform_guidance_import(library=library, documents=[published(1)], filename=FILENAME)
    library.delete()
    assert not GuidanceDocument.objects.exists()


@pytest.mark.parametrize(
    ("document", "where"),
    [
        (published(1, title="  "), "document 2, field title"),
        (published(1, download_url="", url=None), "document 2, field download_url"),
        (published(1, download_url="javascript:alert(1)"), "document 2, field download_url"),
        (published(1, download_url="data:text/html,hello"), "document 2, field download_url"),
        (published(1, download_url="ftp://files.example.org/a.pdf"), "document 2, field download_url"),
        (published(1, reference_type="Poster"), "document 2, field reference_type"),
        (published(1, title="x" * 301), "document 2, field title"),
        (published(1, benchmark_indicator_action_ids=["twelve"]), "document 2, field benchmark_indicator_action_ids"),
        ("not a document", "document 2: must be an object"),
    ],
)
def test_a_shape_error_refuses_the_whole_import_naming_file_document_and_field(library, document, where):
    platform_guidance_import(library=library, documents=[published(7)], filename=FILENAME)
    with pytest.raises(ImportRefused) as refused, transaction.atomic():
        platform_guidance_import(library=library, documents=[published(8), document], filename=FILENAME)
    assert f"{FILENAME}, {where}" in str(refused.value)
    assert list(library.guidance_documents.values_list("platform_id", flat=True)) == [7]  # nothing changed


def test_a_file_that_is_not_a_list_is_refused(library):
    with pytest.raises(ImportRefused, match="a JSON list of documents"):
        platform_guidance_import(library=library, documents={"documents": []}, filename=FILENAME)


def test_a_refused_guidance_import_undoes_the_library_import_around_it(library):
    """The platform importer calls it inside its own transaction: a refusal undoes everything."""
    with pytest.raises(ImportRefused), transaction.atomic():
        library.actions.all().delete()
        platform_guidance_import(library=library, documents=[published(1, reference_type="")], filename=FILENAME)
    assert library.actions.count() == 4


def test_the_admin_imports_a_reference_library_file_into_a_library(client, library):
    admin = make_user("site_admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    url = reverse("admin:planning_benchmarklibrary_guidance_import", args=[library.pk])
    assert client.get(reverse("admin:planning_benchmarklibrary_change", args=[library.pk])).content.count(url.encode())
    body = json.dumps([published(1, benchmark_indicator_action_ids=[2]), published(2)]).encode()

    response = client.post(url, {"file": SimpleUploadedFile(FILENAME, body, "application/json")})

    assert response.status_code == 302
    assert library.guidance_documents.count() == 2
    bad = json.dumps([published(3, download_url="javascript:alert(1)")]).encode()
    response = client.post(url, {"file": SimpleUploadedFile(FILENAME, bad, "application/json")})
    assert response.status_code == 200
    assert "document 1, field download_url" in response.content.decode()
    assert library.guidance_documents.count() == 2  # the earlier import stands


def test_the_admin_import_page_is_the_staffs_only(client, library, people):
    client.force_login(people[SL])
    response = client.get(reverse("admin:planning_benchmarklibrary_guidance_import", args=[library.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- On an activity's page --------------------------------------------------------------------------------------


@pytest.fixture
def sourced(plan, library) -> Activity:
    """An activity of the plan drawn from action number 2, which WHO's tool and guideline cite."""
    platform_guidance_import(
        library=library,
        documents=[
            published(20, title="Legal review guideline", benchmark_indicator_action_ids=[2]),
            published(21, title="Legal mapping tool", reference_type="Tool", benchmark_indicator_action_ids=[2]),
            published(
                22, title="A case from elsewhere", reference_type="Case Study", benchmark_indicator_action_ids=[2]
            ),
            published(23, title="Unrelated manual", reference_type="Manual", benchmark_indicator_action_ids=[3]),
        ],
        filename=FILENAME,
    )
    return Activity.objects.create(
        plan=plan,
        technical_area=area("P1"),
        title="Amend the public health law",
        source="benchmark",
        benchmark_action=actions(library, 2)[0],
    )


def test_an_activity_names_the_who_tool_of_its_action_first_and_opens_it_in_one_click(client, plan, people, sourced):
    client.force_login(people[VW])
    guidance_create(
        plan=plan,
        by=people[SL],
        title="National legal drafting manual",
        reference_type="manual",
        link="https://moh.example.org/legal.pdf",
        technical_areas=[area("P1")],
    )

    page = client.get(reverse("activity_detail", args=[plan.pk, sourced.pk])).content.decode()

    section = page[page.index('id="guidance"') :]
    titles = ["Legal mapping tool", "Legal review guideline", "A case from elsewhere", "National legal drafting manual"]
    positions = [section.index(title) for title in titles]
    assert positions == sorted(positions)  # tool, guideline, the rest of WHO's, then national
    assert "Unrelated manual" not in section
    link = '<a href="https://guidance.example.org/files/21.pdf" target="_blank" rel="noopener noreferrer"'
    assert link in section
    assert "World Health Organization · 2019 · Pages: All, 9-12" in section


def test_the_activity_page_reads_its_guidance_in_the_same_number_of_queries_whatever_its_size(
    client, plan, people, sourced, library
):
    client.force_login(people[SL])
    url = reverse("activity_detail", args=[plan.pk, sourced.pk])
    guidance_create(
        plan=plan,
        by=people[SL],
        title="National note",
        reference_type="briefing_note",
        link="https://moh.example.org/first",
        activities=[sourced],
        technical_areas=[area("P1")],
    )
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    more = [published(100 + n, benchmark_indicator_action_ids=[2]) for n in range(12)]
    platform_guidance_import(library=library, documents=more, filename=FILENAME)
    sourced.benchmark_action = actions(library, 2)[0]
    sourced.save()
    for n in range(5):
        guidance_create(
            plan=plan,
            by=people[SL],
            title=f"National note {n}",
            reference_type="briefing_note",
            link=f"https://moh.example.org/{n}",
            activities=[sourced],
            technical_areas=[area("P1")],
        )
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert page.count("data-guidance-link") == 18
    assert len(many) == len(few)


# --- National guidance: the service -----------------------------------------------------------------------------


def test_national_guidance_refuses_an_activity_of_another_plan_and_an_area_of_another_framework(
    plan, provincial_plan, people
):
    elsewhere = Activity.objects.create(plan=provincial_plan, technical_area=area("P1"), title="Theirs")
    with pytest.raises(ValidationError) as refused:
        guidance_create(
            plan=plan,
            by=people[SL],
            title="A note",
            reference_type="tool",
            link="https://moh.example.org/",
            activities=[elsewhere],
            technical_areas=[area("C1", framework="SPAR2")],
        )
    assert refused.value.message_dict == {
        "activities": [f"Activity {elsewhere.pk} is not an activity of this plan."],
        "technical_areas": ["Not a technical area of this plan's framework: C1."],
    }
    assert not GuidanceDocument.objects.exists()


def test_a_stale_edit_of_national_guidance_is_refused_and_the_first_stays(plan, people):
    document = guidance_create(
        plan=plan, by=people[SL], title="A note", reference_type="tool", link="https://moh.example.org/"
    )
    guidance_update(document=document, by=people[SL], version=1, title="First edit")
    with pytest.raises(EditConflict):
        guidance_update(document=GuidanceDocument.objects.get(pk=document.pk), by=people[SM], version=1, title="Late")
    assert GuidanceDocument.objects.get(pk=document.pk).title == "First edit"
    events = AuditEvent.objects.filter(target_type="guidancedocument").order_by("pk")
    assert list(events.values_list("action", flat=True)) == [
        "created",
        "edited",
    ]


# --- National guidance: the pages -------------------------------------------------------------------------------


def guidance_form(**fields) -> dict:
    return {
        "title": "National legal drafting manual",
        "reference_type": "manual",
        "link": "https://moh.example.org/legal.pdf",
        "description": "",
        "author": "Ministry of Health",
        "date": "2025",
        "relevant_pages": "",
        **fields,
    }


def test_the_secretariat_adds_edits_and_removes_national_guidance(client, plan, people, sourced):
    client.force_login(people[SM])
    url = reverse("plan_guidance", args=[plan.pk])
    page = client.get(url).content.decode()
    assert "Legal mapping tool" in page and "Cited by 1 activity of this plan." in page  # WHO's, cited
    assert "Unrelated manual" not in page

    response = client.post(url, guidance_form(technical_areas=[area("P1").pk], activities=[sourced.pk]))
    assert response.status_code == 302
    document = GuidanceDocument.objects.get(plan=plan)
    assert list(document.activities.all()) == [sourced]
    edit = reverse("plan_guidance_edit", args=[plan.pk, document.pk])
    assert client.post(edit, guidance_form(title="Revised manual", version=1)).status_code == 302
    stale = client.post(edit, guidance_form(title="Too late", version=1))
    assert stale.status_code == 409
    assert GuidanceDocument.objects.get(pk=document.pk).title == "Revised manual"
    assert client.post(reverse("plan_guidance_delete", args=[plan.pk, document.pk])).status_code == 302
    assert not GuidanceDocument.objects.filter(plan=plan).exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"link": "javascript:alert(1)"}, "A link must start with http:// or https://."),
        ({"link": "data:text/html,hello"}, "A link must start with http:// or https://."),
        ({"link": "ftp://files.example.org/a.pdf"}, "A link must start with http:// or https://."),
        ({"title": "x" * 301}, "Ensure this value has at most 300 characters"),
        ({"reference_type": "poster"}, "Select a valid choice"),
    ],
)
def test_bad_national_guidance_is_refused_next_to_its_field(client, plan, people, fields, message):
    client.force_login(people[SL])
    response = client.post(reverse("plan_guidance", args=[plan.pk]), guidance_form(**fields))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not GuidanceDocument.objects.exists()


def test_the_form_refuses_an_activity_of_another_plan_and_an_area_of_another_framework(
    client, plan, provincial_plan, people
):
    elsewhere = Activity.objects.create(plan=provincial_plan, technical_area=area("P1"), title="Theirs")
    client.force_login(people[SL])
    response = client.post(
        reverse("plan_guidance", args=[plan.pk]),
        guidance_form(activities=[elsewhere.pk], technical_areas=[area("C1", framework="SPAR2").pk]),
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert f"Activity {elsewhere.pk} is not an activity of this plan." in page
    assert "is not an area of this plan&#x27;s framework." in page
    assert not GuidanceDocument.objects.exists()


@pytest.mark.parametrize(("role", "status"), [(TL, 403), (FP, 403), (RV, 403), (VW, 403), ("outsider", 404)])
def test_only_the_secretariat_writes_national_guidance(client, plan, people, role, status):
    document = guidance_create(
        plan=plan, by=people[SL], title="A note", reference_type="tool", link="https://moh.example.org/"
    )
    client.force_login(people[role])
    assert client.post(reverse("plan_guidance", args=[plan.pk]), guidance_form()).status_code == status
    edit = reverse("plan_guidance_edit", args=[plan.pk, document.pk])
    assert client.post(edit, guidance_form(version=1)).status_code == status
    assert client.post(reverse("plan_guidance_delete", args=[plan.pk, document.pk])).status_code == status
    assert list(GuidanceDocument.objects.values_list("title", "version")) == [("A note", 1)]
    assert client.get(reverse("plan_guidance", args=[plan.pk])).status_code == (404 if role == "outsider" else 200)


def test_another_plans_member_cannot_reach_its_guidance(client, plan, provincial_plan, people):
    document = guidance_create(
        plan=provincial_plan, by=people[SL], title="Provincial note", reference_type="tool", link="https://p.example/"
    )
    outsider = make_user("provincial_lead")
    PlanMembership.objects.create(plan=plan, user=outsider, role=Role.SECRETARIAT_LEAD)
    client.force_login(outsider)
    # Through their own plan, the other plan's document does not exist.
    assert client.get(reverse("plan_guidance_edit", args=[plan.pk, document.pk])).status_code == 404
    assert client.post(reverse("plan_guidance_delete", args=[plan.pk, document.pk])).status_code == 404
    assert client.get(reverse("plan_guidance", args=[provincial_plan.pk])).status_code == 404
    assert GuidanceDocument.objects.filter(pk=document.pk).exists()


def test_an_endorsed_plan_refuses_changes_to_its_guidance(client, plan, people):
    document = guidance_create(
        plan=plan, by=people[SL], title="A note", reference_type="tool", link="https://moh.example.org/"
    )
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    client.force_login(people[SL])
    assert client.post(reverse("plan_guidance", args=[plan.pk]), guidance_form()).status_code == 423
    edit = reverse("plan_guidance_edit", args=[plan.pk, document.pk])
    assert client.post(edit, guidance_form(version=1)).status_code == 423
    assert client.post(reverse("plan_guidance_delete", args=[plan.pk, document.pk])).status_code == 423
    assert list(GuidanceDocument.objects.values_list("title", "version")) == [("A note", 1)]
    page = client.get(reverse("plan_guidance", args=[plan.pk]))
    assert page.status_code == 200 and 'id="add-guidance"' not in page.content.decode()


def test_a_provincial_plan_shows_its_national_plans_guidance(client, plan, provincial_plan, people):
    guidance_create(
        plan=plan,
        by=people[SL],
        title="National surveillance guide",
        reference_type="guideline",
        link="https://moh.example.org/s",
        technical_areas=[area("D2")],
    )
    member = make_user("province_member")
    PlanMembership.objects.create(plan=provincial_plan, user=member, role=Role.VIEWER)
    activity = Activity.objects.create(plan=provincial_plan, technical_area=area("D2"), title="Provincial drills")
    client.force_login(member)
    assert (
        "National surveillance guide"
        in client.get(reverse("plan_guidance", args=[provincial_plan.pk])).content.decode()
    )
    page = client.get(reverse("activity_detail", args=[provincial_plan.pk, activity.pk])).content.decode()
    assert "National surveillance guide" in page


# --- The API ----------------------------------------------------------------------------------------------------


def test_the_api_lists_both_kinds_and_the_secretariat_writes_national_guidance(api_client, plan, people, sourced):
    api_client.force_authenticate(people[SL])
    url = f"/api/plans/{plan.pk}/guidance/"
    body = {
        "title": "National manual",
        "reference_type": "manual",
        "link": "https://moh.example.org/m.pdf",
        "technical_areas": [area("P1").pk],
        "activities": [sourced.pk],
    }
    created = api_client.post(url, body, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    listed = api_client.get(url).json()["results"]
    assert [(row["kind"], row["title"]) for row in listed] == [
        ("who", "Legal mapping tool"),
        ("who", "Legal review guideline"),
        ("who", "A case from elsewhere"),
        ("national", "National manual"),
    ]
    assert api_client.patch(f"{url}{pk}/", {"title": "Renamed", "version": 1}, format="json").status_code == 200
    stale = api_client.patch(f"{url}{pk}/", {"title": "Late", "version": 1}, format="json")
    assert stale.status_code == 409
    who = listed[0]["id"]
    assert api_client.patch(f"{url}{who}/", {"title": "Mine", "version": 1}, format="json").status_code == 403
    assert api_client.delete(f"{url}{pk}/").status_code == 204
    assert not GuidanceDocument.objects.filter(plan=plan).exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"link": "javascript:alert(1)"}, "link"),
        ({"link": "ftp://files.example.org/a.pdf"}, "link"),
        ({"title": "x" * 301}, "title"),
        ({"reference_type": "poster"}, "reference_type"),
        ({"technical_areas": [0]}, "technical_areas"),
        ({"plan": 1}, "plan"),
    ],
)
def test_the_api_refuses_bad_national_guidance_naming_the_field(api_client, plan, people, fields, field):
    api_client.force_authenticate(people[SL])
    body = {"title": "A note", "reference_type": "tool", "link": "https://moh.example.org/", **fields}
    response = api_client.post(f"/api/plans/{plan.pk}/guidance/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not GuidanceDocument.objects.exists()


def test_the_api_refuses_an_activity_of_another_plan_by_its_number(api_client, plan, provincial_plan, people):
    elsewhere = Activity.objects.create(plan=provincial_plan, technical_area=area("P1"), title="Theirs")
    api_client.force_authenticate(people[SL])
    body = {
        "title": "A note",
        "reference_type": "tool",
        "link": "https://moh.example.org/",
        "activities": [elsewhere.pk],
    }
    response = api_client.post(f"/api/plans/{plan.pk}/guidance/", body, format="json")
    assert response.status_code == 400
    assert response.json()["activities"] == [f"Activity {elsewhere.pk} is not an activity of this plan."]


@pytest.mark.parametrize(("role", "status"), [(TL, 403), (FP, 403), (VW, 403), ("outsider", 404)])
def test_the_api_refuses_guidance_writes_to_others(api_client, plan, people, role, status):
    api_client.force_authenticate(people[role])
    body = {"title": "A note", "reference_type": "tool", "link": "https://moh.example.org/"}
    assert api_client.post(f"/api/plans/{plan.pk}/guidance/", body, format="json").status_code == status
    assert not GuidanceDocument.objects.exists()


def test_the_activity_api_lists_the_activitys_guidance_in_constant_queries(
    api_client, plan, people, sourced, django_assert_max_num_queries
):
    api_client.force_authenticate(people[VW])
    detail = api_client.get(f"/api/plans/{plan.pk}/activities/{sourced.pk}/").json()
    assert [row["title"] for row in detail["guidance"]][:2] == ["Legal mapping tool", "Legal review guideline"]
    assert detail["guidance"][0]["link"] == "https://guidance.example.org/files/21.pdf"
    for n in range(10):
        Activity.objects.create(
            plan=plan, technical_area=area("P1"), title=f"More {n}", benchmark_action=sourced.benchmark_action
        )
    with CaptureQueriesContext(connection) as counted:
        listed = api_client.get(f"/api/plans/{plan.pk}/activities/").json()["results"]
    assert all(len(row["guidance"]) == 3 for row in listed)
    assert len(counted) < 25


def test_guidance_for_activities_reads_a_constant_number_of_queries(plan, people, sourced):
    activities = [sourced] + [
        Activity.objects.create(plan=plan, technical_area=area("P1"), title=f"More {n}") for n in range(20)
    ]
    with CaptureQueriesContext(connection) as counted:
        found = guidance_for_activities(plan=plan, activities=activities)
    assert len(counted) <= 4
    assert len(found[sourced.pk]) == 3 and found[activities[1].pk] == []


def test_a_json_file_is_read_as_the_platform_publishes_it(library):
    from planning.libraries import json_file_read

    data = json_file_read(io.BytesIO(json.dumps([published(1)]).encode("utf-8-sig")))
    assert platform_guidance_import(library=library, documents=data, filename=FILENAME).documents == 1


def test_the_guidance_page_runs_the_same_queries_whatever_the_plans_size(client, plan, people, sourced, library):
    client.force_login(people[SL])
    url = reverse("plan_guidance", args=[plan.pk])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    guidance_create(
        plan=plan, by=people[SL], title="Note 0", reference_type="tool", link="https://moh.example.org/0",
        technical_areas=[area("P1")], activities=[sourced],
    )  # fmt: skip
    few = queries()
    for n in range(1, 8):
        extra = Activity.objects.create(
            plan=plan, technical_area=area("D2"), title=f"Drill {n}", benchmark_action=actions(library, 3)[0]
        )
        guidance_create(
            plan=plan, by=people[SL], title=f"Note {n}", reference_type="tool", link=f"https://moh.example.org/{n}",
            technical_areas=[area("D2")], activities=[extra, sourced],
        )  # fmt: skip
    assert queries() == few
    page = client.get(url).content.decode()
    assert "Unrelated manual" in page and "Cited by 7 activities of this plan." in page
