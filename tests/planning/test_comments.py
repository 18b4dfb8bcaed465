"""Comments: threads on the plan, its areas, activities, context and priorities, in the browser and the API;
replies, resolving and reopening (the secretariat or the thread's author); mentions e-mailed in the recipient's
language; counts of open threads in the activity and area tables; bad input refused with nothing saved."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.comments import comment_check, comment_render
from planning.models import Activity, Comment, CommentThread, Plan, TechnicalArea
from stakeholders.models import PlanMembership

pytestmark = pytest.mark.django_db

SL, RV, VW, TL, FP = Role.SECRETARIAT_LEAD, Role.REVIEWER, Role.VIEWER, Role.TECHNICAL_LEAD, Role.FOCAL_POINT


def area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


@pytest.fixture
def activity(plan) -> Activity:
    return Activity.objects.create(plan=plan, technical_area=area("P1"), title="Revise the public health law")


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


def activity_comments_url(plan: Plan, activity: Activity) -> str:
    return reverse("activity_comments", kwargs={"plan_id": plan.pk, "activity_id": activity.pk})


def threads_url(plan: Plan) -> str:
    return reverse("thread-list", kwargs={"plan_id": plan.pk})


def thread_api_url(thread: CommentThread, action: str = "") -> str:
    name = f"thread-{action}" if action else "thread-detail"
    return reverse(name, kwargs={"plan_id": thread.plan_id, "thread_id": thread.pk})


def nothing_saved() -> bool:
    return not CommentThread.objects.exists() and not Comment.objects.exists()


# Writing and reading --------------------------------------------------------------------------------------


def test_a_reviewer_comments_on_an_activity_and_the_secretariat_replies_and_resolves(signed_in, plan, activity, people):
    reviewer = signed_in(RV)
    response = reviewer.post(
        activity_comments_url(plan, activity), {"body": "Which **law**? See [WHO](https://who.int)."}
    )
    assert response.status_code == 302
    thread = CommentThread.objects.get()
    assert (thread.subject, thread.activity, thread.author, thread.state) == ("activity", activity, people[RV], "open")
    assert thread.comments.get().html == (
        '<p>Which <strong>law</strong>? See <a href="https://who.int" rel="noopener noreferrer nofollow">WHO</a>.</p>'
    )

    lead = signed_in(SL)
    thread_url = reverse("comment_thread", kwargs={"plan_id": plan.pk, "thread_id": thread.pk})
    assert lead.post(thread_url, {"body": "The 2005 act."}).status_code == 302
    resolve = reverse("comment_thread_resolve", kwargs={"plan_id": plan.pk, "thread_id": thread.pk})
    assert lead.post(resolve, {"version": thread.version}).status_code == 302
    thread.refresh_from_db()
    assert (thread.state, thread.resolved_by, thread.comments.count()) == ("resolved", people[SL], 2)
    page = lead.get(reverse("activity_detail", kwargs={"plan_id": plan.pk, "activity_id": activity.pk}))
    assert "The 2005 act." in page.content.decode()
    actions = set(AuditEvent.objects.filter(plan=plan, target_type="commentthread").values_list("action", flat=True))
    assert actions == {"thread_start", "comment_add", "thread_resolve"}


def test_htmx_answers_with_the_part_of_the_page_that_changed(signed_in, plan, activity):
    reviewer = signed_in(RV)
    response = reviewer.post(activity_comments_url(plan, activity), {"body": "Too ambitious."}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="thread-new"' in content and 'hx-swap-oob="afterbegin:#threads"' in content
    assert "<html" not in content
    thread = CommentThread.objects.get()
    resolve = reverse("comment_thread_resolve", kwargs={"plan_id": plan.pk, "thread_id": thread.pk})
    response = reviewer.post(resolve, {"version": thread.version}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert (
        response.content.decode().lstrip().startswith("<article")
        and 'data-state="resolved"' in response.content.decode()
    )


def test_the_plan_page_starts_threads_on_the_plan_context_priorities_and_areas_and_filters_them(
    signed_in, plan, activity, people
):
    url = reverse("comments", kwargs={"plan_id": plan.pk})
    reviewer = signed_in(RV)
    assert reviewer.post(url, {"subject": "area", "technical_area": area("D1").pk, "body": "Labs?"}).status_code == 302
    assert reviewer.post(url, {"subject": "priorities", "body": "Rank P1 higher"}).status_code == 302
    focal = signed_in(FP)
    assert focal.post(url, {"subject": "context", "technical_area": "", "body": "Add the floods"}).status_code == 302
    assert focal.post(activity_comments_url(plan, activity), {"body": "On P1"}).status_code == 302
    refused = focal.post(url, {"subject": "area", "technical_area": "", "body": "Which one?"})
    assert refused.status_code == 422 and "Choose the technical area" in refused.content.decode()
    assert CommentThread.objects.count() == 4

    def shown(**query) -> list[str]:
        page = focal.get(url, query).content.decode()
        return sorted(c.body for c in Comment.objects.all() if f">{c.body}<" in page)

    assert shown() == ["Add the floods", "Labs?", "On P1", "Rank P1 higher"]
    assert shown(technical_area=area("P1").pk) == ["On P1"]
    assert shown(author=people[RV].pk) == ["Labs?", "Rank P1 higher"]
    assert shown(subject="context") == ["Add the floods"]
    CommentThread.objects.filter(subject="priorities").update(state="resolved")
    assert shown(state="open") == ["Add the floods", "Labs?", "On P1"]
    assert shown(state="resolved") == ["Rank P1 higher"]


def test_the_activity_table_and_the_overview_count_open_threads_in_constant_queries(
    signed_in, plan, people, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    activities = [Activity.objects.create(plan=plan, technical_area=area("P1"), title=f"A{n}") for n in range(3)]
    lead = signed_in(SL)

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert lead.get(url).status_code == 200
        return len(captured)

    table, overview = reverse("activities", args=[plan.pk]), reverse("plan_detail", args=[plan.pk])
    before = (queries(table), queries(overview))
    for activity in activities:
        for _ in range(2):
            CommentThread.objects.create(plan=plan, subject="activity", activity=activity, author=people[RV])
    CommentThread.objects.create(plan=plan, subject="area", technical_area=area("P1"), author=people[RV])
    CommentThread.objects.create(
        plan=plan, subject="activity", activity=activities[0], author=people[RV], state="resolved"
    )
    assert (queries(table), queries(overview)) == before
    page = lead.get(table).content.decode()
    assert page.count(">2</a></td>") == 3  # each activity's two open threads, the resolved one not counted
    overview_page = lead.get(overview).content.decode()
    assert f'technical_area={area("P1").pk}">7</a>' in overview_page  # six on its activities, one on the area


# Mentions ------------------------------------------------------------------------------------------------


def test_a_mention_emails_the_member_in_their_language_through_the_worker(
    signed_in, plan, activity, people, mailoutbox, django_capture_on_commit_callbacks
):
    people[FP].language = "fr"
    people[FP].save()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = signed_in(RV).post(activity_comments_url(plan, activity), {"body": "@focal_point, your cost?"})
    assert response.status_code == 302
    assert mailoutbox == [], "nothing is sent before the comment is committed"
    for callback in callbacks:
        callback()
    (mail,) = mailoutbox
    assert mail.to == [people[FP].email]
    assert "Bonjour" in mail.body and "@focal_point, your cost?" in mail.body
    thread = CommentThread.objects.get()
    assert f"/plans/{plan.pk}/comments/{thread.pk}/" in mail.body
    assert list(thread.comments.get().mentions.all()) == [people[FP]]
    assert '<span class="mention">@focal_point</span>' in thread.comments.get().html


def test_a_mention_of_someone_who_is_not_a_member_is_refused_and_nobody_is_emailed(
    signed_in, plan, activity, mailoutbox, django_capture_on_commit_callbacks, api
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(RV).post(
            activity_comments_url(plan, activity), {"body": "@outsider @viewer look"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 422
        assert "@outsider is not a member of this plan" in response.content.decode()
        answer = api(RV).post(threads_url(plan), {"subject": "plan", "body": "@nobody_at_all hi"}, format="json")
        assert answer.status_code == 400
        assert "@nobody_at_all is not a member" in answer.json()["body"][0]
    assert nothing_saved()
    assert mailoutbox == []


# Bad input -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "it is empty"),
        ("   \n ", "it is empty"),
        ("x" * 1_048_576, "at most 10,000 characters; this one has 1,048,576"),
        ("Hi <script>alert(1)</script>", "HTML such as <script>"),
        ("<img src=x onerror=alert(1)>", "HTML such as <img"),
        ("[click](javascript:alert(1))", "The link “javascript:alert(1)” is refused"),
        ("[click](JaVaScript:alert(1))", "is refused"),
        ("[click](java&#x73;cript:alert(1))", "is refused"),
        ("[click](data:text/html,hi)", "is refused"),
    ],
)
def test_bad_comments_are_refused_with_a_message_and_nothing_saved(signed_in, api, plan, activity, body, message):
    page = signed_in(RV).post(activity_comments_url(plan, activity), {"body": body}, HTTP_HX_REQUEST="true")
    assert page.status_code == 422
    assert message in html.unescape(page.content.decode())
    answer = api(RV).post(
        threads_url(plan), {"subject": "activity", "target": activity.pk, "body": body}, format="json"
    )
    assert answer.status_code == 400
    assert message in answer.json()["body"][0]
    assert nothing_saved()


def test_what_is_saved_renders_only_the_light_formatting():
    text = comment_check('**a** *b* & "c" [d](https://x.org/?q=1&r="2")\n\nnew *para*\nline')
    assert comment_render(text) == (
        '<p><strong>a</strong> <em>b</em> &amp; "c" '
        '<a href="https://x.org/?q=1&amp;r=&quot;2&quot;" rel="noopener noreferrer nofollow">d</a></p>'
        "<p>new <em>para</em><br>line</p>"
    )
    # Text that looks like markup in a way the checks let through still comes out as text.
    assert comment_render("a < b > c") == "<p>a &lt; b &gt; c</p>"
    assert "mailto:" in comment_render(comment_check("[mail](mailto:a@b.org) a@b.org"))
    assert "mention" not in comment_render("write to a@b.org")


def test_a_comment_on_another_plans_activity_is_not_found(signed_in, api, plan, provincial_plan, people):
    elsewhere = Activity.objects.create(plan=provincial_plan, technical_area=area("P1"), title="Theirs")
    assert signed_in(RV).post(activity_comments_url(plan, elsewhere), {"body": "Hi"}).status_code == 404
    answer = api(RV).post(
        threads_url(plan), {"subject": "activity", "target": elsewhere.pk, "body": "Hi"}, format="json"
    )
    assert answer.status_code == 404
    assert nothing_saved()


def test_a_viewer_reads_comments_but_cannot_comment(signed_in, api, plan, activity, people):
    thread = CommentThread.objects.create(plan=plan, subject="plan", author=people[RV])
    viewer = signed_in(VW)
    assert viewer.get(reverse("comments", args=[plan.pk])).status_code == 200
    assert viewer.post(activity_comments_url(plan, activity), {"body": "Hi"}).status_code == 403
    assert viewer.post(reverse("comments", args=[plan.pk]), {"subject": "plan", "body": "Hi"}).status_code == 403
    assert api(VW).post(threads_url(plan), {"subject": "plan", "body": "Hi"}, format="json").status_code == 403
    assert api(VW).post(thread_api_url(thread, "comments"), {"body": "Hi"}, format="json").status_code == 403
    assert CommentThread.objects.count() == 1 and not Comment.objects.exists()


def test_only_the_secretariat_or_the_threads_author_resolves_and_reopens(api, plan, people):
    PlanMembership.objects.filter(plan=plan, role=TL).update()
    created = api(RV).post(threads_url(plan), {"subject": "plan", "body": "Overall fine"}, format="json")
    assert created.status_code == 201
    thread = CommentThread.objects.get()
    assert api(FP).post(thread_api_url(thread, "resolve"), {"version": 1}, format="json").status_code == 403
    resolved = api(RV).post(thread_api_url(thread, "resolve"), {"version": 1}, format="json")
    assert (resolved.status_code, resolved.json()["state"], resolved.json()["version"]) == (200, "resolved", 2)
    stale = api(SL).post(thread_api_url(thread, "reopen"), {"version": 1}, format="json")
    assert (stale.status_code, stale.json()["code"]) == (409, "edit_conflict")
    reopened = api(SL).post(thread_api_url(thread, "reopen"), {"version": 2}, format="json")
    assert (reopened.status_code, reopened.json()["state"]) == (200, "open")
    thread.refresh_from_db()
    assert (thread.state, thread.resolved_by, thread.version) == ("open", None, 3)


# The API -------------------------------------------------------------------------------------------------


def test_the_api_lists_threads_filtered_and_refuses_unknown_fields(api, plan, activity, people):
    client = api(RV)
    assert (
        client.post(
            threads_url(plan), {"subject": "activity", "target": activity.pk, "body": "A"}, format="json"
        ).status_code
        == 201
    )
    assert (
        client.post(
            threads_url(plan), {"subject": "area", "target": area("D1").pk, "body": "B"}, format="json"
        ).status_code
        == 201
    )
    thread = CommentThread.objects.get(subject="activity")
    reply = api(TL).post(thread_api_url(thread, "comments"), {"body": "C @reviewer"}, format="json")
    assert reply.status_code == 201
    assert [c["body"] for c in reply.json()["comments"]] == ["A", "C @reviewer"]
    assert reply.json()["comments"][1]["mentions"] == [people[RV].pk]

    def listed(**query) -> list[int]:
        return [t["target"] for t in client.get(threads_url(plan), query).json()["results"]]

    assert listed() == [area("D1").pk, activity.pk]
    assert listed(technical_area=area("P1").pk) == [activity.pk]
    assert listed(subject="area") == [area("D1").pk]
    assert listed(state="resolved") == []
    assert client.get(threads_url(plan), {"round": 7}).json()["results"] == []
    assert client.get(threads_url(plan), {"technical_area": 10**9}).status_code == 400

    unknown = client.post(threads_url(plan), {"subject": "plan", "body": "x", "state": "resolved"}, format="json")
    assert unknown.status_code == 400 and "state" in unknown.json()
    no_version = client.post(thread_api_url(thread, "resolve"), {}, format="json")
    assert no_version.status_code == 400 and "version" in no_version.json()
    assert (
        client.post(threads_url(plan), {"subject": "plan", "target": 1, "body": "x"}, format="json").status_code == 400
    )
    assert CommentThread.objects.count() == 2


def test_a_thread_of_another_plan_is_not_found(api, plan, provincial_plan, people):
    PlanMembership.objects.create(plan=provincial_plan, user=people[RV], role=RV)
    theirs = CommentThread.objects.create(plan=provincial_plan, subject="plan", author=people[RV])
    url = reverse("thread-detail", kwargs={"plan_id": plan.pk, "thread_id": theirs.pk})
    assert api(RV).get(url).status_code == 404
    assert api(RV).post(f"{url}comments/", {"body": "x"}, format="json").status_code == 404


@pytest.mark.parametrize("size", [3, 30])
def test_the_thread_list_runs_a_constant_number_of_queries(
    signed_in, api, plan, activity, people, size, django_assert_max_num_queries
):
    for n in range(size):
        thread = CommentThread.objects.create(plan=plan, subject="activity", activity=activity, author=people[RV])
        for author in (RV, SL):
            Comment.objects.create(thread=thread, author=people[author], body=f"{n}", html=f"<p>{n}</p>")
    lead = signed_in(SL)
    with django_assert_max_num_queries(14):
        assert lead.get(reverse("comments", args=[plan.pk])).status_code == 200
    with django_assert_max_num_queries(8):
        assert api(SL).get(threads_url(plan)).status_code == 200
