"""An endorsed plan, beyond the route walk (tests/test_freeze.py): its pages offer no edit, an upload or import queued
before the endorsement is refused when it would apply and saves nothing, draft generation and comments are refused,
and what goes on against it (its derived totals, a shared item's new price in other plans) goes on."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from costing.catalogue import catalogue_item_create, catalogue_item_reprice, catalogue_reprice_preview
from costing.models import CostingUpload, CostLine, CostRollup
from costing.rollups import plan_rollup
from costing.services import cost_line_create, plan_costing_get
from costing.who import who_upload_create, who_workbook
from costing.workbook import costing_upload_create
from naphs.errors import PlanFrozen
from naphs.jobs import job_run
from naphs.models import AuditEvent, Job, Upload
from naphs.permissions import Role
from planning.comments import comment_reply, thread_start, thread_state_set, thread_subject_resolve
from planning.drafting import draft_generate
from planning.libraries import demo_library_load
from planning.models import (
    Activity,
    ActivityDependency,
    Assessment,
    CommentThread,
    Framework,
    FunctionalGroup,
    IndicatorScore,
    Plan,
    TechnicalArea,
)
from stakeholders.models import PlanMembership
from tests.costing.conftest import area, line_fields
from tests.costing.test_workbook import Book, download

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def endorse(plan: Plan) -> None:
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    plan.refresh_from_db()


def assert_refused_for_the_endorsement(job: Job) -> None:
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "is endorsed (version 1) and read-only" in job.error, job.error


# --- Pages ---------------------------------------------------------------------------------------------------


def _main(response) -> str:
    assert response.status_code == 200, response.content.decode()[:500]
    page = response.content.decode()
    return page[page.index("<main") : page.index("</main>")]  # the header's language chooser is a form


def test_the_pages_of_an_endorsed_plan_offer_no_edit(client, plan, costing, moa_line, moa_activity, moh_activity, lead):
    assessment = Assessment.objects.create(
        plan=plan, framework=plan.framework, kind="jee", date=datetime.date(2024, 5, 1)
    )
    group = FunctionalGroup.objects.create(plan=plan, name="Detection")
    ActivityDependency.objects.create(activity=moa_activity, depends_on=moh_activity)
    thread = CommentThread.objects.create(plan=plan, subject="plan", author=lead)
    endorse(plan)
    client.force_login(lead)
    ids = {"plan_id": plan.pk}
    activity = {**ids, "activity_id": moa_activity.pk}
    pages = [
        ("plan_detail", ids),
        ("plan_settings", ids),
        ("activities", ids),
        ("activity_detail", activity),
        ("activity_costs", activity),
        ("activity_dependencies", activity),
        ("assessments", ids),
        ("assessment_detail", {**ids, "assessment_id": assessment.pk}),
        ("targets", ids),
        ("plan_context", ids),
        ("plan_priorities", ids),
        ("functional_groups", ids),
        ("comments", ids),
        ("comment_thread", {**ids, "thread_id": thread.pk}),
        ("funding", ids),
        ("costing_settings", ids),
        ("catalogue", ids),
        ("who_costing", ids),
    ]
    # Exports and the team go on: their forms stay; so does recording a follow-up assessment (re-assessment
    # measures an endorsed plan's progress; the baseline stays as endorsed).
    allowed = {
        reverse(name, kwargs=ids)
        for name in (
            "assessments",
            "plan_workbook_export",
            "plan_open_data_export",
            "who_costing_export",
            "plan_document_request",
            "directory_export",
        )
    }
    editors = [
        reverse("activity_new", kwargs=ids),
        reverse("generate", kwargs=ids),
        reverse("catalogue_item_new", kwargs=ids),
        reverse("funding_new", kwargs=ids),
        reverse("functional_group_edit", kwargs={**ids, "group_id": group.pk}),
        reverse("cost_line_edit", kwargs={**activity, "cost_line_id": moa_line.pk}),
        reverse("costing_upload", kwargs=ids),
    ]
    problems = []
    for name, kwargs in pages:
        main = _main(client.get(reverse(name, kwargs=kwargs)))
        for form in re.findall(r"<form\b[^>]*>", main):
            if 'method="post"' in form:
                action = re.search(r'action="([^"]*)"', form)
                if action is None or action[1] not in allowed:
                    problems.append(f"{name}: {form}")
        problems += [f"{name} offers {url}" for url in editors if f'"{url}"' in main]
    assert not problems, "\n".join(problems)


def test_the_costs_page_of_an_endorsed_plan_says_why_its_costs_cannot_change(
    client, plan, moa_line, moa_activity, lead
):
    endorse(plan)
    client.force_login(lead)
    main = _main(client.get(reverse("activity_costs", args=[plan.pk, moa_activity.pk])))
    assert main.count("is endorsed (version 1) and read-only") == 1


def test_a_refused_htmx_reply_answers_423_with_the_reason_for_the_page_to_show(client, plan, lead):
    thread = CommentThread.objects.create(plan=plan, subject="plan", author=lead)
    endorse(plan)
    client.force_login(lead)
    response = client.post(
        reverse("comment_thread", args=[plan.pk, thread.pk]), {"body": "Agreed."}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 423
    assert 'data-refused="plan_endorsed"' in response.content.decode()
    assert "is endorsed (version 1)" in response.content.decode()
    assert thread.comments.count() == 0


# --- Uploads and imports queued before the endorsement ----------------------------------------------------------


def test_a_costing_workbook_uploaded_before_the_endorsement_is_refused_when_it_would_apply(
    client, django_capture_on_commit_callbacks, plan, moa_line, lead
):
    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    book = Book(download(client, run, plan, lead))
    book.set(book.line_row(moa_line), "Quantity", 7)
    upload = costing_upload_create(
        plan=plan, by=lead, file=SimpleUploadedFile("costing.xlsx", book.bytes(), content_type=XLSX)
    )
    last_event = AuditEvent.objects.order_by("pk").last().pk
    endorse(plan)
    job_run(job_id=upload.job_id)
    upload.refresh_from_db()
    assert upload.status == CostingUpload.Status.REFUSED
    assert "is endorsed (version 1) and read-only" in str(upload.problems)  # the problem the upload's page lists
    assert upload.job.status == Job.Status.FAILED
    assert CostLine.objects.get(pk=moa_line.pk).quantity == Decimal("3")
    assert not AuditEvent.objects.filter(pk__gt=last_event, action="imported").exists()


def test_a_who_import_queued_before_the_endorsement_is_refused_and_saves_nothing(
    plan, costing, moa_line, lead, country, jee3
):
    other = Plan.objects.create(
        framework=jee3, jurisdiction=country, title="Testland NAPHS, second draft", first_year=2026, last_year=2030
    )
    PlanMembership.objects.create(plan=other, user=lead, role=Role.SECRETARIAT_LEAD)
    plan_costing_get(other)
    upload = who_upload_create(plan=other, by=lead, upload=io.BytesIO(who_workbook(plan)), filename="who.xlsx")
    endorse(other)
    job_run(job_id=upload.job_id)
    upload.refresh_from_db()
    assert upload.status == CostingUpload.Status.REFUSED
    assert_refused_for_the_endorsement(upload.job)
    assert not Activity.objects.filter(plan=other).exists() and not CostLine.objects.filter(plan=other).exists()


@pytest.mark.parametrize(
    ("framework", "route", "payload"),
    [
        ("JEE3", "assessment_import", {"file": ("scores.csv", b"indicator,score\nP1.1,3\nP1.2,4\n")}),
        (
            "SPAR2",
            "assessment_import_spar",
            {"file": ("spar.csv", b"WHO region,Country,C.1,C.1.1\nAFR,Testland,60,60\n"), "country": "Testland"},
        ),
    ],
)
def test_a_score_import_queued_before_the_endorsement_is_refused_and_saves_nothing(
    client, plan, lead, framework, route, payload
):
    assessment = Assessment.objects.create(
        plan=plan, framework=Framework.objects.get(code=framework), kind="jee", date=datetime.date(2024, 5, 1)
    )
    client.force_login(lead)
    data = {key: SimpleUploadedFile(*value) if isinstance(value, tuple) else value for key, value in payload.items()}
    assert client.post(reverse(route, args=[plan.pk, assessment.pk]), data).status_code == 302  # queued, not run
    job = Job.objects.get(plan=plan, requested_by=lead, status=Job.Status.QUEUED)
    endorse(plan)
    job_run(job_id=job.pk)
    assert_refused_for_the_endorsement(job)
    upload = Upload.objects.get(job=job)
    assert upload.status == Upload.Status.REFUSED and "is endorsed (version 1)" in upload.message
    assert not IndicatorScore.objects.filter(assessment=assessment).exists()


# --- Draft generation and comments -----------------------------------------------------------------------------


def test_draft_generation_is_refused_on_an_endorsed_plan(plan, lead):
    library, _ = demo_library_load(framework=plan.framework)
    endorse(plan)
    with pytest.raises(PlanFrozen):
        draft_generate(
            plan=plan, by=lead, library=library, technical_areas=TechnicalArea.objects.filter(framework=plan.framework)
        )
    assert not Activity.objects.filter(plan=plan).exists()


def test_comments_are_refused_on_an_endorsed_plan_started_replied_resolved_or_reopened(plan, people, lead):
    reviewer = PlanMembership.objects.select_related("plan").get(plan=plan, user=people[Role.REVIEWER])
    secretariat = PlanMembership.objects.select_related("plan").get(plan=plan, user=lead)
    thread = thread_start(
        plan=plan, membership=reviewer, about=thread_subject_resolve(plan=plan, subject="plan"), text="Reads well."
    )
    endorse(plan)
    reviewer.plan.refresh_from_db()
    secretariat.plan.refresh_from_db()
    with pytest.raises(PlanFrozen):
        thread_start(
            plan=plan, membership=reviewer, about=thread_subject_resolve(plan=plan, subject="plan"), text="Another"
        )
    with pytest.raises(PlanFrozen):
        comment_reply(thread=thread, membership=reviewer, text="Agreed.")
    for state in (CommentThread.State.RESOLVED, CommentThread.State.OPEN):
        with pytest.raises(PlanFrozen):
            thread_state_set(thread=thread, membership=secretariat, state=state, version=thread.version)
    thread.refresh_from_db()
    assert thread.state == CommentThread.State.OPEN and thread.comments.count() == 1
    assert CommentThread.objects.filter(plan=plan).count() == 1


# --- What goes on ---------------------------------------------------------------------------------------------


def test_an_endorsed_plans_totals_are_still_recomputed(plan, moa_line):
    CostRollup.objects.filter(plan=plan).delete()
    endorse(plan)
    assert plan_rollup(plan_id=plan.pk)
    assert CostRollup.objects.filter(plan=plan).exists()


def test_a_shared_items_new_price_leaves_an_endorsed_plans_lines_as_they_were_endorsed(
    plan, costing, moa_activity, lead, country, jee3
):
    other = Plan.objects.create(
        framework=jee3, jurisdiction=country, title="Testland operational plan", first_year=2026, last_year=2030
    )
    PlanMembership.objects.create(plan=other, user=lead, role=Role.SECRETARIAT_LEAD)
    plan_costing_get(other)
    item = catalogue_item_create(
        by=lead,
        jurisdiction=country,
        via=other,
        name="Venue hire",
        category="meetings",
        unit="day",
        unit_cost=Decimal("100"),
        currency="USD",
        price_year=2026,
    )
    other_activity = Activity.objects.create(plan=other, technical_area=area("P1"), title="Train")
    fields = line_fields(catalogue_item=item, unit_cost=Decimal("100"))
    endorsed_line = cost_line_create(activity=moa_activity, by=lead, fields=fields, frequencies={2026: 1})
    other_line = cost_line_create(activity=other_activity, by=lead, fields=fields, frequencies={2026: 1})
    endorse(plan)
    preview = catalogue_reprice_preview(item=item, user=lead, unit_cost=Decimal("120"), currency="USD", price_year=2026)
    assert (preview.line_count, preview.kept_line_count) == (1, 1)
    result = catalogue_item_reprice(
        item=item, by=lead, version=item.version, unit_cost=Decimal("120"), currency="USD", price_year=2026, via=other
    )
    assert (result.line_count, result.plan_count) == (1, 1)
    assert CostLine.objects.get(pk=other_line.pk).unit_cost == Decimal("120")
    assert CostLine.objects.get(pk=endorsed_line.pk).unit_cost == Decimal("100")
