"""Versions of a plan and their comparison: exactly what changed between two stored versions or a version and the
current draft (activities, their fields and cost lines, targets, the gap), in pages and the API, for members only,
in a constant number of queries; and the whole-plan workbook of a stored version."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import formats
from openpyxl import load_workbook

from costing.comparison import DRAFT, plan_versions_compare
from costing.funding import funding_commitment_create
from costing.models import CostLine
from costing.services import cost_line_create, cost_line_update
from naphs.models import Job
from naphs.permissions import Role
from planning.activities import activity_update
from planning.models import Activity, Indicator, IndicatorTarget, Plan, PlanVersion
from planning.versions import plan_version_save, plan_version_store
from tests.costing.conftest import area, line_fields

pytestmark = pytest.mark.django_db


def _version(plan: Plan, lead, label: str = "v") -> PlanVersion:
    return plan_version_save(plan=plan, by=lead, label=label)


def _p1_indicator() -> Indicator:
    return Indicator.objects.filter(technical_area=area("P1")).order_by("order").first()


@pytest.fixture
def stored(costing, moa_activity, moh_activity, lead):
    """A costed plan with a target and a committed area funding, and a version of it."""
    plan = costing.plan
    cost_line_create(activity=moa_activity, by=lead, fields=line_fields(), frequencies={2026: 2, 2027: 1})
    IndicatorTarget.objects.create(plan=plan, indicator=_p1_indicator(), level=3, justification="First step")
    return _version(plan, lead, "before the workshop")


def test_a_version_compared_with_itself_or_an_unchanged_draft_shows_nothing_changed(stored, client, lead):
    plan = stored.plan
    for before, after in ((str(stored.pk), str(stored.pk)), (str(stored.pk), DRAFT)):
        comparison = plan_versions_compare(plan=plan, before=before, after=after)
        assert comparison.same, (before, after)
    client.force_login(lead)
    response = client.get(f"/plans/{plan.pk}/versions/compare/?before={stored.pk}&after={stored.pk}")
    assert response.status_code == 200
    assert "Nothing changed" in response.content.decode()


def test_the_comparison_shows_exactly_what_changed(stored, moa_activity, moh_activity, lead, plan):
    line = CostLine.objects.get(activity=moa_activity)
    moa_activity.refresh_from_db()
    activity_update(
        activity=moa_activity,
        by=lead,
        version=moa_activity.version,
        title="Train border and port veterinarians",
        priority="high",
        start_date=datetime.date(2026, 3, 1),
    )
    cost_line_update(line=line, by=lead, version=line.version, fields={"quantity": Decimal("4")})
    cost_line_create(activity=moa_activity, by=lead, fields=line_fields(description="Trainers"), frequencies={2028: 1})
    added = Activity.objects.create(plan=plan, technical_area=area("P2"), title="Write the coordination law")
    removed_id = moh_activity.pk
    moh_activity.delete()
    target = IndicatorTarget.objects.get(plan=plan)
    IndicatorTarget.objects.filter(pk=target.pk).update(level=4, justification="Agreed at the workshop")

    comparison = plan_versions_compare(plan=plan, before=str(stored.pk), after=DRAFT)

    assert [change.key for change in comparison.added] == [added.pk]
    assert [change.key for change in comparison.removed] == [removed_id]
    (changed,) = comparison.changed
    assert changed.key == moa_activity.pk
    assert {change.field: (change.before, change.after) for change in changed.fields} == {
        "title": ("Train border veterinarians", "Train border and port veterinarians"),
        "priority": ("", "high"),
        "start_date": ("", "2026-03-01"),
    }
    kinds = {line_change.kind: line_change for line_change in changed.lines}
    assert set(kinds) == {"added", "changed"}
    assert kinds["added"].row["description"] == "Trainers"
    line_changes = {change.field: (change.before, change.after) for change in kinds["changed"].fields}
    assert line_changes["quantity"] == (Decimal("3"), Decimal("4"))
    assert line_changes["amount:2026"] == (Decimal("1500.00"), Decimal("2000.00"))
    assert (changed.cost_before, changed.cost_after) == (Decimal("2250.00"), Decimal("3750.00"))
    (target_change,) = comparison.targets
    assert {change.field: (change.before, change.after) for change in target_change.fields} == {
        "level": (3, 4),
        "justification": ("First step", "Agreed at the workshop"),
    }
    assert not comparison.scores and not comparison.priorities and not comparison.contexts
    assert not comparison.same

    # As people read it: the choice's label, the date in the page's format.
    priority = next(change for change in changed.fields if change.field == "priority")
    assert (priority.label, priority.before_text, priority.after_text) == ("Priority", "–", "High")
    start = next(change for change in changed.fields if change.field == "start_date")
    assert start.after_text == formats.date_format(datetime.date(2026, 3, 1), "DATE_FORMAT") == "1 Mar 2026"


def test_the_gap_before_and_after_follows_the_funding(stored, moa_activity, lead, plan, moh):
    funding_commitment_create(
        plan=plan,
        by=lead,
        fields={
            "source_organization": moh,
            "source_kind": "government",
            "amount": Decimal("1000.00"),
            "currency": "USD",
            "first_year": 2026,
            "last_year": 2026,
            "status": "committed",
            "technical_area": area("P1"),
        },
    )
    comparison = plan_versions_compare(plan=plan, before=str(stored.pk), after=DRAFT)
    assert comparison.gap_known and not comparison.activities
    (p1,) = comparison.gap
    assert p1.technical_area == "P1"
    cell_2026 = next(cell for cell in p1.cells if cell.year == 2026)
    assert (cell_2026.required_before, cell_2026.required_after) == (Decimal("1500.00"), Decimal("1500.00"))
    assert (cell_2026.gap_before, cell_2026.gap_after, cell_2026.gap_difference) == (
        Decimal("1500.00"),
        Decimal("500.00"),
        Decimal("-1000.00"),
    )
    assert comparison.gap_total.gap_before == Decimal("2250.00")
    assert comparison.gap_total.gap_after == Decimal("1250.00")
    (funding,) = comparison.funding
    assert funding.kind == "added"
    assert not comparison.same


def test_a_stored_version_never_changes_when_the_draft_does(stored, moa_activity, lead):
    content, digest = stored.content, stored.digest
    moa_activity.title = "Renamed"
    moa_activity.save()
    stored.refresh_from_db()
    assert (stored.content, stored.digest) == (content, digest)
    stored.label = "renamed"
    with pytest.raises(ValueError):
        stored.save()


def test_the_comparison_page_reads_each_change(stored, moa_activity, lead, client, people):
    moa_activity.refresh_from_db()
    activity_update(activity=moa_activity, by=lead, version=moa_activity.version, title="Renamed activity")
    client.force_login(people[Role.VIEWER])
    response = client.get(f"/plans/{stored.plan_id}/versions/compare/", {"before": stored.pk, "after": DRAFT})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Train border veterinarians" in page and "Renamed activity" in page
    assert "Cost and gap per area and year" in page


def test_the_versions_page_lists_them_and_the_secretariat_saves_one(stored, client, people):
    plan = stored.plan
    client.force_login(people[Role.VIEWER])
    page = client.get(f"/plans/{plan.pk}/versions/").content.decode()
    assert "before the workshop" in page and "Save the version" not in page
    assert client.post(f"/plans/{plan.pk}/versions/", {"label": "mine"}).status_code == 403

    client.force_login(people[Role.SECRETARIAT_MEMBER])
    response = client.post(f"/plans/{plan.pk}/versions/", {"label": "  after the workshop "})
    assert response.status_code == 302
    assert PlanVersion.objects.filter(plan=plan, label="after the workshop", kind="named").exists()


@pytest.mark.parametrize("label", ["", "   ", "x" * 201])
def test_a_version_needs_a_name_of_at_most_200_characters(stored, client, lead, api_client, label):
    plan = stored.plan
    client.force_login(lead)
    assert client.post(f"/plans/{plan.pk}/versions/", {"label": label}).status_code == 422
    api_client.force_authenticate(lead)
    response = api_client.post(f"/api/plans/{plan.pk}/versions/", {"label": label}, format="json")
    assert response.status_code == 400
    assert "label" in response.json()
    assert PlanVersion.objects.filter(plan=plan).count() == 1


def test_an_endorsed_plan_refuses_a_named_version(stored, client, lead, api_client):
    plan = stored.plan
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    client.force_login(lead)
    response = client.post(f"/plans/{plan.pk}/versions/", {"label": "another"})
    assert response.status_code == 423
    api_client.force_authenticate(lead)
    response = api_client.post(f"/api/plans/{plan.pk}/versions/", {"label": "another"}, format="json")
    assert (response.status_code, response.json()["code"]) == (423, "plan_endorsed")
    assert PlanVersion.objects.filter(plan=plan).count() == 1


@pytest.fixture
def foreign_version(other_country, lead):
    other = Plan.objects.create(jurisdiction=other_country, title="Elsewhere", first_year=2026, last_year=2030)
    return plan_version_store(plan=other, by=None, kind=PlanVersion.Kind.NAMED, label="theirs")


def test_a_version_of_another_plan_is_404_in_pages_and_the_api(stored, foreign_version, client, lead, api_client):
    plan = stored.plan
    client.force_login(lead)
    api_client.force_authenticate(lead)
    for query in (f"before={foreign_version.pk}&after=draft", f"before={stored.pk}&after={foreign_version.pk}"):
        assert client.get(f"/plans/{plan.pk}/versions/compare/?{query}").status_code == 404
        assert api_client.get(f"/api/plans/{plan.pk}/versions/compare/?{query}").status_code == 404
    assert api_client.get(f"/api/plans/{plan.pk}/versions/{foreign_version.pk}/").status_code == 404
    assert client.post(f"/plans/{plan.pk}/workbook/export/", {"version": foreign_version.pk}).status_code == 404
    response = api_client.post(
        f"/api/plans/{plan.pk}/workbook/export/", {"plan_version": foreign_version.pk}, format="json"
    )
    assert response.status_code == 400 and "plan_version" in response.json()
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("", 400),
        ("before=draft", 400),
        ("after=draft", 400),
        ("before=abc&after=draft", 404),
        ("before=0&after=draft", 404),
    ],
)
def test_bad_sides_get_a_clear_answer(stored, client, lead, api_client, query, status):
    plan = stored.plan
    client.force_login(lead)
    response = client.get(f"/plans/{plan.pk}/versions/compare/?{query}")
    assert response.status_code == status
    if status == 400:
        assert "Choose the version" in response.content.decode()
    api_client.force_authenticate(lead)
    assert api_client.get(f"/api/plans/{plan.pk}/versions/compare/?{query}").status_code == status


def test_the_api_lists_reads_and_compares_versions(stored, moa_activity, lead, api_client, people):
    plan = stored.plan
    moa_activity.refresh_from_db()
    activity_update(activity=moa_activity, by=lead, version=moa_activity.version, title="Renamed")
    api_client.force_authenticate(people[Role.REVIEWER])
    listed = api_client.get(f"/api/plans/{plan.pk}/versions/").json()
    assert [row["label"] for row in listed["results"]] == ["before the workshop"]
    assert "content" not in listed["results"][0]
    detail = api_client.get(f"/api/plans/{plan.pk}/versions/{stored.pk}/").json()
    assert detail["content"]["activities"][0]["title"] == "Train border veterinarians"
    assert detail["content"]["currency"] == "USD"
    data = api_client.get(f"/api/plans/{plan.pk}/versions/compare/", {"before": stored.pk, "after": "draft"}).json()
    assert data["same"] is False
    (change,) = data["activities"]
    assert change["kind"] == "changed" and change["key"] == moa_activity.pk
    assert change["fields"] == [{"field": "title", "before": "Train border veterinarians", "after": "Renamed"}]
    assert change["cost_before"] == change["cost_after"] == "2250.00"
    assert data["gap_total"]["gap_before"] == "2250.00"
    assert api_client.post(f"/api/plans/{plan.pk}/versions/", {"label": "mine"}, format="json").status_code == 403
    response = api_client.post(f"/api/plans/{plan.pk}/versions/", {"label": "x", "kind": "endorsed"}, format="json")
    assert response.status_code == 403  # the reviewer may not save; the secretariat's unknown field is below
    api_client.force_authenticate(lead)
    response = api_client.post(f"/api/plans/{plan.pk}/versions/", {"label": "x", "kind": "endorsed"}, format="json")
    assert response.status_code == 400 and "kind" in response.json()


def test_the_comparison_runs_a_constant_number_of_queries(costing, lead, client):
    plan = costing.plan
    counts = []
    for size in (2, 20):
        for n in range(size):
            activity = Activity.objects.create(plan=plan, technical_area=area("P1"), title=f"Activity {n}")
            cost_line_create(activity=activity, by=lead, fields=line_fields(), frequencies={2026: 1})
        version = _version(plan, lead, f"v{size}")
        client.force_login(lead)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/plans/{plan.pk}/versions/compare/?before={version.pk}&after=draft")
        assert response.status_code == 200
        counts.append(len(queries))
        with CaptureQueriesContext(connection) as listing:
            assert client.get(f"/plans/{plan.pk}/versions/").status_code == 200
        counts.append(len(listing))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts


def test_the_workbook_of_a_stored_version_holds_its_rows(stored, moa_activity, client, people, lead):
    moa_activity.refresh_from_db()
    activity_update(activity=moa_activity, by=lead, version=moa_activity.version, title="Renamed after")
    client.force_login(people[Role.VIEWER])
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/plans/{stored.plan_id}/workbook/export/", {"version": stored.pk})
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.params == {"version": stored.pk}
    assert "before-the-workshop" in job.result_name
    workbook = load_workbook(io.BytesIO(job.result.read()))
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(min_row=3, values_only=True) if row[0]}
    assert summary["Version"] == "before the workshop"
    titles = [row[3] for row in workbook["Activities"].iter_rows(min_row=2, values_only=True)]
    assert "Train border veterinarians" in titles and "Renamed after" not in titles
