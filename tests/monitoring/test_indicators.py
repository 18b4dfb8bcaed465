"""The results framework: M&E indicators with a target per year, the plan's capacity indicators, actuals per
period (a grid, the API, a spreadsheet imported by a job), who writes them, and the figures the list shows."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from monitoring.indicator_services import (
    ActualEntry,
    capacity_indicators_add,
    indicator_actuals_save,
    me_indicator_create,
)
from monitoring.indicators import expected_value, indicator_progress
from monitoring.models import MEIndicator, MEIndicatorActual, MEIndicatorTarget, ReportingPeriod
from naphs.errors import EditConflict
from naphs.models import AuditEvent, Job
from naphs.permissions import Role
from planning.models import Activity, Assessment, Indicator, IndicatorScore, IndicatorTarget, Plan, TechnicalArea
from stakeholders.models import PlanMembership

pytestmark = pytest.mark.django_db

SL, SM, TL, FP, RV, VW = (
    Role.SECRETARIAT_LEAD,
    Role.SECRETARIAT_MEMBER,
    Role.TECHNICAL_LEAD,
    Role.FOCAL_POINT,
    Role.REVIEWER,
    Role.VIEWER,
)


def _area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


def _period(plan: Plan, label: str, start: datetime.date, end: datetime.date) -> ReportingPeriod:
    return ReportingPeriod.objects.create(
        plan=plan, label=label, starts_on=start, ends_on=end, due_on=end, state=ReportingPeriod.State.OPEN
    )


@pytest.fixture
def q1(plan) -> ReportingPeriod:
    return _period(plan, "2026 Q1", datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))


@pytest.fixture
def q2(plan) -> ReportingPeriod:
    return _period(plan, "2026 Q2", datetime.date(2026, 4, 1), datetime.date(2026, 6, 30))


@pytest.fixture
def tech_lead_p1(plan, people):
    membership = PlanMembership.objects.get(plan=plan, user=people[TL])
    membership.technical_areas.add(_area("P1"))
    return people[TL]


def _indicator(plan, lead, code="OUT1", area="P1", **extra) -> MEIndicator:
    fields = {
        "code": code,
        "name": f"Indicator {code}",
        "kind": "output",
        "technical_area": _area(area) if area else None,
        "unit": "%",
        "frequency": "quarterly",
        "baseline_value": Decimal("10"),
        "baseline_year": 2025,
        **extra,
    }
    return me_indicator_create(
        plan=plan, by=lead, fields=fields, targets={2026: Decimal("30"), 2027: Decimal("50"), 2030: Decimal("90")}
    )


def _form(plan, **overrides) -> dict:
    data = {
        "code": "OUT1",
        "name": "Districts with a trained rapid response team",
        "kind": "output",
        "technical_area": _area("P1").pk,
        "definition": "Share of districts",
        "unit": "%",
        "data_source": "Training records",
        "frequency": "quarterly",
        "means_of_verification": "Reports",
        "baseline_value": "10",
        "baseline_year": "2025",
        "version": "",
    }
    for year in range(plan.first_year, plan.last_year + 1):
        data[f"target_{year}"] = str((year - 2025) * 10)
    data.update(overrides)
    return data


# --- Pages: CRUD and checks -------------------------------------------------------------------------------------


def test_secretariat_adds_an_indicator_with_a_target_per_year(client, plan, people):
    client.force_login(people[SL])
    response = client.post(reverse("indicator_new", args=[plan.pk]), _form(plan))
    assert response.status_code == 302
    indicator = MEIndicator.objects.get(plan=plan, code="OUT1")
    assert indicator.baseline_value == Decimal("10") and indicator.baseline_year == 2025
    assert {t.year: t.value for t in indicator.targets.all()} == {
        y: Decimal((y - 2025) * 10) for y in range(2026, 2031)
    }
    assert AuditEvent.objects.filter(plan=plan, action="created", target_type="meindicator").exists()


def test_a_number_is_read_as_the_persons_language_writes_it(client, plan, people):
    client.force_login(people[SL])
    client.cookies["django_language"] = "fr"
    response = client.post(
        reverse("indicator_new", args=[plan.pk]),
        _form(plan, baseline_value="12,5", target_2026="1250,75"),
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 302, response.context["form"].errors
    indicator = MEIndicator.objects.get(plan=plan)
    assert indicator.baseline_value == Decimal("12.5")
    assert indicator.targets.get(year=2026).value == Decimal("1250.75")


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"baseline_year": "2027"}, "baseline_year", "after the plan's first year"),
        ({"baseline_value": "lots"}, "baseline_value", ""),
        ({"target_2028": "many"}, "target_2028", ""),
        ({"baseline_value": ""}, "baseline_value", "give both or neither"),
    ],
)
def test_a_wrong_field_is_refused_by_name_and_nothing_is_saved(client, plan, people, overrides, field, words):
    client.force_login(people[SL])
    response = client.post(reverse("indicator_new", args=[plan.pk]), _form(plan, **overrides))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert field in errors, errors
    assert words in " ".join(errors[field])
    assert not MEIndicator.objects.filter(plan=plan).exists()
    assert not MEIndicatorTarget.objects.exists()


def test_a_code_is_unique_in_the_plan(client, plan, people):
    _indicator(plan, people[SL], code="OUT1")
    client.force_login(people[SL])
    response = client.post(reverse("indicator_new", args=[plan.pk]), _form(plan, code="out1"))
    assert response.status_code == 422
    assert "OUT1" in " ".join(response.context["form"].errors["code"]) or "out1" in " ".join(
        response.context["form"].errors["code"]
    )
    assert MEIndicator.objects.filter(plan=plan).count() == 1


def test_an_activity_or_area_of_another_plan_is_refused(client, plan, provincial_plan, people):
    foreign = Activity.objects.create(plan=provincial_plan, technical_area=_area("P1"), title="Elsewhere")
    spar_area = TechnicalArea.objects.exclude(framework__code="JEE3").first()
    client.force_login(people[SL])
    response = client.post(reverse("indicator_new", args=[plan.pk]), _form(plan, activities=[foreign.pk]))
    assert response.status_code == 422 and "activities" in response.context["form"].errors
    response = client.post(reverse("indicator_new", args=[plan.pk]), _form(plan, technical_area=spar_area.pk))
    assert response.status_code == 422 and "technical_area" in response.context["form"].errors
    assert not MEIndicator.objects.exists()


def test_targets_outside_the_plans_years_are_refused(plan, people):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        me_indicator_create(
            plan=plan,
            by=people[SL],
            fields={"code": "X", "name": "X", "kind": "output"},
            targets={2031: Decimal("1")},
        )
    assert "2031" in " ".join(refused.value.message_dict["targets"])
    assert not MEIndicator.objects.exists()


def test_edit_replaces_every_years_target_and_a_stale_edit_is_refused(client, plan, people):
    indicator = _indicator(plan, people[SL])
    client.force_login(people[SL])
    url = reverse("indicator_edit", args=[plan.pk, indicator.pk])
    response = client.post(url, _form(plan, version=indicator.version, target_2026="", target_2029="77"))
    assert response.status_code == 302
    assert {t.year: t.value for t in indicator.targets.all()}[2029] == Decimal("77")
    assert not indicator.targets.filter(year=2026).exists()
    response = client.post(url, _form(plan, version=indicator.version, name="Stale"))  # the version moved on
    assert response.status_code == 409
    indicator.refresh_from_db()
    assert indicator.name != "Stale"


def test_delete_asks_then_deletes_with_its_targets_and_actuals(client, plan, people, q1):
    indicator = _indicator(plan, people[SL])
    indicator_actuals_save(
        plan=plan, period=q1, by=people[SL], entries=[ActualEntry(indicator=indicator, value="20", version=0)]
    )
    client.force_login(people[SL])
    url = reverse("indicator_delete", args=[plan.pk, indicator.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"version": indicator.version + 1}).status_code == 409
    assert client.post(url, {"version": indicator.version}).status_code == 302
    assert not MEIndicator.objects.exists() and not MEIndicatorActual.objects.exists()


def test_list_filters_by_type_and_area_and_shows_figures(client, plan, people, q1):
    lead = people[SL]
    one = _indicator(plan, lead, code="OUT1", area="P1")
    _indicator(plan, lead, code="IMP1", area="D1", kind="impact")
    indicator_actuals_save(plan=plan, period=q1, by=lead, entries=[ActualEntry(indicator=one, value="25", version=0)])
    client.force_login(people[VW])
    page = client.get(reverse("indicators", args=[plan.pk])).content.decode()
    assert "OUT1" in page and "IMP1" in page
    page = client.get(reverse("indicators", args=[plan.pk]), {"kind": "impact"}).content.decode()
    assert "IMP1" in page and "OUT1" not in page
    page = client.get(reverse("indicators", args=[plan.pk]), {"area": _area("P1").pk}).content.decode()
    assert "OUT1" in page and "IMP1" not in page
    detail = client.get(reverse("indicator_detail", args=[plan.pk, one.pk])).content.decode()
    assert "2026 Q1" in detail and "25" in detail


def test_the_indicators_page_is_in_the_plans_nav(client, plan, people):
    client.force_login(people[VW])
    page = client.get(reverse("plan_detail", args=[plan.pk])).content.decode()
    assert reverse("indicators", args=[plan.pk]) in page


# --- Who writes ---------------------------------------------------------------------------------------------------


def test_technical_lead_writes_indicators_of_their_own_areas_only(client, plan, people, tech_lead_p1):
    client.force_login(people[TL])
    assert client.post(reverse("indicator_new", args=[plan.pk]), _form(plan)).status_code == 302
    response = client.post(
        reverse("indicator_new", args=[plan.pk]), _form(plan, code="D", technical_area=_area("D1").pk)
    )
    assert response.status_code == 422 and "technical_area" in response.context["form"].errors
    other = _indicator(plan, people[SL], code="D1X", area="D1")
    assert client.get(reverse("indicator_edit", args=[plan.pk, other.pk])).status_code == 403
    assert client.post(reverse("indicator_delete", args=[plan.pk, other.pk]), {"version": 1}).status_code == 403
    assert MEIndicator.objects.filter(pk=other.pk).exists()


@pytest.mark.parametrize("role", [FP, RV, VW])
def test_other_members_read_and_cannot_write(client, plan, people, role, q1):
    indicator = _indicator(plan, people[SL])
    client.force_login(people[role])
    assert client.get(reverse("indicators", args=[plan.pk])).status_code == 200
    assert client.get(reverse("indicator_detail", args=[plan.pk, indicator.pk])).status_code == 200
    assert client.post(reverse("indicator_new", args=[plan.pk]), _form(plan, code="NEW")).status_code == 403
    assert client.post(reverse("indicator_actuals", args=[plan.pk, q1.pk]), {}).status_code == 403
    assert client.post(reverse("indicator_capacity_add", args=[plan.pk])).status_code == 403
    assert MEIndicator.objects.count() == 1


def test_outsider_gets_not_found(client, plan, people):
    indicator = _indicator(plan, people[SL])
    client.force_login(people["outsider"])
    assert client.get(reverse("indicators", args=[plan.pk])).status_code == 404
    assert client.get(reverse("indicator_detail", args=[plan.pk, indicator.pk])).status_code == 404


def test_an_indicator_of_another_plan_is_not_found(client, plan, provincial_plan, people):
    foreign = _indicator(provincial_plan, people[SL], code="PROV", area=None)
    client.force_login(people[SL])
    assert client.get(reverse("indicator_detail", args=[plan.pk, foreign.pk])).status_code == 404
    assert client.post(reverse("indicator_delete", args=[plan.pk, foreign.pk]), {"version": 1}).status_code == 404


def test_the_results_framework_goes_on_when_the_plan_is_endorsed(client, plan, people, q1):
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    client.force_login(people[SL])
    assert client.post(reverse("indicator_new", args=[plan.pk]), _form(plan)).status_code == 302
    indicator = MEIndicator.objects.get(plan=plan)
    response = client.post(
        reverse("indicator_actuals", args=[plan.pk, q1.pk]),
        {f"value_{indicator.pk}": "20", f"note_{indicator.pk}": "", f"version_{indicator.pk}": "0"},
    )
    assert response.status_code == 302
    assert MEIndicatorActual.objects.get(indicator=indicator).value == Decimal("20")


# --- Capacity indicators ----------------------------------------------------------------------------------------


@pytest.fixture
def scored_plan(plan, people):
    """P1.1 scored 2 in a JEE of 2024 with a target of 4; P1.2 scored 3 with no target."""
    assessment = Assessment.objects.create(
        plan=plan, framework=plan.framework, kind="jee", date=datetime.date(2024, 5, 1)
    )
    p11 = Indicator.objects.get(framework=plan.framework, code="P1.1")
    p12 = Indicator.objects.get(framework=plan.framework, code="P1.2")
    IndicatorScore.objects.create(assessment=assessment, indicator=p11, score=2)
    IndicatorScore.objects.create(assessment=assessment, indicator=p12, score=3)
    IndicatorTarget.objects.create(plan=plan, indicator=p11, level=4)
    return plan


def test_capacity_indicators_come_from_the_plans_targets_and_assessments(client, scored_plan, people):
    plan = scored_plan
    client.force_login(people[SL])
    assert client.post(reverse("indicator_capacity_add", args=[plan.pk])).status_code == 302
    capacity = MEIndicator.objects.get(plan=plan, kind="capacity")
    assert capacity.capacity_indicator.code == "P1.1" and capacity.code == "P1.1"
    assert MEIndicator.objects.filter(plan=plan).count() == 1  # P1.2 has no target
    client.post(reverse("indicator_capacity_add", args=[plan.pk]))  # again: nothing more
    assert MEIndicator.objects.filter(plan=plan).count() == 1
    progress = indicator_progress([plan.pk])[capacity.pk]
    assert progress.baseline == Decimal(2) and progress.baseline_year == 2024
    assert progress.target == Decimal(4) and progress.latest.value == Decimal(2)
    assert progress.on_track is False
    # The plan's target read live: raised, the indicator follows.
    IndicatorTarget.objects.filter(plan=plan).update(level=2)
    assert indicator_progress([plan.pk])[capacity.pk].on_track is True
    page = client.get(reverse("indicators", args=[plan.pk])).content.decode()
    assert "level 2" in page


def test_a_capacity_indicators_baseline_and_targets_cannot_be_typed(client, api_client, scored_plan, people, q1):
    plan = scored_plan
    (capacity,) = capacity_indicators_add(plan=plan, by=people[SL])
    capacity = MEIndicator.objects.get(pk=capacity.pk)
    client.force_login(people[SL])
    form = client.get(reverse("indicator_edit", args=[plan.pk, capacity.pk])).context["form"]
    assert "baseline_value" not in form.fields and "target_2026" not in form.fields
    response = client.post(
        reverse("indicator_edit", args=[plan.pk, capacity.pk]),
        {**_form(plan, version=capacity.version), "code": capacity.code, "baseline_value": "9", "target_2026": "5"},
    )
    assert response.status_code == 422
    api_client.force_authenticate(people[SL])
    url = f"/api/plans/{plan.pk}/me-indicators/{capacity.pk}/"
    response = api_client.patch(url, {"baseline_value": "3", "version": capacity.version}, format="json")
    assert response.status_code == 400 and "baseline_value" in response.json()
    response = api_client.patch(url, {"targets": {"2026": "5"}, "version": capacity.version}, format="json")
    assert response.status_code == 400 and "targets" in response.json()
    with pytest.raises(ValueError):
        from monitoring.indicator_services import _entry_check

        _entry_check(ActualEntry(indicator=capacity, value="3"), plan=plan)
    assert not MEIndicatorActual.objects.exists()


# --- Actuals -----------------------------------------------------------------------------------------------------


def test_the_grid_saves_all_values_of_a_period_or_none(client, plan, people, q1):
    lead = people[SL]
    one, two = _indicator(plan, lead, code="A"), _indicator(plan, lead, code="B")
    client.force_login(lead)
    url = reverse("indicator_actuals", args=[plan.pk, q1.pk])
    assert client.get(url).status_code == 200
    data = {f"value_{one.pk}": "12", f"note_{one.pk}": "ok", f"version_{one.pk}": "0"}
    data |= {f"value_{two.pk}": "nope", f"note_{two.pk}": "", f"version_{two.pk}": "0"}
    response = client.post(url, data)
    assert response.status_code == 422 and not MEIndicatorActual.objects.exists()
    data[f"value_{two.pk}"] = "7,5" if False else "7.5"
    assert client.post(url, data).status_code == 302
    assert {a.indicator.code: a.value for a in MEIndicatorActual.objects.select_related("indicator")} == {
        "A": Decimal("12"),
        "B": Decimal("7.5"),
    }
    # A stale grid (it saw no value yet) is refused whole.
    data[f"value_{one.pk}"] = "13"
    response = client.post(url, data)
    assert response.status_code == 409
    assert MEIndicatorActual.objects.get(indicator=one).value == Decimal("12")


def test_a_stale_actual_is_refused_naming_the_indicator(plan, people, q1):
    one = _indicator(plan, people[SL], code="A")
    indicator_actuals_save(
        plan=plan, period=q1, by=people[SL], entries=[ActualEntry(indicator=one, value="1", version=0)]
    )
    with pytest.raises(EditConflict) as conflict:
        indicator_actuals_save(
            plan=plan, period=q1, by=people[SL], entries=[ActualEntry(indicator=one, value="2", version=0)]
        )
    assert "A" in conflict.value.names


def test_on_track_follows_the_line_from_baseline_to_targets(plan, people, q1, q2):
    one = _indicator(plan, people[SL])  # baseline 10 at the end of 2025, 30 at the end of 2026
    indicator_actuals_save(
        plan=plan, period=q1, by=people[SL], entries=[ActualEntry(indicator=one, value="16", version=0)]
    )
    expected = expected_value(
        baseline=Decimal(10), baseline_year=2025, targets={2026: Decimal(30)}, on=datetime.date(2026, 3, 31)
    )
    assert Decimal("14.5") < expected < Decimal("15.0")
    assert indicator_progress([plan.pk])[one.pk].on_track is True
    indicator_actuals_save(
        plan=plan, period=q2, by=people[SL], entries=[ActualEntry(indicator=one, value="12", version=0)]
    )
    progress = indicator_progress([plan.pk])[one.pk]
    assert progress.latest.label == "2026 Q2" and progress.on_track is False


# --- Import ------------------------------------------------------------------------------------------------------


def _csv(rows: list[list[str]]) -> SimpleUploadedFile:
    text = "\n".join(",".join(row) for row in rows) + "\n"
    return SimpleUploadedFile("values.csv", text.encode(), content_type="text/csv")


def _import(client, plan, file):
    with _run_on_commit():
        response = client.post(reverse("indicator_actuals_import", args=[plan.pk]), {"file": file})
    return response


def _run_on_commit():
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_import_saves_every_row_and_again_changes_nothing(client, plan, people, q1, q2):
    one = _indicator(plan, people[SL], code="A")
    client.force_login(people[SL])
    rows = [
        ["Indicator code", "Period (name or first day)", "Value", "Note"],
        ["A", "2026 Q1", "11", "first"],
        ["a", "2026-04-01", "12.25", ""],
    ]
    assert _import(client, plan, _csv(rows)).status_code == 302
    job = Job.objects.filter(plan=plan).latest("pk")
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert {a.period.label: a.value for a in MEIndicatorActual.objects.filter(indicator=one)} == {
        "2026 Q1": Decimal("11"),
        "2026 Q2": Decimal("12.25"),
    }
    events = AuditEvent.objects.filter(target_type="meindicatoractual").count()
    versions = list(MEIndicatorActual.objects.values_list("version", flat=True))
    assert _import(client, plan, _csv(rows)).status_code == 302
    assert Job.objects.filter(plan=plan).latest("pk").status == Job.Status.SUCCEEDED
    assert AuditEvent.objects.filter(target_type="meindicatoractual").count() == events
    assert list(MEIndicatorActual.objects.values_list("version", flat=True)) == versions


def test_import_in_french_headings(client, plan, people, q1):
    from django.utils import translation

    _indicator(plan, people[SL], code="A")
    with translation.override("fr"):
        from monitoring.indicator_services import import_headings

        headings = import_headings()
    client.force_login(people[SL])
    assert _import(client, plan, _csv([headings, ["A", "2026 Q1", "5", ""]])).status_code == 302
    assert Job.objects.filter(plan=plan).latest("pk").status == Job.Status.SUCCEEDED
    assert MEIndicatorActual.objects.get().value == Decimal("5")


def test_import_locates_every_problem_and_saves_nothing(client, plan, people, q1, scored_plan):
    _indicator(plan, people[SL], code="A")
    capacity_indicators_add(plan=plan, by=people[SL])
    client.force_login(people[SL])
    rows = [
        ["Indicator code", "Period", "Value", "Note"],
        ["A", "2026 Q1", "11", ""],
        ["NOPE", "2026 Q1", "1", ""],
        ["A", "2031 Q9", "1", ""],
        ["P1.1", "2026 Q1", "3", ""],
        ["A", "2026 Q1", "abc", ""],
        ["A", "2026 Q1", "12", ""],
    ]
    assert _import(client, plan, _csv(rows)).status_code == 302
    job = Job.objects.filter(plan=plan).latest("pk")
    assert job.status == Job.Status.FAILED
    problems = {(p["row"], p["column"]) for p in job.import_upload.problems}
    assert {(3, "A"), (4, "B"), (5, "A"), (6, "C"), (7, "A")} <= problems
    assert not MEIndicatorActual.objects.exists()


def test_a_technical_lead_imports_values_of_their_areas_only(client, plan, people, q1, tech_lead_p1):
    _indicator(plan, people[SL], code="A", area="P1")
    _indicator(plan, people[SL], code="B", area="D1")
    client.force_login(people[TL])
    rows = [["Indicator code", "Period", "Value"], ["A", "2026 Q1", "1"], ["B", "2026 Q1", "2"]]
    _import(client, plan, _csv(rows))
    job = Job.objects.filter(plan=plan).latest("pk")
    assert job.status == Job.Status.FAILED
    assert [(p["row"], p["column"]) for p in job.import_upload.problems] == [(3, "A")]
    assert not MEIndicatorActual.objects.exists()


def test_the_template_lists_indicators_and_periods_and_imports_back(client, plan, people, q1):
    from naphs.spreadsheets import read_spreadsheet

    _indicator(plan, people[SL], code="A")
    client.force_login(people[VW])
    response = client.get(reverse("indicator_actuals_template", args=[plan.pk]))
    assert response.status_code == 200
    (sheet,) = read_spreadsheet(io.BytesIO(response.content), name="t.xlsx")
    assert sheet.rows[1][:2] == ["A", "2026 Q1"]


# --- API ---------------------------------------------------------------------------------------------------------


def test_api_creates_reads_and_updates_with_nested_targets(api_client, plan, people, q1):
    api_client.force_authenticate(people[SL])
    url = f"/api/plans/{plan.pk}/me-indicators/"
    body = {
        "code": "API1",
        "name": "Labs accredited",
        "kind": "outcome",
        "technical_area": _area("D1").pk,
        "frequency": "annual",
        "baseline_value": "2",
        "baseline_year": 2024,
        "targets": {"2026": "4", "2030": "10"},
    }
    response = api_client.post(url, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["targets"] == {"2026": "4.0000", "2030": "10.0000"}
    detail = f"{url}{data['id']}/"
    response = api_client.patch(detail, {"targets": {"2027": "5"}, "version": data["version"]}, format="json")
    assert response.status_code == 200 and response.json()["targets"] == {"2027": "5.0000"}
    stale = api_client.patch(detail, {"name": "x", "version": data["version"]}, format="json")
    assert stale.status_code == 409
    unknown = api_client.patch(detail, {"colour": "red", "version": data["version"] + 1}, format="json")
    assert unknown.status_code == 400 and "colour" in unknown.json()
    bad_year = api_client.post(url, {**body, "code": "API2", "targets": {"2040": "1"}}, format="json")
    assert bad_year.status_code == 400 and "targets" in bad_year.json()
    # Actuals
    actuals = f"{detail}actuals/"
    response = api_client.post(actuals, {"period": q1.pk, "value": "3", "note": "", "version": 0}, format="json")
    assert response.status_code == 200 and response.json()[0]["value"] == "3.0000"
    again = api_client.post(actuals, {"period": q1.pk, "value": "4", "version": 0}, format="json")
    assert again.status_code == 409
    listed = api_client.get(url).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert rows[0]["progress"]["latest"]["value"] == "3.0000"


def test_api_refuses_a_period_of_another_plan_and_readers_writes(api_client, plan, provincial_plan, people, q1):
    indicator = _indicator(plan, people[SL], code="A")
    foreign = _period(provincial_plan, "P Q1", datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
    api_client.force_authenticate(people[SL])
    url = f"/api/plans/{plan.pk}/me-indicators/{indicator.pk}/actuals/"
    response = api_client.post(url, {"period": foreign.pk, "value": "1", "version": 0}, format="json")
    assert response.status_code == 400 and "period" in response.json()
    api_client.force_authenticate(people[VW])
    assert api_client.get(url).status_code == 200
    assert api_client.post(url, {"period": q1.pk, "value": "1", "version": 0}, format="json").status_code == 403
    assert not MEIndicatorActual.objects.exists()


def test_api_import_answers_202_with_the_job(api_client, plan, people, q1):
    _indicator(plan, people[SL], code="A")
    api_client.force_authenticate(people[SL])
    file = _csv([["Indicator code", "Period", "Value"], ["A", "2026 Q1", "9"]])
    with _run_on_commit():
        response = api_client.post(f"/api/plans/{plan.pk}/me-indicators/import/", {"file": file}, format="multipart")
    assert response.status_code == 202
    assert Job.objects.get(pk=response.json()["id"]).status == Job.Status.SUCCEEDED
    assert MEIndicatorActual.objects.get().value == Decimal("9")


# --- Constant queries ---------------------------------------------------------------------------------------------


def _grow(plan, lead, count: int, periods: list[ReportingPeriod]) -> None:
    start = MEIndicator.objects.filter(plan=plan).count()
    for number in range(start, start + count):
        indicator = _indicator(plan, lead, code=f"G{number}")
        indicator.activities.add(Activity.objects.create(plan=plan, technical_area=_area("P1"), title=f"A{number}"))
        for period in periods:
            MEIndicatorActual.objects.create(indicator=indicator, period=period, value=Decimal(number))


@pytest.mark.parametrize("route", ["indicators", "indicator_actuals", "api"])
def test_pages_run_a_constant_number_of_queries(
    client, api_client, plan, people, q1, q2, django_assert_max_num_queries, route
):
    lead = people[SL]

    def fetch():
        if route == "indicators":
            return client.get(reverse("indicators", args=[plan.pk]))
        if route == "indicator_actuals":
            return client.get(reverse("indicator_actuals", args=[plan.pk, q1.pk]))
        return api_client.get(f"/api/plans/{plan.pk}/me-indicators/")

    client.force_login(lead)
    api_client.force_authenticate(lead)
    _grow(plan, lead, 2, [q1, q2])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert fetch().status_code == 200
    _grow(plan, lead, 20, [q1, q2])
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert fetch().status_code == 200
