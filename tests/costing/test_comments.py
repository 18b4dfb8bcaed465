"""Comments on cost lines: costing resolves the line for planning's threads (planning cannot import costing); the
thread counts for the line's activity; a line of another plan is not found; the thread goes with its line."""

from __future__ import annotations

import pytest
from django.urls import reverse

from costing.services import cost_line_create, cost_line_delete
from naphs.permissions import Role
from planning.models import Activity, CommentThread
from planning.selectors import activities_with_open_threads
from tests.costing.conftest import line_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer_api(api_client, people):
    api_client.force_authenticate(people[Role.REVIEWER])
    return api_client


def test_a_comment_on_a_cost_line_names_the_line_and_counts_for_its_activity(
    reviewer_api, plan, moa_line, moa_activity, lead
):
    url = reverse("thread-list", kwargs={"plan_id": plan.pk})
    answer = reviewer_api.post(
        url, {"subject": "cost_line", "target": moa_line.pk, "body": "Why 3 days?"}, format="json"
    )
    assert answer.status_code == 201
    assert (answer.json()["subject"], answer.json()["target"], answer.json()["activity"]) == (
        "cost_line",
        moa_line.pk,
        moa_activity.pk,
    )
    thread = CommentThread.objects.get()
    assert thread.target == moa_line
    assert activities_with_open_threads(plan.activities.all()).get(pk=moa_activity.pk).open_threads == 1
    page = reviewer_api.get(url).json()["results"]
    assert [t["target"] for t in page] == [moa_line.pk]

    cost_line_delete(line=moa_line, by=lead)
    assert not CommentThread.objects.exists()


def test_a_comment_on_another_plans_cost_line_is_not_found(reviewer_api, people, provincial_plan, moa_line):
    url = reverse("thread-list", kwargs={"plan_id": provincial_plan.pk})
    provincial_plan.memberships.create(user=people[Role.REVIEWER], role=Role.REVIEWER)
    answer = reviewer_api.post(url, {"subject": "cost_line", "target": moa_line.pk, "body": "Hm"}, format="json")
    assert answer.status_code == 404
    assert not CommentThread.objects.exists()


def test_the_activity_page_offers_its_cost_lines_to_comment_on(client, people, plan, moa_line, moa_activity, costing):
    other = cost_line_create(
        activity=Activity.objects.create(plan=plan, technical_area=moa_activity.technical_area, title="Other"),
        by=people[Role.SECRETARIAT_LEAD],
        fields=line_fields(description="Fuel"),
        frequencies={2026: 1},
    )
    client.force_login(people[Role.REVIEWER])
    page = client.get(reverse("activity_detail", kwargs={"plan_id": plan.pk, "activity_id": moa_activity.pk}))
    assert f'<option value="cost_line:{moa_line.pk}">Cost line: Workshop venue</option>' in page.content.decode()
    assert f"cost_line:{other.pk}" not in page.content.decode()
    url = reverse("activity_comments", kwargs={"plan_id": plan.pk, "activity_id": moa_activity.pk})
    refused = client.post(url, {"about": f"cost_line:{other.pk}", "body": "Not this one's"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422 and not CommentThread.objects.exists()
    assert client.post(url, {"about": f"cost_line:{moa_line.pk}", "body": "3 days?"}).status_code == 302
    thread = CommentThread.objects.get()
    assert (thread.subject, thread.target, thread.activity) == ("cost_line", moa_line, moa_activity)
    listed = client.get(reverse("comments", kwargs={"plan_id": plan.pk})).content.decode()
    assert "Cost line “Workshop venue” of Train border veterinarians" in listed


def test_a_cost_line_is_commented_on_from_the_costs_page(client, people, plan, moa_line, moa_activity, costing):
    """Each line of the costs page leads to the activity's comment form with the line chosen; a viewer, who does
    not comment, sees no such link, and an unknown or foreign line chooses nothing."""
    costs = reverse("activity_costs", kwargs={"plan_id": plan.pk, "activity_id": moa_activity.pk})
    activity_page = reverse("activity_detail", kwargs={"plan_id": plan.pk, "activity_id": moa_activity.pk})
    link = f"{activity_page}?about=cost_line:{moa_line.pk}#activity-comments-title"
    client.force_login(people[Role.REVIEWER])
    assert link in client.get(costs).content.decode()
    chosen = client.get(f"{activity_page}?about=cost_line:{moa_line.pk}").content.decode()
    assert f'<option value="cost_line:{moa_line.pk}" selected>Cost line: Workshop venue</option>' in chosen
    unknown = client.get(f"{activity_page}?about=cost_line:999999").content.decode()
    assert "selected>Cost line" not in unknown
    client.force_login(people[Role.VIEWER])
    assert link not in client.get(costs).content.decode()
