"""The reporting periods' pages and API: the secretariat generates, adds, edits, deletes, opens, closes and reopens
periods; everyone else reads; bad input is named by field (422 on a page, 400 in the API); unknown fields and stale
versions are refused; a report is refused once its period is closed."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from monitoring.models import ReportingPeriod
from monitoring.periods import period_create, period_open, periods_generate
from monitoring.progress import Report, progress_save
from naphs.permissions import Role
from planning.models import Activity, Plan, TechnicalArea

pytestmark = pytest.mark.django_db

SL, SM, TL, FP, RV, VW = (role.value for role in Role)
READERS = (TL, FP, RV, VW)


def body(**overrides) -> dict:
    values = {"label": "2026 Q1", "starts_on": "2026-01-01", "ends_on": "2026-03-31", "due_on": "2026-04-30"}
    values.update(overrides)
    return values


def list_url(plan) -> str:
    return reverse("reporting-period-list", kwargs={"plan_id": plan.pk})


def detail_url(plan, period, name: str = "detail") -> str:
    return reverse(f"reporting-period-{name}", kwargs={"plan_id": plan.pk, "period_id": period.pk})


@pytest.fixture
def period(plan, lead) -> ReportingPeriod:
    return period_create(
        plan=plan,
        by=lead,
        fields={
            "label": "2026 Q1",
            "starts_on": datetime.date(2026, 1, 1),
            "ends_on": datetime.date(2026, 3, 31),
            "due_on": datetime.date(2026, 4, 30),
        },
    )


def as_person(api_client, people, role):
    api_client.force_authenticate(people[role])
    return api_client


# The API --------------------------------------------------------------------------------------------------------


def test_the_secretariat_creates_changes_and_deletes_a_period_through_the_api(api_client, plan, people):
    client = as_person(api_client, people, SM)
    created = client.post(list_url(plan), body(), format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert (data["label"], data["state"], data["version"], data["report_count"]) == ("2026 Q1", "planned", 1, 0)
    period = ReportingPeriod.objects.get()
    changed = client.patch(detail_url(plan, period), {"due_on": "2026-05-15", "version": 1}, format="json")
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = client.patch(detail_url(plan, period), {"label": "Mine", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "edit_conflict"
    assert client.delete(detail_url(plan, period) + "?version=1").status_code == 409
    assert client.delete(detail_url(plan, period) + "?version=2").status_code == 204
    assert not ReportingPeriod.objects.exists()


def test_bad_input_is_refused_naming_the_field(api_client, plan, people, period):
    client = as_person(api_client, people, SL)
    overlap = client.post(list_url(plan), body(label="Overlap", starts_on="2026-03-01"), format="json")
    assert overlap.status_code == 400 and "overlap" in overlap.json()["starts_on"][0]
    outside = client.post(list_url(plan), body(starts_on="2031-01-01", ends_on="2031-03-31"), format="json")
    assert outside.status_code == 400 and "outside the plan's years" in outside.json()["starts_on"][0]
    early = client.post(
        list_url(plan), body(starts_on="2026-04-01", ends_on="2026-06-30", due_on="2026-03-01"), format="json"
    )
    assert early.status_code == 400 and set(early.json()) == {"due_on"}
    backwards = client.post(list_url(plan), body(starts_on="2026-06-30", ends_on="2026-04-01"), format="json")
    assert backwards.status_code == 400 and "ends_on" in backwards.json()
    unknown = client.post(list_url(plan), body(state="open", colour="red"), format="json")
    assert unknown.status_code == 400 and set(unknown.json()) == {"state", "colour"}
    versioned = client.post(
        list_url(plan), body(starts_on="2026-04-01", ends_on="2026-06-30", version=3), format="json"
    )
    assert versioned.status_code == 400 and "version" in versioned.json()
    no_version = client.patch(detail_url(plan, period), {"label": "X"}, format="json")
    assert no_version.status_code == 400 and "version" in no_version.json()
    assert ReportingPeriod.objects.count() == 1


def test_open_close_and_reopen_through_the_api_and_a_report_is_refused_once_closed(api_client, plan, people, period):
    client = as_person(api_client, people, SL)
    work = Activity.objects.create(
        plan=plan, technical_area=TechnicalArea.objects.get(framework__code="JEE3", code="P1"), title="Train"
    )
    opened = client.post(detail_url(plan, period, "open"), {"version": 1}, format="json")
    assert opened.status_code == 200 and opened.json()["state"] == "open"
    progress_save(
        activity=work, period=period, by=people[SL], version=0, report=Report(status="on_track", percent_complete=5)
    )
    again = client.post(detail_url(plan, period, "open"), {"version": 2}, format="json")
    assert again.status_code == 400 and "only a planned period is opened" in str(again.json())
    stale = client.post(detail_url(plan, period, "close"), {"version": 1}, format="json")
    assert stale.status_code == 409
    closed = client.post(detail_url(plan, period, "close"), {"version": 2}, format="json")
    assert closed.status_code == 200 and closed.json()["state"] == "closed" and closed.json()["report_count"] == 1
    with pytest.raises(Exception, match="closed"):
        progress_save(
            activity=work,
            period=period,
            by=people[SL],
            version=1,
            report=Report(status="on_track", percent_complete=50),
        )
    reopened = client.post(detail_url(plan, period, "reopen"), {"version": 3}, format="json")
    assert reopened.status_code == 200 and reopened.json()["state"] == "open"
    assert client.post(detail_url(plan, period, "close"), {}, format="json").status_code == 400


def test_generate_through_the_api_adds_only_the_missing_periods(api_client, plan, people):
    client = as_person(api_client, people, SL)
    first = client.post(reverse("reporting-period-generate", kwargs={"plan_id": plan.pk}), {}, format="json")
    assert first.status_code == 201 and len(first.json()) == 20 and first.json()[0]["label"] == "2026 Q1"
    again = client.post(reverse("reporting-period-generate", kwargs={"plan_id": plan.pk}), {}, format="json")
    assert again.status_code == 200 and again.json() == []
    bad = client.post(
        reverse("reporting-period-generate", kwargs={"plan_id": plan.pk}),
        {"span": "week", "due_days": 999, "extra": 1},
        format="json",
    )
    assert bad.status_code == 400 and set(bad.json()) == {"extra"}
    bad = client.post(
        reverse("reporting-period-generate", kwargs={"plan_id": plan.pk}),
        {"span": "week", "due_days": 999},
        format="json",
    )
    assert bad.status_code == 400 and set(bad.json()) == {"span", "due_days"}


@pytest.mark.parametrize("role", READERS)
def test_members_outside_the_secretariat_read_periods_and_change_none(api_client, plan, people, period, role):
    client = as_person(api_client, people, role)
    listed = client.get(list_url(plan))
    assert listed.status_code == 200 and listed.json()["count"] == 1
    assert client.get(detail_url(plan, period)).status_code == 200
    assert (
        client.post(list_url(plan), body(starts_on="2026-04-01", ends_on="2026-06-30"), format="json").status_code
        == 403
    )
    assert client.patch(detail_url(plan, period), {"label": "X", "version": 1}, format="json").status_code == 403
    assert client.post(detail_url(plan, period, "open"), {"version": 1}, format="json").status_code == 403
    assert client.post(reverse("reporting-period-generate", kwargs={"plan_id": plan.pk}), {}).status_code == 403
    assert client.delete(detail_url(plan, period)).status_code == 403
    period.refresh_from_db()
    assert (period.label, period.state, period.version) == ("2026 Q1", "planned", 1)


def test_an_outsider_and_another_plans_period_are_not_found(api_client, plan, provincial_plan, people, period, lead):
    outsider = as_person(api_client, people, "outsider")
    assert outsider.get(list_url(plan)).status_code == 404
    assert outsider.post(detail_url(plan, period, "open"), {"version": 1}, format="json").status_code == 404
    client = as_person(api_client, people, SL)
    foreign = periods_generate(plan=provincial_plan, by=lead)[0]
    assert client.get(detail_url(plan, foreign)).status_code == 404
    assert client.post(detail_url(plan, foreign, "open"), {"version": 1}, format="json").status_code == 404


def test_the_api_works_on_an_endorsed_plan(api_client, plan, people, period):
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    client = as_person(api_client, people, SL)
    assert client.post(detail_url(plan, period, "open"), {"version": 1}, format="json").status_code == 200
    created = client.post(list_url(plan), body(starts_on="2026-04-01", ends_on="2026-06-30"), format="json")
    assert created.status_code == 201


def test_the_list_endpoint_runs_a_constant_number_of_queries(
    api_client, plan, people, period, lead, django_assert_max_num_queries
):
    client = as_person(api_client, people, VW)
    with django_assert_max_num_queries(6):
        assert client.get(list_url(plan)).json()["count"] == 1
    periods_generate(plan=plan, by=lead)
    with django_assert_max_num_queries(6):
        assert client.get(list_url(plan)).json()["count"] == 20


# The pages ------------------------------------------------------------------------------------------------------


def signed_in(client, people, role):
    client.force_login(people[role])
    return client


def test_the_secretariat_sets_periods_in_the_browser(client, plan, people):
    browser = signed_in(client, people, SL)
    generated = browser.post(
        reverse("reporting_periods_generate", kwargs={"plan_id": plan.pk}), {"span": "year", "due_days": "45"}
    )
    assert generated.status_code == 302
    assert list(ReportingPeriod.objects.values_list("label", flat=True)) == ["2026", "2027", "2028", "2029", "2030"]
    first = ReportingPeriod.objects.first()
    assert first.due_on == datetime.date(2027, 2, 14)
    refused = browser.post(reverse("reporting_period_new", kwargs={"plan_id": plan.pk}), body(label="Overlapping"))
    assert refused.status_code == 422 and "overlap the period 2026" in refused.content.decode()
    edit = reverse("reporting_period_edit", kwargs={"plan_id": plan.pk, "period_id": first.pk})
    assert browser.get(edit).status_code == 200
    saved = browser.post(
        edit,
        {**body(label="Year one", starts_on="2026-01-01", ends_on="2026-12-31", due_on="2027-01-31"), "version": 1},
    )
    assert saved.status_code == 302
    stale = browser.post(edit, {**body(label="Stale", starts_on="2026-01-01", ends_on="2026-12-31"), "version": 1})
    assert stale.status_code == 409 and "someone else changed it" in stale.content.decode()
    opened = browser.post(
        reverse("reporting_period_open", kwargs={"plan_id": plan.pk, "period_id": first.pk}), {"version": 2}
    )
    assert opened.status_code == 302
    stale_open = browser.post(
        reverse("reporting_period_close", kwargs={"plan_id": plan.pk, "period_id": first.pk}), {"version": 2}
    )
    assert stale_open.status_code == 409
    closed = browser.post(
        reverse("reporting_period_close", kwargs={"plan_id": plan.pk, "period_id": first.pk}), {"version": 3}
    )
    assert closed.status_code == 302
    first.refresh_from_db()
    assert (first.label, first.state) == ("Year one", "closed")
    delete = reverse("reporting_period_delete", kwargs={"plan_id": plan.pk, "period_id": first.pk})
    refused = browser.post(delete, {"version": 4})
    assert refused.status_code == 422 and ReportingPeriod.objects.filter(pk=first.pk).exists()


def test_a_reviewer_reads_the_periods_page_without_its_controls(client, plan, people, period):
    page = signed_in(client, people, RV).get(reverse("reporting_periods", kwargs={"plan_id": plan.pk}))
    assert page.status_code == 200
    text = page.content.decode()
    assert "2026 Q1" in text
    assert reverse("reporting_periods_generate", kwargs={"plan_id": plan.pk}) not in text
    assert reverse("reporting_period_open", kwargs={"plan_id": plan.pk, "period_id": period.pk}) not in text
    generate = client.post(reverse("reporting_periods_generate", kwargs={"plan_id": plan.pk}), {"span": "year"})
    assert generate.status_code == 403 and ReportingPeriod.objects.count() == 1


def test_an_open_period_lists_its_actions_by_state(client, plan, people, period, lead):
    period_open(period=period, by=lead, version=1)
    text = signed_in(client, people, SL).get(reverse("reporting_periods", kwargs={"plan_id": plan.pk})).content.decode()
    assert reverse("reporting_period_close", kwargs={"plan_id": plan.pk, "period_id": period.pk}) in text
    assert reverse("reporting_period_delete", kwargs={"plan_id": plan.pk, "period_id": period.pk}) not in text
