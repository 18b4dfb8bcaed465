# ruff: noqa: F811  # the costing fixtures, imported, are parameters of the tests below
"""Endorsement and reopening: the lead endorses draft N, which is stored whole as version N and read-only for
everyone; open threads and an open round ask for confirmation; bad input is refused with nothing saved; two
endorsing at once make one endorsement; reopening starts draft N+1 and leaves version N as it was."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from costing.document import document_data, document_endorsement, document_html, margins_html
from costing.models import CostLine
from costing.services import cost_line_create
from costing.versions import content_from_json
from naphs.errors import EditConflict, PlanFrozen
from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.endorsement import plan_endorse, plan_reopen
from planning.models import CommentThread, Endorsement, Plan, PlanVersion, ReviewRound
from planning.versions import plan_version_store
from tests.conftest import need_service
from tests.costing.conftest import costing, line_fields, moa_activity  # noqa: F401  # fixtures

pytestmark = pytest.mark.django_db

SL, SM, TL, FP, RV, VW = (
    Role.SECRETARIAT_LEAD,
    Role.SECRETARIAT_MEMBER,
    Role.TECHNICAL_LEAD,
    Role.FOCAL_POINT,
    Role.REVIEWER,
    Role.VIEWER,
)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
TODAY = timezone.localdate


def page_url(plan: Plan) -> str:
    return reverse("plan_endorsement", kwargs={"plan_id": plan.pk})


def reopen_url(plan: Plan) -> str:
    return reverse("plan_reopen", kwargs={"plan_id": plan.pk})


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def endorse_form(**overrides) -> dict:
    return {"endorsed_on": TODAY().isoformat(), "authority": "Minister of Health", **overrides}


def endorse(plan: Plan, lead, **overrides) -> Endorsement:
    fields = {"endorsed_on": TODAY(), "authority": "Minister of Health", "confirm": True, **overrides}
    return plan_endorse(plan=plan, by=lead, **fields)


def open_thread(plan: Plan, author) -> CommentThread:
    return CommentThread.objects.create(plan=plan, subject="plan", author=author)


def open_round(plan: Plan, lead) -> ReviewRound:
    with transaction.atomic():
        snapshot = plan_version_store(plan=plan, by=lead, kind=PlanVersion.Kind.REVIEW, label="Round 1")
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.IN_REVIEW)
    return ReviewRound.objects.create(plan=plan, number=1, snapshot=snapshot, due_on=TODAY(), opened_by=lead)


# Endorsing and reopening ------------------------------------------------------------------------------------


def test_endorsing_stores_the_version_freezes_the_plan_and_mails_the_secretariat(
    client, costing, moa_activity, lead, people, mailoutbox, django_capture_on_commit_callbacks
):
    plan = costing.plan
    cost_line_create(activity=moa_activity, by=lead, fields=line_fields(), frequencies={2026: 2})
    people[SM].language = "fr"
    people[SM].save()
    client.force_login(lead)
    document = SimpleUploadedFile("signed.pdf", PDF, content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page_url(plan), {**endorse_form(), "signed_document": document})
    assert response.status_code == 302, response.content.decode()[:2000]

    plan.refresh_from_db()
    assert plan.status == Plan.Status.ENDORSED and plan.edition == 1 and plan.is_frozen
    endorsement = Endorsement.objects.get()
    assert (endorsement.number, endorsement.authority, endorsement.endorsed_by) == (1, "Minister of Health", lead)
    assert endorsement.signed_document.read() == PDF
    version = endorsement.plan_version
    assert version.kind == PlanVersion.Kind.ENDORSED and version.label == "Version 1" and version.edition == 1
    content = content_from_json(version.content)
    assert [a["title"] for a in content.activities] == ["Train border veterinarians"]
    assert content.cost_lines[0]["amounts"][2026] == Decimal("1500.00")
    event = AuditEvent.objects.get(action="endorsed")
    assert event.changes["status"] == ["draft", "endorsed"] and event.changes["authority"] == [
        None,
        "Minister of Health",
    ]
    (mail,) = mailoutbox  # the secretariat member; the lead did it
    assert mail.to == [people[SM].email] and "Bonjour" in mail.body and "Minister of Health" in mail.body

    page = client.get(page_url(plan)).content.decode()
    assert "Reopen the plan" in page and 'id="endorse"' not in page
    download = client.get(
        reverse("endorsement_document", kwargs={"plan_id": plan.pk, "endorsement_id": endorsement.pk})
    )
    assert download["Content-Type"] == "application/pdf" and download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;") and b"".join(download.streaming_content) == PDF


def test_an_endorsed_plan_refuses_every_frozen_need_in_pages_and_the_api(client, costing, moa_activity, lead):
    plan = costing.plan
    endorse(plan, lead)
    client.force_login(lead)
    response = client.post(reverse("activity_delete", kwargs={"plan_id": plan.pk, "activity_id": moa_activity.pk}))
    assert response.status_code == 423 and "read-only" in response.content.decode()
    api = api_as(lead)
    answer = api.patch(
        reverse("activity-detail", kwargs={"plan_id": plan.pk, "activity_id": moa_activity.pk}),
        {"title": "Changed", "version": moa_activity.version},
        format="json",
    )
    assert answer.status_code == 423 and answer.json()["code"] == "plan_endorsed"
    answer = api.post(reverse("thread-list", kwargs={"plan_id": plan.pk}), {"subject": "plan", "body": "Hm"})
    assert answer.status_code == 423 and answer.json()["code"] == "plan_endorsed"
    with pytest.raises(PlanFrozen):
        cost_line_create(activity=moa_activity, by=lead, fields=line_fields(), frequencies={2026: 1})
    moa_activity.refresh_from_db()
    assert moa_activity.title == "Train border veterinarians" and not CostLine.objects.exists()


def test_reopening_starts_draft_two_and_leaves_version_one_as_it_was(client, costing, moa_activity, lead):
    plan = costing.plan
    first = endorse(plan, lead)
    stored = dict(first.plan_version.content)
    client.force_login(lead)
    response = client.post(reopen_url(plan), {"reason": "The minister asked for a costed annex."})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.edition) == (Plan.Status.DRAFT, 2)
    first.refresh_from_db()
    assert first.reopened_by == lead and first.reopened_at and first.reopen_reason.startswith("The minister")
    assert AuditEvent.objects.get(action="reopened").changes["edition"] == [1, 2]

    moa_activity.title = "Changed in draft 2"
    moa_activity.save()
    version = PlanVersion.objects.get(pk=first.plan_version_id)
    assert version.content == stored
    assert content_from_json(version.content).activities[0]["title"] == "Train border veterinarians"
    page = client.get(page_url(plan)).content.decode()
    assert "The minister asked for a costed annex." in page and 'id="endorse"' in page

    second = endorse(plan, lead, authority="Council of Ministers")
    assert second.number == 2 and second.plan_version.edition == 2
    assert content_from_json(second.plan_version.content).activities[0]["title"] == "Changed in draft 2"


# Warnings and confirmation ----------------------------------------------------------------------------------


def test_open_threads_and_an_open_round_ask_to_confirm_on_the_page(client, plan, lead, people):
    open_thread(plan, people[RV])
    open_thread(plan, people[RV])
    review = open_round(plan, lead)
    client.force_login(lead)
    page = client.get(page_url(plan)).content.decode()
    assert "2 comment threads are still open" in page and "Review round 1 is still open" in page
    assert f"{reverse('comments', kwargs={'plan_id': plan.pk})}?state=open" in page

    response = client.post(page_url(plan), endorse_form())
    assert response.status_code == 409
    assert "tick the box" in response.content.decode()
    assert not Endorsement.objects.exists() and Plan.objects.get(pk=plan.pk).status == Plan.Status.IN_REVIEW

    response = client.post(page_url(plan), endorse_form(confirm="on"))
    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.state, review.outcome, review.closed_by) == ("closed", "endorsement", lead)
    assert AuditEvent.objects.get(action="endorsed").changes["status"] == ["in_review", "endorsed"]


def test_the_api_answers_409_confirmation_needed_with_the_warnings_then_accepts_confirm(plan, lead, people):
    open_thread(plan, people[RV])
    api = api_as(lead)
    url = reverse("api-plan-endorse", kwargs={"plan_id": plan.pk})
    answer = api.post(url, {"endorsed_on": TODAY().isoformat(), "authority": "Minister of Health"}, format="json")
    assert answer.status_code == 409
    body = answer.json()
    assert body["code"] == "confirmation_needed" and body["warnings"] == [
        "1 comment thread is still open; it stays open on the endorsed version."
    ]
    assert not Endorsement.objects.exists()
    answer = api.post(
        url, {"endorsed_on": TODAY().isoformat(), "authority": "Minister of Health", "confirm": True}, format="json"
    )
    assert answer.status_code == 201 and answer.json()["number"] == 1
    listed = api.get(reverse("endorsement-list", kwargs={"plan_id": plan.pk})).json()
    assert [e["authority"] for e in listed] == ["Minister of Health"]

    answer = api.post(reverse("api-plan-reopen", kwargs={"plan_id": plan.pk}), {"reason": "More work"}, format="json")
    assert answer.status_code == 200 and answer.json()["reopen_reason"] == "More work"


def test_the_api_takes_the_signed_document_as_multipart(plan, lead):
    api = api_as(lead)
    url = reverse("api-plan-endorse", kwargs={"plan_id": plan.pk})
    body = {
        "endorsed_on": TODAY().isoformat(),
        "authority": "Minister",
        "signed_document": SimpleUploadedFile("s.pdf", PDF),
    }
    answer = api.post(url, body, format="multipart")
    assert answer.status_code == 201, answer.content
    download = api.get(answer.json()["signed_document_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


# Bad input ----------------------------------------------------------------------------------------------


def _stored_files() -> list:
    return [path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()] if settings.MEDIA_ROOT.exists() else []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"endorsed_on": (TODAY() + datetime.timedelta(days=1)).isoformat()}, "cannot be in the future"),
        ({"endorsed_on": "2001-01-01"}, "before it was opened here"),
        ({"endorsed_on": ""}, "This field is required"),
        ({"authority": "   "}, "This field is required"),
        ({"authority": "x" * 301}, "at most 300 characters"),
        ({"signed_document": ("signed.docx", PDF)}, "Upload the signed document as a PDF file"),
        ({"signed_document": ("signed.pdf", b"<html><script>alert(1)</script></html>")}, "not a PDF document"),
        ({"signed_document": ("signed.pdf", b"")}, "empty"),
        ({"signed_document": ("signed.pdf", PDF + b"0" * (1024 * 1024))}, "larger than"),
    ],
)
def test_bad_endorsements_are_refused_with_a_message_and_nothing_saved(client, plan, lead, settings, fields, message):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    data = endorse_form(**{k: v for k, v in fields.items() if k != "signed_document"})
    if "signed_document" in fields:
        name, content = fields["signed_document"]
        data["signed_document"] = SimpleUploadedFile(name, content)
    client.force_login(lead)
    response = client.post(page_url(plan), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Endorsement.objects.exists() and not PlanVersion.objects.exists()
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.DRAFT
    assert _stored_files() == []


def test_the_api_refuses_bad_input_and_unknown_fields(plan, lead):
    api = api_as(lead)
    url = reverse("api-plan-endorse", kwargs={"plan_id": plan.pk})
    future = (TODAY() + datetime.timedelta(days=3)).isoformat()
    answer = api.post(url, {"endorsed_on": future, "authority": "Minister"}, format="json")
    assert answer.status_code == 400 and "future" in answer.json()["endorsed_on"][0]
    answer = api.post(url, {"endorsed_on": TODAY().isoformat(), "authority": "M", "number": 3}, format="json")
    assert answer.status_code == 400 and "number" in answer.json()
    assert not Endorsement.objects.exists()


def test_reopening_needs_a_reason_and_an_endorsed_plan(client, plan, lead):
    client.force_login(lead)
    response = client.post(reopen_url(plan), {"reason": "Why not"})
    assert response.status_code == 409 and "Only an endorsed plan can be reopened" in response.content.decode()
    endorse(plan, lead)
    response = client.post(reopen_url(plan), {"reason": "   "})
    assert response.status_code == 422
    plan.refresh_from_db()
    assert plan.status == Plan.Status.ENDORSED and plan.edition == 1
    assert not Endorsement.objects.get().reopened_at


def test_endorsing_an_endorsed_plan_says_who_endorsed_it_and_saves_nothing(client, plan, lead, people):
    endorse(plan, lead)
    with pytest.raises(EditConflict) as refused:
        endorse(plan, lead, authority="Someone else")
    assert "Minister of Health" in str(refused.value) and "already recorded" in str(refused.value)
    answer = api_as(lead).post(
        reverse("api-plan-endorse", kwargs={"plan_id": plan.pk}),
        {"endorsed_on": TODAY().isoformat(), "authority": "Another"},
        format="json",
    )
    assert answer.status_code == 409 and answer.json()["code"] == "edit_conflict"
    assert Endorsement.objects.count() == 1 and PlanVersion.objects.count() == 1


# Permissions -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"), [(SM, 403), (TL, 403), (FP, 403), (RV, 403), (VW, 403), ("outsider", 404)]
)
def test_only_the_lead_endorses_and_reopens(client, plan, people, persona, status):
    client.force_login(people[persona])
    assert client.post(page_url(plan), endorse_form(confirm="on")).status_code == status
    assert (
        api_as(people[persona])
        .post(
            reverse("api-plan-endorse", kwargs={"plan_id": plan.pk}),
            {"endorsed_on": TODAY().isoformat(), "authority": "M"},
        )
        .status_code
        == status
    )
    assert not Endorsement.objects.exists()
    endorse(plan, people[SL])
    assert client.post(reopen_url(plan), {"reason": "Because"}).status_code == status
    assert Plan.objects.get(pk=plan.pk).status == Plan.Status.ENDORSED
    page = client.get(page_url(plan))
    assert page.status_code == (200 if status == 403 else 404)
    if status == 403:
        assert "Reopen the plan" not in page.content.decode()


def test_another_plans_signed_document_is_not_found(client, plan, provincial_plan, lead, people):
    from stakeholders.models import PlanMembership

    PlanMembership.objects.create(plan=provincial_plan, user=lead, role=SL)
    theirs = endorse(provincial_plan, lead, signed_document=SimpleUploadedFile("s.pdf", PDF))
    client.force_login(people[VW])
    url = reverse("endorsement_document", kwargs={"plan_id": plan.pk, "endorsement_id": theirs.pk})
    assert client.get(url).status_code == 404
    client.force_login(lead)
    assert client.get(url).status_code == 404


# What every page shows ---------------------------------------------------------------------------------------


def test_every_plan_page_of_an_endorsed_plan_shows_the_banner_in_constant_queries(
    client, plan, lead, people, django_assert_max_num_queries
):
    client.force_login(people[VW])
    assert "endorsed-banner" not in client.get(reverse("plan_detail", kwargs={"plan_id": plan.pk})).content.decode()
    endorse(plan, lead, authority="Council of Ministers")
    for name in ("plan_detail", "activities", "comments", "targets", "plan_endorsement"):
        page = client.get(reverse(name, kwargs={"plan_id": plan.pk})).content.decode()
        assert "Endorsed: version 1, on" in page and "by Council of Ministers; read-only until" in page, name
    home = client.get(reverse("home")).content.decode()
    assert "Endorsed version 1" in home
    with django_assert_max_num_queries(12):
        client.get(page_url(plan))


def test_the_endorsement_page_runs_a_constant_number_of_queries(client, plan, lead, django_assert_num_queries):
    client.force_login(lead)
    for _round in range(2):
        endorse(plan, lead)
        plan_reopen(plan=plan, by=lead, reason="Again")
    with CaptureQueriesContext(connection) as few:
        client.get(page_url(plan))
    queries = len(few.captured_queries)
    for _round in range(3):
        endorse(plan, lead)
        plan_reopen(plan=plan, by=lead, reason="Again")
    with django_assert_num_queries(queries):
        client.get(page_url(plan))


def test_the_document_of_an_endorsed_plan_names_the_endorsement_and_drops_the_draft_mark(plan, lead):
    assert document_endorsement(plan) is None
    data = document_data(plan=plan, endorsement=document_endorsement(plan))
    assert "DRAFT: not endorsed" in margins_html(data=data, pages=3)  # the mark printed over every page
    endorse(plan, lead, authority="Council of Ministers")
    plan = Plan.objects.get(pk=plan.pk)
    endorsement = document_endorsement(plan)
    assert endorsement is not None and (endorsement.version, endorsement.authority) == (1, "Council of Ministers")
    data = document_data(plan=plan, endorsement=endorsement)
    html = document_html(data=data)
    assert "Version 1, endorsed" in html and "by Council of Ministers" in html
    assert "DRAFT: not endorsed" not in margins_html(data=data, pages=3) + html
    plan_reopen(plan=plan, by=lead, reason="Again")
    assert document_endorsement(Plan.objects.get(pk=plan.pk)) is None


# Two at once -------------------------------------------------------------------------------------------------


def _together(*calls):
    """Run the calls in threads (each with its own connection) released together; each one's outcome."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = calls[index]()
        except Exception as error:  # what the test looks at
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_endorsing_at_once_make_exactly_one_endorsement(plan, people):
    need_service(connection.vendor == "postgresql", "PostgreSQL (concurrency tests)")
    from stakeholders.models import PlanMembership

    second_lead = people[SM]
    PlanMembership.objects.filter(plan=plan, user=second_lead).update(role=SL)
    for _round in range(5):
        outcomes = _together(
            lambda: endorse(Plan.objects.get(pk=plan.pk), people[SL], authority="First"),
            lambda: endorse(Plan.objects.get(pk=plan.pk), second_lead, authority="Second"),
        )
        endorsed = [o for o in outcomes if isinstance(o, Endorsement)]
        refused = [o for o in outcomes if isinstance(o, EditConflict)]
        assert len(endorsed) == 1 and len(refused) == 1, outcomes
        assert "already recorded" in str(refused[0])
        current = Plan.objects.get(pk=plan.pk)
        assert Endorsement.objects.filter(plan=plan, number=current.edition).count() == 1
        plan_reopen(plan=current, by=people[SL], reason="Next round")


