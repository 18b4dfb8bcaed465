"""The costing dashboard: figures worked out by hand for a small plan, the scenario and scope switches, the
national total with its provincial plans, saying when totals are stale or incomplete, access, the API and the
Excel export."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from costing.dashboard import Scenario, Scope, costing_dashboard_export, dashboard_get
from costing.job_kinds import CostingJob
from costing.models import FundingCommitment, PlanCosting
from costing.rollups import plan_rollup
from costing.services import cost_line_create, cost_line_update, costs_changed, plan_costing_get
from naphs.models import Job
from planning.models import Activity, Plan
from planning.services import jurisdiction_create
from stakeholders.models import Organization, PlanMembership
from tests.conftest import ROLES
from tests.costing.conftest import area, line_fields

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def donor(country) -> Organization:
    return Organization.objects.create(name="Global Health Fund", acronym="GHF", kind="donor", jurisdiction=country)


@pytest.fixture
def costed(costing, moa_activity, moh_activity, lead, moh, donor):
    """Two areas, two years, required and optional lines, funding committed, disbursed and pledged.

    P1 (Ministry of Agriculture): meetings 250 USD × 3 × (2 in 2026, 1 in 2027) = 1,500 + 750 required;
        training 100 USD × 10 in 2027 = 1,000 optional.
    D1 (Ministry of Health): equipment 1,000 EUR (2026 rate 1.10) × 2 in 2026 = 2,200 required;
        consultancy 500 USD × 1 × 2 in 2027 = 1,000 optional.
    Funding: the Ministry of Health commits 1,000 USD to area P1 in 2026; the fund pledges 600 USD over
    2026–2027 to the D1 activity (300 a year) and disbursed 500 EUR (2027 rate 1.20: 600 USD) to area D1 in 2027.
    """
    cost_line_create(activity=moa_activity, by=lead, fields=line_fields(), frequencies={2026: 2, 2027: 1})
    cost_line_create(
        activity=moa_activity,
        by=lead,
        fields=line_fields(
            description="Trainers", category="training", unit_cost=D("100"), quantity=D("10"), optional=True
        ),
        frequencies={2027: 1},
    )
    cost_line_create(
        activity=moh_activity,
        by=lead,
        fields=line_fields(
            description="PCR machine",
            category="equipment",
            unit="item",
            unit_cost=D("1000"),
            currency="EUR",
            price_year=2026,
            quantity=D("2"),
            recurrence="one_off",
        ),
        frequencies={2026: 1},
    )
    cost_line_create(
        activity=moh_activity,
        by=lead,
        fields=line_fields(
            description="Biosafety consultant",
            category="consultancy",
            unit_cost=D("500"),
            quantity=D("1"),
            optional=True,
        ),
        frequencies={2027: 2},
    )
    plan = costing.plan
    FundingCommitment.objects.create(
        plan=plan,
        source_organization=moh,
        source_kind="government",
        amount=D("1000"),
        currency="USD",
        first_year=2026,
        last_year=2026,
        status="committed",
        technical_area=area("P1"),
    )
    pledge = FundingCommitment.objects.create(
        plan=plan,
        source_organization=donor,
        source_kind="donor",
        amount=D("600"),
        currency="USD",
        first_year=2026,
        last_year=2027,
        status="pledged",
    )
    pledge.activities.add(moh_activity)
    FundingCommitment.objects.create(
        plan=plan,
        source_organization=donor,
        source_kind="donor",
        amount=D("500"),
        currency="EUR",
        first_year=2027,
        last_year=2027,
        status="disbursed",
        technical_area=area("D1"),
    )
    costs_changed(plan.pk)
    plan_rollup(plan_id=plan.pk)
    assert PlanCosting.objects.get(plan=plan).rollup_current
    return plan


def amounts(row) -> tuple:
    return (row.amounts.needed, row.amounts.firm, row.amounts.pledged, row.amounts.gap)


# --- Figures -------------------------------------------------------------------------------------------------


def test_the_dashboard_adds_up_costs_and_funding_by_area_and_year(costed):
    dashboard = dashboard_get(plan=costed)

    assert dashboard.currency == "USD"
    assert (dashboard.required, dashboard.optional) == (D("4450.00"), D("2000.00"))
    assert (dashboard.totals.needed, dashboard.totals.firm, dashboard.totals.pledged) == (
        D("4450"),
        D("1600"),
        D("600"),
    )
    assert dashboard.totals.gap == D("2850")
    assert (dashboard.committed, dashboard.disbursed) == (D("1000"), D("600"))
    assert {row.code: amounts(row) for row in dashboard.by_area} == {
        "P1": (D("2250"), D("1000"), D("0"), D("1250")),
        "D1": (D("2200"), D("600"), D("600"), D("1600")),
    }
    assert [row.code for row in dashboard.by_area] == ["P1", "D1"]  # the framework's order
    assert {row.year: amounts(row) for row in dashboard.by_year} == {
        2026: (D("3700"), D("1000"), D("300"), D("2700")),
        2027: (D("750"), D("600"), D("300"), D("150")),
        2028: (D("0"), D("0"), D("0"), D("0")),
        2029: (D("0"), D("0"), D("0"), D("0")),
        2030: (D("0"), D("0"), D("0"), D("0")),
    }
    gaps = {row.code: [cell.gap for cell in row.cells] for row in dashboard.by_area}
    assert gaps == {"P1": [D("500"), D("750"), 0, 0, 0], "D1": [D("2200"), D("-600"), 0, 0, 0]}
    assert [(s.label, s.amount) for s in dashboard.by_category] == [
        ("Meetings and workshops", D("2250")),
        ("Equipment", D("2200")),
    ]
    assert [(s.label, s.amount) for s in dashboard.by_organization] == [
        ("Ministry of Agriculture (MOA)", D("2250")),
        ("Ministry of Health (MOH)", D("2200")),
    ]
    assert [(r.name, r.pledged, r.committed, r.disbursed, r.total) for r in dashboard.by_source] == [
        ("Global Health Fund (GHF)", D("600"), D("0"), D("600"), D("1200")),
        ("Ministry of Health (MOH)", D("0"), D("1000"), D("0"), D("1000")),
    ]
    assert [(s.key, s.amount) for s in dashboard.by_status] == [
        ("pledged", D("600")),
        ("committed", D("1000")),
        ("disbursed", D("600")),
    ]
    assert dashboard.state.current and not dashboard.state.errors


def test_with_optional_costs_the_need_and_the_gap_grow_and_funding_stays(costed):
    dashboard = dashboard_get(plan=costed, scenario=Scenario.ALL)

    assert (dashboard.totals.needed, dashboard.totals.firm, dashboard.totals.gap) == (D("6450"), D("1600"), D("4850"))
    assert {row.code: amounts(row) for row in dashboard.by_area} == {
        "P1": (D("3250"), D("1000"), D("0"), D("2250")),
        "D1": (D("3200"), D("600"), D("600"), D("2600")),
    }
    assert amounts(dashboard.by_year[1]) == (D("2750"), D("600"), D("300"), D("2150"))
    assert {s.label: s.amount for s in dashboard.by_category} == {
        "Meetings and workshops": D("2250"),
        "Equipment": D("2200"),
        "Training": D("1000"),
        "Consultancy": D("1000"),
    }


def test_the_page_shows_the_figures_and_switches_scenario(client, costed, people):
    client.force_login(people["viewer"])

    page = client.get(f"/plans/{costed.pk}/costing/").content.decode()
    assert 'data-figure="needed">4,450.00<' in page
    assert 'data-figure="firm">1,600.00<' in page
    assert 'data-figure="gap">2,850.00<' in page
    assert 'data-figure="pledged">600.00<' in page
    assert "P1 " in page and "Meetings and workshops" in page and "Global Health Fund (GHF)" in page
    assert "-600.00" in page  # D1 in 2027: funded beyond the need
    assert 'class="costbar"' in page  # the charts beside the tables
    assert "Totals computed" in page and "being recomputed" not in page
    assert "provincial" not in page.lower()  # no provincial plan under it: no scope switch

    page = client.get(f"/plans/{costed.pk}/costing/?scenario=all").content.decode()
    assert 'data-figure="needed">6,450.00<' in page
    assert 'data-figure="gap">4,850.00<' in page
    assert 'aria-current="true">With optional costs<' in page

    # An unknown choice shows the default view rather than an error.
    page = client.get(f"/plans/{costed.pk}/costing/?scenario=everything&scope=galaxy").content.decode()
    assert 'data-figure="needed">4,450.00<' in page


def test_a_plan_without_costs_shows_the_way_to_its_activities(client, plan, people):
    client.force_login(people["focal_point"])

    response = client.get(f"/plans/{plan.pk}/costing/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "No costs yet" in page
    assert f'href="/plans/{plan.pk}/activities/"' in page
    assert "being recomputed" not in page
    assert not PlanCosting.objects.filter(plan=plan).exists(), "reading the dashboard creates nothing"


# --- Staleness -------------------------------------------------------------------------------------------------


def test_a_change_shows_the_recomputing_banner_until_the_rollup_has_run(client, costed, people, lead):
    client.force_login(people["reviewer"])
    line = costed.cost_lines.get(description="Workshop venue")
    computed = PlanCosting.objects.get(plan=costed).rollup_at

    cost_line_update(line=line, by=lead, version=line.version, fields={"quantity": D("4")})

    page = client.get(f"/plans/{costed.pk}/costing/").content.decode()
    since = timezone.localtime(computed).strftime("%H:%M")
    assert f"Totals are being recomputed (1 change since {since})" in page
    assert 'hx-trigger="every 2s"' in page
    assert f'hx-get="/plans/{costed.pk}/costing/dashboard/status/?scenario=required&amp;scope=plan"' in page
    assert 'data-figure="needed">4,450.00<' in page  # the stored totals, said to be stale

    fragment = client.get(
        f"/plans/{costed.pk}/costing/dashboard/status/?scenario=required&scope=plan", HTTP_HX_REQUEST="true"
    )
    assert fragment.status_code == 200
    assert "Totals are being recomputed (1 change since" in fragment.content.decode()
    assert "HX-Retarget" not in fragment.headers

    assert plan_rollup(plan_id=costed.pk)

    fragment = client.get(
        f"/plans/{costed.pk}/costing/dashboard/status/?scenario=required&scope=plan", HTTP_HX_REQUEST="true"
    )
    body = fragment.content.decode()
    assert fragment.headers["HX-Retarget"] == "#costing-dashboard"
    assert fragment.headers["HX-Reswap"] == "outerHTML"
    assert 'id="costing-dashboard"' in body and "being recomputed" not in body
    assert 'data-figure="needed">5,200.00<' in body  # 250 × 4 × (2 + 1) = 3,000 for the line, up by 750
    page = client.get(f"/plans/{costed.pk}/costing/").content.decode()
    assert "being recomputed" not in page and "every 2s" not in page


def test_a_rollup_that_could_not_count_funding_says_why(client, costed, people, moh):
    FundingCommitment.objects.create(
        plan=costed,
        source_organization=moh,
        source_kind="government",
        amount=D("50"),
        currency="GBP",
        first_year=2026,
        last_year=2026,
        status="committed",
        technical_area=area("P1"),
    )
    costs_changed(costed.pk)
    plan_rollup(plan_id=costed.pk)
    client.force_login(people["viewer"])

    page = client.get(f"/plans/{costed.pk}/costing/").content.decode()

    assert "could not be computed in full: No exchange rate from GBP to USD for 2026" in page
    response = client.get(f"/api/plans/{costed.pk}/costing/summary/")
    assert response.json()["state"]["errors"] == [
        f"{costed.title}: No exchange rate from GBP to USD for 2026: the secretariat adds it on the plan's "
        "exchange rates page."
    ]


# --- The national plan with its provincial plans ---------------------------------------------------------------


def _provincial(plan: Plan, name: str, lead, *, currency: str | None = None, cost: str | None = None) -> Plan:
    province = jurisdiction_create(level="province", name=name, parent=plan.jurisdiction)
    child = Plan.objects.create(
        jurisdiction=province,
        framework=plan.framework,
        title=f"{name} plan",
        kind="strategic",
        first_year=2026,
        last_year=2030,
        parent=plan,
    )
    costing = plan_costing_get(child)
    if currency:
        PlanCosting.objects.filter(pk=costing.pk).update(currency=currency)
    if cost:
        activity = Activity.objects.create(plan=child, technical_area=area("P1"), title=f"Train {name} staff")
        cost_line_create(
            activity=activity,
            by=lead,
            fields=line_fields(unit_cost=D(cost), quantity=D("1"), currency=currency or "USD"),
            frequencies={2026: 1},
        )
        plan_rollup(plan_id=child.pk)
    return child


def test_the_national_total_includes_the_provincial_plans(client, costed, people, lead):
    north = _provincial(costed, "North", lead, cost="100")
    south = _provincial(costed, "South", lead, cost="40")
    _provincial(costed, "East", lead)  # not costed yet
    west = _provincial(costed, "West", lead, currency="EUR", cost="999")
    Plan.objects.create(  # an operational plan of the same country: not a provincial plan
        jurisdiction=costed.jurisdiction,
        title="Operational 2026",
        kind="operational",
        first_year=2026,
        last_year=2026,
        parent=costed,
    )
    PlanMembership.objects.create(plan=north, user=people["viewer"], role="viewer")
    south_line = south.cost_lines.get()
    cost_line_update(line=south_line, by=lead, version=south_line.version, fields={"quantity": D("2")})  # stale

    national = dashboard_get(plan=costed, scope=Scope.NATIONAL)

    assert national.totals.needed == D("4450") + D("100") + D("40")
    assert {row.code: row.amounts.needed for row in national.by_area} == {"P1": D("2390"), "D1": D("2200")}
    assert national.by_year[0].amounts.needed == D("3840")
    assert [s.plan.title for s in national.plans] == [costed.title, "East plan", "North plan", "South plan"]
    assert [(s.plan.title, s.currency) for s in national.excluded] == [("West plan", "EUR")]
    assert not national.state.current and national.state.pending == 1
    assert dashboard_get(plan=costed).totals.needed == D("4450")  # this plan alone
    assert dashboard_get(plan=costed).state.current

    client.force_login(people["viewer"])
    page = client.get(f"/plans/{costed.pk}/costing/?scope=national").content.decode()
    assert 'data-figure="needed">4,590.00<' in page
    assert "Totals are being recomputed (1 change since" in page  # the South plan's edit
    assert "Not included, because they are costed in another currency than USD:" in page and "West plan (EUR)" in page
    assert f'<a href="/plans/{north.pk}/costing/">North plan</a>' in page  # the viewer belongs to it
    assert f'href="/plans/{south.pk}/costing/"' not in page  # they do not belong to this one, yet see its total
    assert "40.00" in page and "Not costed yet" in page and "Being recomputed" in page
    assert 'aria-current="true">With its provincial plans<' in page
    page = client.get(f"/plans/{costed.pk}/costing/").content.decode()
    assert "4 provincial plans under this one" in page
    assert "being recomputed" not in page  # the national plan's own totals are current
    assert west.pk  # named above


def test_the_page_runs_as_many_queries_for_eleven_plans_as_for_one(client, costed, people, lead):
    client.force_login(people["viewer"])
    url = f"/plans/{costed.pk}/costing/?scope=national&scenario=all"
    client.get(url)  # warm up the session

    with CaptureQueriesContext(connection) as alone:
        assert client.get(url).status_code == 200
    for number in range(10):
        _provincial(costed, f"Province {number}", lead, cost=str(10 + number))
    with CaptureQueriesContext(connection) as eleven:
        response = client.get(url)

    assert 'data-figure="needed">6,595.00<' in response.content.decode()  # 6,450 + 10 + 11 + ... + 19
    assert len(eleven) == len(alone) <= 12, [query["sql"] for query in eleven.captured_queries]
    with CaptureQueriesContext(connection) as api:
        assert client.get(f"/api/plans/{costed.pk}/costing/summary/?scope=national").status_code == 200
    assert len(api) <= 10


def test_polling_while_totals_are_recomputed_costs_three_queries(client, costed, people, django_assert_num_queries):
    client.force_login(people["viewer"])
    client.get(f"/plans/{costed.pk}/costing/")
    costs_changed(costed.pk)
    # The person, their membership, and the plans with their rollup state (the session comes from the cache).
    with django_assert_num_queries(3):
        response = client.get(f"/plans/{costed.pk}/costing/dashboard/status/?scope=national")
    assert "being recomputed" in response.content.decode()


# --- Access ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_member_reads_the_dashboard_and_its_figures(client, costed, people, role):
    client.force_login(people[role])
    assert client.get(f"/plans/{costed.pk}/costing/").status_code == 200
    assert client.get(f"/plans/{costed.pk}/costing/dashboard/status/").status_code == 200
    assert client.get(f"/api/plans/{costed.pk}/costing/summary/").status_code == 200


def test_someone_outside_the_plan_learns_nothing(client, costed, people):
    client.force_login(people["outsider"])
    assert client.get(f"/plans/{costed.pk}/costing/").status_code == 404
    assert client.get(f"/plans/{costed.pk}/costing/dashboard/status/").status_code == 404
    assert client.post(f"/plans/{costed.pk}/costing/dashboard/export/").status_code == 404
    assert client.get(f"/api/plans/{costed.pk}/costing/summary/").status_code == 404
    assert client.post(f"/api/plans/{costed.pk}/costing/summary/export/").status_code == 404
    assert not Job.objects.exists()


def test_a_national_member_sees_provincial_totals_but_a_provincial_member_not_the_national_ones(
    client, costed, people, lead
):
    north = _provincial(costed, "North", lead, cost="100")
    provincial_only = PlanMembership.objects.create(plan=north, user=people["outsider"], role="viewer").user
    client.force_login(provincial_only)
    assert client.get(f"/plans/{north.pk}/costing/").status_code == 200
    assert client.get(f"/plans/{costed.pk}/costing/").status_code == 404
    assert client.get(f"/api/plans/{costed.pk}/costing/summary/?scope=national").status_code == 404


# --- API -----------------------------------------------------------------------------------------------------------


def test_the_api_gives_the_page_figures_as_strings(client, costed, people):
    client.force_login(people["focal_point"])

    data = client.get(f"/api/plans/{costed.pk}/costing/summary/?scenario=all").json()

    assert (data["plan"], data["currency"], data["scenario"], data["scope"]) == (costed.pk, "USD", "all", "plan")
    assert data["totals"] == {"needed": "6450.00", "firm": "1600.00", "pledged": "600.00", "gap": "4850.00"}
    assert (data["required"], data["optional"]) == ("4450.00", "2000.00")
    assert data["state"]["current"] is True and data["state"]["pending_changes"] == 0
    assert data["state"]["computed_at"]
    area_p1 = data["by_area"][0]
    assert (area_p1["code"], area_p1["amounts"]["gap"]) == ("P1", "2250.00")
    assert area_p1["years"][0] == {
        "year": 2026,
        "needed": "1500.00",
        "firm": "1000.00",
        "pledged": "0.00",
        "gap": "500.00",
    }
    assert data["by_year"][1] == {
        "year": 2027,
        "amounts": {"needed": "2750.00", "firm": "600.00", "pledged": "300.00", "gap": "2150.00"},
    }
    assert {row["key"]: row["amount"] for row in data["by_status"]} == {
        "pledged": "600.00",
        "committed": "1000.00",
        "disbursed": "600.00",
    }
    assert data["by_source"][0]["total"] == "1200.00"
    assert [p["id"] for p in data["plans"]] == [costed.pk] and data["excluded"] == []


def test_the_api_reports_stale_totals(client, costed, people, lead):
    line = costed.cost_lines.get(description="Workshop venue")
    cost_line_update(line=line, by=lead, version=line.version, fields={"quantity": D("4")})
    cost_line_update(line=line, by=lead, version=line.version, fields={"quantity": D("5")})
    client.force_login(people["viewer"])

    state = client.get(f"/api/plans/{costed.pk}/costing/summary/").json()["state"]

    assert (state["current"], state["pending_changes"]) == (False, 2)
    assert state["since"] == state["computed_at"]


def test_the_api_refuses_an_unknown_scenario_or_scope(client, costed, people):
    client.force_login(people["viewer"])

    response = client.get(f"/api/plans/{costed.pk}/costing/summary/?scenario=cheapest&scope=world")

    assert response.status_code == 400
    assert set(response.json()) == {"scenario", "scope"}
    assert "not a valid choice" in response.json()["scenario"][0]
    response = client.post(f"/api/plans/{costed.pk}/costing/summary/export/", {"scope": "world"})
    assert response.status_code == 400
    assert not Job.objects.exists()


# --- Export --------------------------------------------------------------------------------------------------------


def _sheet(workbook, title: str) -> list[tuple]:
    return list(workbook[title].iter_rows(min_row=2, values_only=True))


def test_the_export_writes_one_sheet_per_table(client, costed, people, django_capture_on_commit_callbacks):
    client.force_login(people["viewer"])  # any member may export

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/plans/{costed.pk}/costing/summary/export/", {"scenario": "all"}, content_type="application/json"
        )

    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.kind, job.params, job.requested_by) == (
        CostingJob.COSTING_DASHBOARD_EXPORT,
        {"scenario": "all", "scope": "plan"},
        people["viewer"],
    )
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result_name.endswith("-costing-all.xlsx")
    workbook = load_workbook(job.result.path)
    assert workbook.sheetnames == [
        "Summary",
        "Plans",
        "By area",
        "By year",
        "Area × year gap",
        "By category",
        "By organization",
        "By source",
        "By status",
    ]
    summary = dict(_sheet(workbook, "Summary"))
    assert summary["Scenario"] == "With optional costs"
    assert summary["State of the totals"] == "Current"
    assert summary["Needed (USD)"] == 6450
    assert summary["Gap: needed minus committed and disbursed (USD)"] == 4850
    assert _sheet(workbook, "By area") == [
        ("P1", area("P1").name, 3250, 1000, 0, 2250),
        ("D1", area("D1").name, 3200, 600, 600, 2600),
    ]
    assert _sheet(workbook, "By year")[:2] == [(2026, 3700, 1000, 300, 2700), (2027, 2750, 600, 300, 2150)]
    assert [cell.value for cell in workbook["Area × year gap"][1]] == [
        "Code",
        "Technical area",
        "2026",
        "2027",
        "2028",
        "2029",
        "2030",
        "Total",
    ]
    assert _sheet(workbook, "Area × year gap")[1] == ("D1", area("D1").name, 2200, 400, 0, 0, 0, 2600)
    assert dict(_sheet(workbook, "By category")) == {
        "Meetings and workshops": 2250,
        "Equipment": 2200,
        "Training": 1000,
        "Consultancy": 1000,
    }
    assert dict(_sheet(workbook, "By organization")) == {
        "Ministry of Agriculture (MOA)": 3250,
        "Ministry of Health (MOH)": 3200,
    }
    assert _sheet(workbook, "By source") == [
        ("Global Health Fund (GHF)", 600, 0, 600, 1200),
        ("Ministry of Health (MOH)", 0, 1000, 0, 1000),
    ]
    assert _sheet(workbook, "By status") == [("Pledged", 600), ("Committed", 1000), ("Disbursed", 600)]
    assert workbook["By area"]["C2"].number_format == "#,##0.00"


def test_the_page_button_starts_the_export_of_what_is_shown(client, costed, people, lead):
    north = _provincial(costed, "North", lead, cost="100")
    Plan.objects.filter(pk=north.pk).update(title='=HYPERLINK("x")')
    client.force_login(people["reviewer"])

    page = client.get(f"/plans/{costed.pk}/costing/?scope=national").content.decode()
    assert f'hx-post="/plans/{costed.pk}/costing/dashboard/export/"' in page
    assert '<input type="hidden" name="scope" value="national">' in page

    response = client.post(
        f"/plans/{costed.pk}/costing/dashboard/export/",
        {"scenario": "required", "scope": "national"},
        HTTP_HX_REQUEST="true",
    )

    job = Job.objects.get()
    assert response.status_code == 200
    assert f'id="job-{job.pk}"' in response.content.decode()
    assert job.params == {"scenario": "required", "scope": "national"}

    result = costing_dashboard_export(job=job, progress=lambda percent, message: None)
    workbook = load_workbook(io.BytesIO(result.content))
    plans = _sheet(workbook, "Plans")
    assert plans[1][0] == '=HYPERLINK("x")'  # a plan title written as text, never as a formula
    assert workbook["Plans"]["A3"].data_type == "s"
    assert dict(_sheet(workbook, "Summary"))["Needed (USD)"] == 4550
    assert result.filename.endswith("-costing-with-provincial-plans-required.xlsx")
