"""Review rounds: the secretariat opens a round (the draft stored, reviewers e-mailed in their language, the plan
in review), invited members give and change their verdicts, the secretariat closes the round back to draft or on
to endorsement; bad input and races refused with nothing saved; the beat's daily reminder of overdue verdicts; the
pages (htmx verdicts, constant queries) and the API."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from naphs.errors import EditConflict, PlanFrozen
from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.comments import ThreadSubject, thread_start
from planning.models import Activity, CommentThread, Plan, PlanVersion, ReviewInvitation, ReviewRound
from planning.reviews import review_reminders_send, review_round_close, review_round_open, review_verdict_give
from planning.tasks import review_reminders_task
from stakeholders.models import PlanMembership
from tests.conftest import make_user, need_service

pytestmark = pytest.mark.django_db

SL, SM, TL, FP, RV, VW = (
    Role.SECRETARIAT_LEAD,
    Role.SECRETARIAT_MEMBER,
    Role.TECHNICAL_LEAD,
    Role.FOCAL_POINT,
    Role.REVIEWER,
    Role.VIEWER,
)


def today() -> datetime.date:
    return timezone.localdate()


def membership(plan: Plan, user) -> PlanMembership:
    return PlanMembership.objects.select_related("plan", "user").get(plan=plan, user=user)


def open_round(plan: Plan, people, *reviewers: str, due_in: int = 7, message: str = "Please review") -> ReviewRound:
    return review_round_open(
        plan=plan,
        by=people[SL],
        reviewers=[people[role] for role in reviewers or (RV,)],
        due_on=today() + datetime.timedelta(days=due_in),
        message=message,
    )


def verdict(review_round: ReviewRound, people, role: str, value: str, summary: str = "") -> ReviewInvitation:
    invitation = ReviewInvitation.objects.get(review_round=review_round, reviewer=people[role])
    return review_verdict_give(
        review_round=review_round,
        membership=membership(review_round.plan, people[role]),
        verdict=value,
        summary=summary,
        version=invitation.version,
    )


def rounds_url(plan: Plan) -> str:
    return reverse("review_rounds", kwargs={"plan_id": plan.pk})


def round_url(review_round: ReviewRound, name: str = "review_round") -> str:
    return reverse(name, kwargs={"plan_id": review_round.plan_id, "round_id": review_round.pk})


def api_url(plan: Plan, review_round: ReviewRound | None = None, action: str = "") -> str:
    if review_round is None:
        return reverse("review-round-list", kwargs={"plan_id": plan.pk})
    name = f"review-round-{action}" if action else "review-round-detail"
    return reverse(name, kwargs={"plan_id": plan.pk, "round_id": review_round.pk})


@pytest.fixture
def signed_in(client, people):
    def sign_in(role: str):
        client.force_login(people[role])
        return client

    return sign_in


@pytest.fixture
def api(api_client, people):
    def as_role(role: str):
        api_client.force_authenticate(people[role])
        return api_client

    return as_role


# The whole round ---------------------------------------------------------------------------------------------


def test_a_whole_round_opened_in_the_browser_reviewed_and_closed_back_to_draft(
    signed_in, plan, people, mailoutbox, django_capture_on_commit_callbacks
):
    people[RV].language = "fr"
    people[RV].save()
    due = today() + datetime.timedelta(days=10)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(SL).post(
            rounds_url(plan),
            {"reviewers": [people[RV].pk, people[TL].pk], "due_on": due.isoformat(), "message": "Look at P1 first"},
        )
    review_round = ReviewRound.objects.get()
    assert response.status_code == 302 and response["Location"] == round_url(review_round)
    plan.refresh_from_db()
    assert plan.status == Plan.Status.IN_REVIEW
    assert review_round.number == 1 and review_round.due_on == due and review_round.is_open
    assert review_round.snapshot.kind == PlanVersion.Kind.REVIEW
    assert review_round.snapshot.label == "The draft as sent for review in round 1"
    assert {i.reviewer for i in review_round.invitations.all()} == {people[RV], people[TL]}
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted([people[RV].email, people[TL].email])
    french = next(mail for mail in mailoutbox if mail.to == [people[RV].email])
    assert "Bonjour" in french.body and "Look at P1 first" in french.body
    assert round_url(review_round) in french.body and plan.title in french.body
    english = next(mail for mail in mailoutbox if mail.to == [people[TL].email])
    assert "Hello" in english.body and "invites you to review it" in english.body
    assert AuditEvent.objects.filter(plan=plan, action="opened the review round").count() == 1

    # The reviewer gives a verdict in place (htmx), then changes it.
    reviewer = signed_in(RV)
    page = reviewer.get(round_url(review_round))
    assert page.status_code == 200 and 'id="round-verdict"' in page.content.decode()
    invitation = ReviewInvitation.objects.get(reviewer=people[RV])
    answer = reviewer.post(
        round_url(review_round, "review_verdict"),
        {"verdict": "changes_requested", "summary": "Cost P1 again", "version": invitation.version},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200
    body = answer.content.decode()
    with translation.override("fr"):  # the reviewer reads the product in French
        saved = gettext("Your verdict is saved.")
    assert saved in body and 'hx-swap-oob="outerHTML"' in body and "Cost P1 again" in body
    invitation.refresh_from_db()
    assert invitation.verdict == "changes_requested" and invitation.verdict_at is not None
    answer = reviewer.post(
        round_url(review_round, "review_verdict"),
        {"verdict": "no_objection", "summary": "", "version": invitation.version},
    )
    assert answer.status_code == 302
    invitation.refresh_from_db()
    assert invitation.verdict == "no_objection"

    # The secretariat closes it: the reviewer without a verdict is named; the plan goes back to draft.
    lead = signed_in(SL)
    assert "Technical Lead" in lead.get(round_url(review_round)).content.decode()
    response = lead.post(round_url(review_round, "review_round_close"), {"outcome": "draft", "note": "Thanks"})
    assert response.status_code == 302
    shown = lead.get(response["Location"]).content.decode()
    assert "Technical Lead gave no verdict." in shown
    review_round.refresh_from_db()
    plan.refresh_from_db()
    assert review_round.state == "closed" and review_round.outcome == "draft" and review_round.closed_by == people[SL]
    assert plan.status == Plan.Status.DRAFT
    closed = AuditEvent.objects.get(plan=plan, action="closed the review round")
    assert closed.changes["without verdict"] == ["technical_lead"]
    assert AuditEvent.objects.filter(plan=plan, action="gave a verdict").count() == 2


def test_a_second_round_numbers_on_and_closing_on_to_endorsement_awaits_it(plan, people):
    first = open_round(plan, people)
    review_round_close(review_round=first, by=people[SL], outcome="draft")
    second = open_round(plan, people, RV, FP)
    assert second.number == 2
    verdict(second, people, RV, "no_objection")
    verdict(second, people, FP, "no_objection")
    review_round_close(review_round=second, by=people[SM], outcome="endorsement")
    plan.refresh_from_db()
    assert plan.status == Plan.Status.AWAITING_ENDORSEMENT


def test_reviewers_see_what_changed_since_the_previous_round(signed_in, plan, people):
    """The round page leads to the comparison of the previous round's version with this one's, and of this one's
    with the current draft; the comparison shows the activity added between the rounds."""
    first = open_round(plan, people)
    review_round_close(review_round=first, by=people[SL], outcome="draft")
    Activity.objects.create(
        plan=plan, technical_area=plan.framework.technical_areas.first(), title="Added between rounds"
    )
    second = open_round(plan, people)
    compare = f"/plans/{plan.pk}/versions/compare/"
    page = signed_in(RV).get(round_url(first))
    assert page.context["previous_snapshot"] is None
    assert f"{compare}?before={first.snapshot_id}&amp;after=draft" in page.content.decode()
    page = signed_in(RV).get(round_url(second))
    assert page.context["previous_snapshot"] == first.snapshot
    since = f"{compare}?before={first.snapshot_id}&amp;after={second.snapshot_id}"
    assert since in page.content.decode()
    changes = signed_in(RV).get(since.replace("&amp;", "&"))
    assert changes.status_code == 200 and "Added between rounds" in changes.content.decode()


def test_threads_started_while_a_round_is_open_belong_to_it_and_the_filter_offers_the_rounds(signed_in, plan, people):
    def start(text: str) -> CommentThread:
        return thread_start(plan=plan, membership=membership(plan, people[RV]), about=ThreadSubject("plan"), text=text)

    before = start("Before any round")
    review_round = open_round(plan, people)
    during = start("During the round")
    review_round_close(review_round=review_round, by=people[SL], outcome="draft")
    after = start("After it")
    assert (before.review_round, during.review_round, after.review_round) == (None, review_round, None)
    page = signed_in(RV).get(reverse("comments", args=[plan.pk]), {"round": review_round.pk})
    assert page.status_code == 200
    assert [thread.pk for thread in page.context["page"].object_list] == [during.pk]
    assert (review_round.pk, "Review round 1") in page.context["filter_form"].fields["round"].choices
    link = signed_in(RV).get(round_url(review_round)).content.decode()
    assert f"/plans/{plan.pk}/comments/?round={review_round.pk}" in link


def test_the_overview_and_the_home_page_show_the_open_round_and_ones_pending_invitation(signed_in, plan, people):
    review_round = open_round(plan, people, RV)
    reviewer = signed_in(RV)
    overview = reviewer.get(reverse("plan_detail", args=[plan.pk])).content.decode()
    assert "In review" in overview and "Review round 1" in overview
    assert "You are invited to review it and have not given your verdict yet." in overview
    assert "Reviews waiting for your verdict" in reviewer.get(reverse("home")).content.decode()
    verdict(review_round, people, RV, "no_objection")
    assert "Reviews waiting for your verdict" not in reviewer.get(reverse("home")).content.decode()
    other = signed_in(TL).get(reverse("plan_detail", args=[plan.pk])).content.decode()
    assert "Review round 1" in other and "You are invited" not in other
    review_round_close(review_round=review_round, by=people[SL], outcome="endorsement")
    assert "Awaiting endorsement" in signed_in(TL).get(reverse("plan_detail", args=[plan.pk])).content.decode()


# Bad input ---------------------------------------------------------------------------------------------------


def test_opening_without_reviewers_or_with_a_past_due_date_is_refused_saying_where(signed_in, plan, people):
    yesterday = (today() - datetime.timedelta(days=1)).isoformat()
    response = signed_in(SL).post(rounds_url(plan), {"reviewers": [], "due_on": yesterday, "message": ""})
    assert response.status_code == 422
    form = response.context["form"]
    assert "Choose at least one reviewer." in form.errors["reviewers"]
    response = signed_in(SL).post(rounds_url(plan), {"reviewers": [people[RV].pk], "due_on": yesterday})
    assert response.status_code == 422
    assert "has passed" in response.context["form"].errors["due_on"][0]
    assert not ReviewRound.objects.exists() and not PlanVersion.objects.exists()
    plan.refresh_from_db()
    assert plan.status == Plan.Status.DRAFT


def test_a_viewer_a_non_member_and_another_plans_member_are_refused_as_reviewers_by_name(
    signed_in, plan, provincial_plan, people
):
    theirs = make_user("provincial_reviewer")
    PlanMembership.objects.create(plan=provincial_plan, user=theirs, role=Role.REVIEWER)
    due = (today() + datetime.timedelta(days=3)).isoformat()
    response = signed_in(SL).post(rounds_url(plan), {"reviewers": [people[RV].pk, people[VW].pk], "due_on": due})
    assert response.status_code == 422
    assert "Viewer is a viewer of this plan, and viewers do not review" in response.content.decode()
    for stranger in (people["outsider"], theirs):
        response = signed_in(SL).post(rounds_url(plan), {"reviewers": [stranger.pk], "due_on": due})
        assert response.status_code == 422
        assert f"{stranger.pk} is not a member of this plan" in response.context["form"].errors["reviewers"][0]
    # The service names a non-member by user name alone.
    with pytest.raises(ValidationError) as refused:
        review_round_open(plan=plan, by=people[SL], reviewers=[theirs], due_on=today())
    assert "@provincial_reviewer is not a member of this plan" in str(refused.value)


def test_a_second_open_round_and_a_round_of_an_endorsed_plan_are_refused(plan, people):
    open_round(plan, people)
    with pytest.raises(ValidationError, match="Review round 1 is open"):
        open_round(plan, people)
    ReviewRound.objects.update(state="closed")
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    with pytest.raises(PlanFrozen):
        open_round(plan, people)
    assert ReviewRound.objects.count() == 1


def test_a_verdict_from_someone_not_invited_a_viewer_or_a_non_member_is_refused(signed_in, plan, people):
    review_round = open_round(plan, people, RV)
    payload = {"verdict": "no_objection", "summary": "", "version": 1}
    response = signed_in(TL).post(round_url(review_round, "review_verdict"), payload)
    assert response.status_code == 403
    assert "You are not invited to this review round" in response.content.decode()
    assert signed_in(VW).post(round_url(review_round, "review_verdict"), payload).status_code == 403
    assert signed_in("outsider").post(round_url(review_round, "review_verdict"), payload).status_code == 404
    assert signed_in(TL).post(round_url(review_round, "review_verdict"), {}).status_code == 403
    assert not ReviewInvitation.objects.exclude(verdict="").exists()


def test_changes_requested_needs_a_summary_and_no_verdict_lands_after_the_close(plan, people):
    review_round = open_round(plan, people, RV)
    with pytest.raises(ValidationError) as refused:
        verdict(review_round, people, RV, "changes_requested", summary="  ")
    assert "summary" in refused.value.message_dict
    review_round_close(review_round=review_round, by=people[SL], outcome="draft")
    with pytest.raises(ValidationError, match="is closed"):
        verdict(review_round, people, RV, "no_objection")
    assert ReviewInvitation.objects.get().verdict == ""


def test_a_stale_verdict_is_refused_with_a_conflict(plan, people):
    review_round = open_round(plan, people, RV)
    invitation = ReviewInvitation.objects.get()
    member = membership(plan, people[RV])
    give = dict(review_round=review_round, membership=member, summary="", version=invitation.version)
    review_verdict_give(verdict="no_objection", **give)
    with pytest.raises(EditConflict):
        review_verdict_give(verdict="changes_requested", **{**give, "summary": "Later thoughts"})
    assert ReviewInvitation.objects.get().verdict == "no_objection"


def test_closing_a_round_someone_closed_meanwhile_is_refused(signed_in, plan, people):
    review_round = open_round(plan, people)
    stale = ReviewRound.objects.get(pk=review_round.pk)
    review_round_close(review_round=review_round, by=people[SM], outcome="endorsement")
    with pytest.raises(EditConflict, match="was closed by Secretariat Member meanwhile"):
        review_round_close(review_round=stale, by=people[SL], outcome="draft")
    plan.refresh_from_db()
    assert plan.status == Plan.Status.AWAITING_ENDORSEMENT
    response = signed_in(SL).post(round_url(review_round, "review_round_close"), {"outcome": "draft"})
    assert response.status_code == 409 and "was closed by" in response.content.decode()
    assert ReviewRound.objects.get().outcome == "endorsement"


@pytest.mark.django_db(transaction=True)
def test_two_people_opening_a_round_at_once_open_one(plan, people):
    need_service(connection.vendor == "postgresql", "PostgreSQL (concurrency)")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(role: str) -> None:
        try:
            barrier.wait()
            open_round(plan, people, RV, message=role)
            outcomes.append("opened")
        except ValidationError as error:
            outcomes.append("refused" if "is open" in str(error) else repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(role,)) for role in (SL, SM)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["opened", "refused"]
    assert ReviewRound.objects.count() == 1 and PlanVersion.objects.count() == 1


def test_the_same_verdict_version_given_twice_saves_once_through_the_api(api, plan, people):
    review_round = open_round(plan, people, RV)
    invitation = ReviewInvitation.objects.get()
    body = {"verdict": "no_objection", "summary": "", "version": invitation.version}
    assert api(RV).post(api_url(plan, review_round, "verdict"), body, format="json").status_code == 200
    second = api(RV).post(
        api_url(plan, review_round, "verdict"), {**body, "verdict": "changes_requested", "summary": "x"}, format="json"
    )
    assert second.status_code == 409 and second.json()["code"] == "edit_conflict"
    assert ReviewInvitation.objects.get().verdict == "no_objection"


# The beat's reminder -----------------------------------------------------------------------------------------


def test_overdue_reviewers_are_reminded_once_a_day_in_their_language(
    plan, people, mailoutbox, django_capture_on_commit_callbacks
):
    people[TL].language = "fr"
    people[TL].save()
    overdue = open_round(plan, people, RV, TL, FP)
    ReviewRound.objects.filter(pk=overdue.pk).update(due_on=today() - datetime.timedelta(days=2))
    verdict(overdue, people, FP, "no_objection")  # has answered: not reminded
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert review_reminders_task.apply().get() == 2
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted([people[RV].email, people[TL].email])
    french = next(mail for mail in mailoutbox if mail.to == [people[TL].email])
    assert "Bonjour" in french.body and round_url(overdue) in french.body
    with django_capture_on_commit_callbacks(execute=True):
        assert review_reminders_send() == 0, "run again the same day: nobody is reminded twice"
    assert len(mailoutbox) == 2
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert review_reminders_send(now=tomorrow) == 2
    assert len(mailoutbox) == 4
    assert AuditEvent.objects.filter(plan=plan, action="reminded the reviewer").count() == 4


def test_reviewers_of_a_round_not_yet_due_or_closed_are_not_reminded(plan, people, mailoutbox):
    on_time = open_round(plan, people, RV, due_in=0)  # due today: not overdue yet
    assert review_reminders_send() == 0
    ReviewRound.objects.filter(pk=on_time.pk).update(due_on=today() - datetime.timedelta(days=1), state="closed")
    assert review_reminders_send() == 0
    assert ReviewInvitation.objects.get().reminded_at is None
    assert settings.CELERY_BEAT_SCHEDULE["review-reminders"]["task"] == "planning.tasks.review_reminders_task"


# The API ------------------------------------------------------------------------------------------------------


def test_the_api_opens_lists_reads_and_closes_rounds(api, plan, people, mailoutbox, django_capture_on_commit_callbacks):
    due = (today() + datetime.timedelta(days=5)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = api(SM).post(
            api_url(plan), {"reviewers": [people[RV].pk], "due_on": due, "message": "Go"}, format="json"
        )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["number"] == 1 and data["state"] == "open" and data["due_on"] == due
    assert [(i["reviewer"], i["verdict"]) for i in data["invitations"]] == [(people[RV].pk, "")]
    assert len(mailoutbox) == 1
    review_round = ReviewRound.objects.get()
    listed = api(VW).get(api_url(plan)).json()
    assert [row["id"] for row in listed["results"]] == [review_round.pk]
    assert api(VW).get(api_url(plan, review_round)).status_code == 200
    response = api(RV).post(
        api_url(plan, review_round, "verdict"), {"verdict": "changes_requested", "version": 1}, format="json"
    )
    assert response.status_code == 400 and "summary" in response.json()
    assert api(TL).post(api_url(plan, review_round, "verdict"), {}, format="json").status_code == 403
    assert api(RV).post(api_url(plan, review_round, "close"), {"outcome": "draft"}, format="json").status_code == 403
    response = api(SL).post(
        api_url(plan, review_round, "close"), {"outcome": "endorsement", "note": "OK"}, format="json"
    )
    assert response.status_code == 200 and response.json()["outcome"] == "endorsement"
    response = api(SL).post(api_url(plan, review_round, "close"), {"outcome": "draft"}, format="json")
    assert response.status_code == 409


def test_the_api_refuses_unknown_and_read_only_fields_and_bad_reviewers(api, plan, people, provincial_plan):
    due = (today() + datetime.timedelta(days=5)).isoformat()
    good = {"reviewers": [people[RV].pk], "due_on": due}
    for extra in ({"state": "closed"}, {"number": 4}, {"colour": "red"}):
        response = api(SL).post(api_url(plan), {**good, **extra}, format="json")
        assert response.status_code == 400 and next(iter(extra)) in response.json()
    response = api(SL).post(api_url(plan), {**good, "reviewers": [people["outsider"].pk]}, format="json")
    assert response.status_code == 400
    assert f"User {people['outsider'].pk} is not a member of this plan" in str(response.json()["reviewers"])
    response = api(SL).post(api_url(plan), {**good, "reviewers": [people[VW].pk]}, format="json")
    assert response.status_code == 400 and "viewers do not review" in str(response.json()["reviewers"])
    response = api(SL).post(api_url(plan), {**good, "reviewers": []}, format="json")
    assert response.status_code == 400 and "reviewers" in response.json()
    past = (today() - datetime.timedelta(days=1)).isoformat()
    response = api(SL).post(api_url(plan), {**good, "due_on": past}, format="json")
    assert response.status_code == 400 and "due_on" in response.json()
    assert not ReviewRound.objects.exists()


def test_a_round_of_another_plan_is_not_found(api, plan, provincial_plan, people):
    PlanMembership.objects.create(plan=provincial_plan, user=people[SL], role=SL)
    PlanMembership.objects.create(plan=provincial_plan, user=people[RV], role=RV)
    theirs = open_round(provincial_plan, people, RV)
    url = reverse("review-round-detail", kwargs={"plan_id": plan.pk, "round_id": theirs.pk})
    assert api(SL).get(url).status_code == 404
    assert api(RV).post(f"{url}verdict/", {"verdict": "no_objection", "version": 1}, format="json").status_code == 404


def test_the_schema_documents_the_review_round_endpoints(api):
    schema = api(SL).get(reverse("api-schema"), {"format": "json"}).json()
    paths = schema["paths"]
    assert "/api/plans/{plan_id}/review-rounds/" in paths
    assert "/api/plans/{plan_id}/review-rounds/{round_id}/verdict/" in paths
    assert "/api/plans/{plan_id}/review-rounds/{round_id}/close/" in paths


# Queries ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 12])
def test_the_rounds_and_round_pages_run_a_constant_number_of_queries(
    signed_in, plan, people, size, django_assert_max_num_queries
):
    reviewers = []
    for n in range(size):
        user = make_user(f"extra_reviewer_{n}")
        PlanMembership.objects.create(plan=plan, user=user, role=Role.REVIEWER)
        reviewers.append(user)
    for _n in range(size // 2):
        review_round = review_round_open(plan=plan, by=people[SL], reviewers=reviewers, due_on=today(), message="")
        for user in reviewers[: size // 2]:
            invitation = ReviewInvitation.objects.get(review_round=review_round, reviewer=user)
            review_verdict_give(
                review_round=review_round,
                membership=membership(plan, user),
                verdict="no_objection",
                summary="",
                version=invitation.version,
            )
        review_round_close(review_round=review_round, by=people[SL], outcome="draft")
    last = open_round(plan, people, RV, TL)
    lead = signed_in(SL)
    with django_assert_max_num_queries(14):
        assert lead.get(rounds_url(plan)).status_code == 200
    with django_assert_max_num_queries(14):
        assert lead.get(round_url(last)).status_code == 200


def test_the_service_refuses_a_viewer_by_role_before_anything_else(plan, people):
    review_round = open_round(plan, people, RV)
    with pytest.raises(PermissionDenied, match="Viewer"):
        review_verdict_give(
            review_round=review_round,
            membership=membership(plan, people[VW]),
            verdict="no_objection",
            summary="",
            version=1,
        )


def test_a_round_reviews_a_stored_version_when_one_is_chosen(signed_in, api_client, plan, people, provincial_plan):
    """The secretariat chooses what is reviewed: a version it saved (not copied again), or the draft as it is now;
    another plan's version is refused in the page and the API."""
    from planning.versions import plan_version_save

    saved = plan_version_save(plan=plan, by=people[SL], label="Before the validation workshop")
    foreign = plan_version_save(plan=provincial_plan, by=people[SL], label="Not this plan's")
    due = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()
    url = f"/plans/{plan.pk}/reviews/"
    body = {"reviewers": [people[RV].pk], "due_on": due, "message": "", "plan_version": foreign.pk}
    refused = signed_in(SL).post(url, body)
    assert refused.status_code == 422 and "No such version of this plan." in refused.content.decode()
    api_client.force_authenticate(people[SL])
    answer = api_client.post(f"/api/plans/{plan.pk}/review-rounds/", body, format="json")
    assert answer.status_code == 400 and "plan_version" in answer.json()
    assert not ReviewRound.objects.exists()
    answer = api_client.post(f"/api/plans/{plan.pk}/review-rounds/", {**body, "plan_version": saved.pk}, format="json")
    assert answer.status_code == 201, answer.json()
    review_round = ReviewRound.objects.get()
    assert review_round.snapshot == saved
    assert PlanVersion.objects.filter(plan=plan).count() == 1  # the chosen version, not a new copy