@pytest.mark.django_db(transaction=True)
def test_a_cost_line_written_during_the_endorsement_is_in_the_version_or_refused(costing, moa_activity, lead):
    """A write that has taken the plan's row FOR SHARE before the endorsement locks it: the endorsement waits for
    it and its version holds it. A write that reaches its lock after: refused, nothing saved."""
    need_service(connection.vendor == "postgresql", "PostgreSQL (concurrency tests)")
    plan = costing.plan
    locked, release = threading.Event(), threading.Event()

    def slow_write():
        with transaction.atomic():
            line = cost_line_create(activity=moa_activity, by=lead, fields=line_fields(), frequencies={2026: 1})
            locked.set()
            release.wait(timeout=10)  # the endorsement starts meanwhile and waits for this transaction
        return line

    def endorsement():
        locked.wait(timeout=10)
        timer = threading.Timer(0.5, release.set)
        timer.start()
        return endorse(Plan.objects.get(pk=plan.pk), lead)

    written, endorsed = _together(slow_write, endorsement)
    assert not isinstance(written, Exception), written
    assert isinstance(endorsed, Endorsement), endorsed
    content = content_from_json(endorsed.plan_version.content)
    assert [line["id"] for line in content.cost_lines] == [written.pk]

    # After the endorsement: refused whole.
    with pytest.raises(PlanFrozen):
        cost_line_create(activity=moa_activity, by=lead, fields=line_fields(), frequencies={2026: 1})
    assert CostLine.objects.filter(plan=plan).count() == 1
