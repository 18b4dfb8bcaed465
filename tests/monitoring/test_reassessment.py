"""Re-assessment: a follow-up assessment (a yearly SPAR, a new JEE, a self-assessment) shows the progress of the
plan's capacities toward their targets, and never moves the baseline the plan starts from. An endorsed plan takes
follow-up assessments and their scores (the monitoring goes on) and refuses baseline ones (its content is frozen)."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from monitoring.capacity import NOT_REPORTED, Change, capacity_progress, capacity_progress_for_plan
from monitoring.models import ProgressStatus, ProgressUpdate, ReportingPeriod
from naphs.errors import PlanFrozen
from naphs.models import Job, Upload
from naphs.uploads import upload_create
from planning.assessments import assessment_create, scores_set
from planning.job_kinds import PlanningJob
from planning.models import Activity, Assessment, Framework, Indicator, IndicatorScore, Plan, TechnicalArea
from planning.operational import operational_plan_create
from planning.selectors import plan_baseline, plan_current_levels, plan_latest_levels
from planning.targets import target_set
from tests.planning.test_spar_published import spar_published, xlsx

pytestmark = pytest.mark.django_db

FOLLOW_UP = Assessment.Purpose.FOLLOW_UP


def indicator(code: str, framework: str = "JEE3") -> Indicator:
    return Indicator.objects.get(framework__code=framework, code=code)


def assess(plan: Plan, by, scores: dict[str, int], *, date: str, purpose: str = "baseline", framework: str = "JEE3"):
    kind = "spar" if framework.startswith("SPAR") else "jee"
    assessment = assessment_create(
        plan=plan,
        by=by,
        framework=Framework.objects.get(code=framework),
        kind=kind,
        date=datetime.date.fromisoformat(date),
        purpose=purpose,
    )
    scores_set(assessment=assessment, by=by, scores=scores)
    return assessment


def endorse(plan: Plan) -> None:
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    plan.refresh_from_db()


@pytest.fixture
def baseline(plan, lead) -> Assessment:
    return assess(plan, lead, {"P1.1": 2, "P1.2": 3, "P2.1": 1}, date="2024-05-01")


@pytest.fixture
def targets(plan, lead, baseline) -> None:
    for code, level in (("P1.1", 4), ("P1.2", 4), ("P2.1", 3)):
        target_set(plan=plan, by=lead, indicator=indicator(code), level=level, justification="Agreed")


def test_a_follow_up_leaves_the_baseline_and_the_current_levels_as_they_are(plan, lead, baseline, targets):
    before = plan_baseline(plan=plan)
    follow_up = assess(plan, lead, {"P1.1": 4, "P1.2": 2}, date="2025-06-01", purpose=FOLLOW_UP)

    assert plan_baseline(plan=plan) == before
    assert plan_current_levels(plan=plan) == {
        indicator(c).pk: lvl for c, lvl in (("P1.1", 2), ("P1.2", 3), ("P2.1", 1))
    }
    latest = plan_latest_levels(plan=plan)
    assert latest[indicator("P1.1").pk].level == 4 and latest[indicator("P1.1").pk].assessment_id == follow_up.pk
    assert latest[indicator("P1.1").pk].is_follow_up
    # What the follow-up does not score keeps the baseline's level, and says where it comes from.
    assert latest[indicator("P2.1").pk].level == 1 and latest[indicator("P2.1").pk].assessment_id == baseline.pk
    # A target between the baseline and the newer level is no "target below the current level": the baseline rules.
    target_set(plan=plan, by=lead, indicator=indicator("P1.1"), level=3, justification="Kept", version=None)


def test_the_targets_page_does_not_flag_a_target_a_follow_up_overtook(client, plan, lead, baseline, targets):
    assess(plan, lead, {"P1.1": 5}, date="2025-06-01", purpose=FOLLOW_UP)
    client.force_login(lead)
    page = client.get(f"/plans/{plan.pk}/targets/").content.decode()
    assert f'id="below-current-{indicator("P1.1").pk}"' not in page


def test_an_operational_plan_draws_the_baseline_without_the_follow_ups(plan, lead, baseline, targets):
    assess(plan, lead, {"P1.1": 4, "P3.1": 2}, date="2025-06-01", purpose=FOLLOW_UP)
    operational = operational_plan_create(
        strategic=plan, by=lead, title="Year one", first_year=2026, last_year=2026, activities=[]
    )
    copies = list(Assessment.objects.filter(plan=operational))
    assert [copy.origin_id for copy in copies] == [baseline.pk]
    assert all(not copy.is_follow_up for copy in copies)
    assert {k: v.level for k, v in plan_baseline(plan=operational).items()} == plan_current_levels(plan=plan)


def test_the_latest_levels_stand_with_the_follow_up_chosen(plan, lead, baseline):
    first = assess(plan, lead, {"P1.1": 3}, date="2025-03-01", purpose=FOLLOW_UP)
    assess(plan, lead, {"P1.1": 4, "P1.2": 2}, date="2026-03-01", purpose=FOLLOW_UP)
    as_of_first = plan_latest_levels(plan=plan, until=first)
    assert as_of_first[indicator("P1.1").pk].level == 3
    assert as_of_first[indicator("P1.2").pk].level == 3  # the baseline's: the later follow-up is not counted
    assert plan_latest_levels(plan=plan)[indicator("P1.2").pk].level == 2


def test_a_spar_follow_up_on_a_jee_plan_is_carried_through_the_crosswalk(plan, lead, baseline, targets):
    spar = assess(plan, lead, {"C1.1": 4}, date="2025-06-01", purpose=FOLLOW_UP, framework="SPAR2")
    progress = capacity_progress_for_plan(plan=plan, compared=spar)
    row = next(row for row in progress.indicators if row.indicator.code == "P1.1")
    assert (row.baseline.level, row.latest.level, row.target) == (2, 4, 4)
    assert row.latest.carried and row.latest.framework == "SPAR2" and row.latest.crosswalks
    assert row.change == 2 and row.direction == Change.UP and row.reached is True and row.reassessed
    assert plan_baseline(plan=plan)[indicator("P1.1").pk].level == 2


@pytest.fixture
def spar_plan(country, people) -> Plan:
    """A SPAR 2 plan of the same members, with a SPAR 2023 baseline and targets a level above it."""
    plan = Plan.objects.create(
        framework=Framework.objects.get(code="SPAR2"),
        jurisdiction=country,
        title="Testland SPAR plan",
        kind="strategic",
        first_year=2026,
        last_year=2030,
    )
    from stakeholders.models import PlanMembership

    for user in people.values():
        membership = PlanMembership.objects.filter(user=user).first()
        if membership is not None:
            PlanMembership.objects.create(
                plan=plan, user=user, role=membership.role, organization_id=membership.organization_id
            )
    lead = people["secretariat_lead"]
    codes = list(Indicator.objects.filter(framework__code="SPAR2").values_list("code", flat=True))
    assess(plan, lead, dict.fromkeys(codes, 2), date="2023-04-01", framework="SPAR2")
    for code in codes:
        target_set(plan=plan, by=lead, indicator=indicator(code, "SPAR2"), level=3, justification="Agreed")
    return plan


def test_a_new_spar_imported_from_whos_table_on_the_endorsed_plan_shows_progress_toward_the_targets(
    client, spar_plan, lead, django_capture_on_commit_callbacks
):
    endorse(spar_plan)
    client.force_login(lead)
    response = client.post(
        f"/plans/{spar_plan.pk}/monitoring/capacity/assessments/new/",
        {"framework": Framework.objects.get(code="SPAR2").pk, "kind": "spar", "date": "2025-03-01", "source": "SPAR"},
    )
    follow_up = Assessment.objects.get(plan=spar_plan, purpose=FOLLOW_UP)
    assert response.status_code == 302 and response["Location"] == f"/plans/{spar_plan.pk}/assessments/{follow_up.pk}/"
    # WHO's published table, Pakistan's row (tests/planning/test_spar_published.py): the country named at once.
    file = SimpleUploadedFile("SPAR_2024.xlsx", xlsx(spar_published()).getvalue())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/plans/{spar_plan.pk}/assessments/{follow_up.pk}/import-spar/", {"file": file, "country": "Pakistan"}
        )
    assert response.status_code == 302
    job = Job.objects.get(plan=spar_plan, params__assessment=follow_up.pk)
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert Upload.objects.get(job=job).status == Upload.Status.APPLIED

    progress = capacity_progress_for_plan(plan=spar_plan, compared=follow_up)
    levels = {row.indicator.code: row for row in progress.indicators}
    # Pakistan's invented row gives the indicators levels 1 to 5 in turn; C3.2 is not reported.
    assert levels["C1.1"].latest.level == 1 and levels["C1.1"].direction == Change.DOWN
    assert not levels["C3.2"].reassessed and levels["C3.2"].latest.level == 2
    reached = [row for row in progress.indicators if row.reached]
    assert reached and all(row.latest.level >= 3 and row.reassessed for row in reached)
    assert progress.reached == len(reached) and progress.with_target == len(progress.indicators)
    assert all(row.baseline.level == 2 for row in progress.indicators)  # the baseline stayed
    page = client.get(f"/plans/{spar_plan.pk}/monitoring/capacity/").content.decode()
    assert "reached" in page and "SPAR 2024" not in page  # the page names the assessment by kind and date
    assert "1 Mar 2025" in page


def test_an_endorsed_plan_takes_a_follow_up_and_its_scores_but_refuses_a_baseline(
    client, plan, lead, baseline, django_capture_on_commit_callbacks
):
    endorse(plan)
    jee3 = Framework.objects.get(code="JEE3")
    with pytest.raises(PlanFrozen):
        assessment_create(plan=plan, by=lead, framework=jee3, kind="jee", date=datetime.date(2025, 1, 1))
    with pytest.raises(PlanFrozen):
        scores_set(assessment=baseline, by=lead, scores={"P1.1": 5})
    follow_up = assess(plan, lead, {"P1.1": 3}, date="2025-06-01", purpose=FOLLOW_UP)
    assert IndicatorScore.objects.get(assessment=follow_up).score == 3

    client.force_login(lead)
    form = {"framework": jee3.pk, "kind": "jee", "date": "2025-09-01", "source": ""}
    assert client.post(f"/plans/{plan.pk}/assessments/", form).status_code == 423
    assert client.post(f"/plans/{plan.pk}/assessments/", {**form, "purpose": "baseline"}).status_code == 423
    response = client.post(f"/plans/{plan.pk}/assessments/", {**form, "purpose": "follow_up"})
    assert response.status_code == 302
    assert Assessment.objects.filter(plan=plan).count() == 3
    p11 = indicator("P1.1").pk
    refused = client.post(f"/plans/{plan.pk}/assessments/{baseline.pk}/", {f"i{p11}": "5", f"v{p11}": "1"})
    assert refused.status_code == 423
    assert IndicatorScore.objects.get(assessment=baseline, indicator_id=p11).score == 2
    saved = client.post(f"/plans/{plan.pk}/assessments/{follow_up.pk}/", {f"i{p11}": "4", f"v{p11}": "1"})
    assert saved.status_code == 302
    assert IndicatorScore.objects.get(assessment=follow_up, indicator_id=p11).score == 4
    sheet = SimpleUploadedFile("scores.csv", b"indicator,score\nP1.2,4\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/plans/{plan.pk}/assessments/{follow_up.pk}/import/", {"file": sheet}).status_code == 302
    assert IndicatorScore.objects.get(assessment=follow_up, indicator__code="P1.2").score == 4
    sheet = SimpleUploadedFile("scores.csv", b"indicator,score\nP1.2,4\n", content_type="text/csv")
    assert client.post(f"/plans/{plan.pk}/assessments/{baseline.pk}/import/", {"file": sheet}).status_code == 423
    # The grid of a follow-up is editable on the endorsed plan; a baseline's is read-only.
    assert 'id="score-grid"' in client.get(f"/plans/{plan.pk}/assessments/{follow_up.pk}/").content.decode()
    assert 'id="score-grid"' not in client.get(f"/plans/{plan.pk}/assessments/{baseline.pk}/").content.decode()


def test_a_score_import_queued_for_a_baseline_before_the_endorsement_is_refused_after_it(
    plan, lead, baseline, django_capture_on_commit_callbacks
):
    sheet = SimpleUploadedFile("scores.csv", b"indicator,score\nP1.2,4\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        upload = upload_create(
            kind=PlanningJob.SCORES_IMPORT, by=lead, plan=plan, file=sheet, params={"assessment": baseline.pk}
        )
    endorse(plan)  # the job runs after the plan was endorsed
    for callback in queued:
        callback()
    upload.refresh_from_db()
    assert upload.status == Upload.Status.REFUSED and "endorsed" in upload.message
    assert IndicatorScore.objects.get(assessment=baseline, indicator__code="P1.2").score == 3


def test_the_spar_table_api_takes_a_follow_up_of_an_endorsed_plan_and_refuses_its_baseline(
    api_client, spar_plan, lead, django_capture_on_commit_callbacks
):
    endorse(spar_plan)
    baseline = Assessment.objects.get(plan=spar_plan)
    follow_up = Assessment.objects.create(
        plan=spar_plan, framework=baseline.framework, kind="spar", date=datetime.date(2025, 3, 1), purpose=FOLLOW_UP
    )
    api_client.force_authenticate(lead)
    url = f"/api/plans/{spar_plan.pk}/assessments/{{}}/spar-tables/"

    def table():
        return SimpleUploadedFile("SPAR_2024.xlsx", xlsx(spar_published()).getvalue())

    refused = api_client.post(url.format(baseline.pk), {"file": table()}, format="multipart")
    assert refused.status_code == 423 and refused.json()["code"] == "plan_endorsed"
    kept = api_client.post(url.format(follow_up.pk), {"file": table()}, format="multipart")
    assert kept.status_code == 201, kept.content
    with django_capture_on_commit_callbacks(execute=True):
        imported = api_client.post(
            f"/api/plans/{spar_plan.pk}/assessments/{follow_up.pk}/spar-tables/{kept.json()['id']}/import/",
            {"country": "Pakistan"},
            format="json",
        )
    assert imported.status_code == 202
    assert IndicatorScore.objects.filter(assessment=follow_up).count() > 30


def _period(plan: Plan, start: str) -> ReportingPeriod:
    first = datetime.date.fromisoformat(start)
    return ReportingPeriod.objects.create(
        plan=plan, label=start, starts_on=first, ends_on=first + datetime.timedelta(days=89), due_on=first, state="open"
    )


def test_the_activities_behind_each_indicator_show_their_latest_reported_status(plan, lead, baseline, moa):
    area = TechnicalArea.objects.get(framework__code="JEE3", code="P1")
    laws = Activity.objects.create(plan=plan, technical_area=area, title="Revise the law", responsible_organization=moa)
    laws.indicators.set([indicator("P1.1"), indicator("P1.2")])
    budget = Activity.objects.create(plan=plan, technical_area=area, title="Budget line")
    budget.indicators.set([indicator("P1.1")])
    Activity.objects.create(plan=plan, technical_area=area, title="No indicator")
    q1, q2 = _period(plan, "2026-01-01"), _period(plan, "2026-04-01")
    ProgressUpdate.objects.create(plan=plan, activity=laws, period=q1, status="delayed", percent_complete=10)
    ProgressUpdate.objects.create(plan=plan, activity=laws, period=q2, status="on_track", percent_complete=40)

    progress = capacity_progress_for_plan(plan=plan, compared=None)
    rows = {row.indicator.code: row for row in progress.indicators}
    assert [(a.title, a.status) for a in rows["P1.1"].activities] == [
        ("Budget line", NOT_REPORTED),
        ("Revise the law", ProgressStatus.ON_TRACK),
    ]
    assert [(c.label, c.count) for c in rows["P1.1"].status_counts] == [("On track", 1), ("Not reported", 1)]
    assert [a.title for a in rows["P1.2"].activities] == ["Revise the law"]
    assert rows["P2.1"].activities == []
    p1 = next(area for area in progress.areas if area.area.code == "P1")
    assert sum(count.count for count in p1.status_counts) == 2  # each activity once, though it serves two


def test_the_dashboards_selector_reads_several_plans_in_a_constant_number_of_queries(
    plan, provincial_plan, lead, baseline, targets, django_assert_max_num_queries
):
    Plan.objects.filter(pk=provincial_plan.pk).update(framework=plan.framework)
    assess(provincial_plan, lead, {"C1.1": 3}, date="2024-01-01", framework="SPAR2")
    assess(plan, lead, {"P1.1": 3}, date="2025-06-01", purpose=FOLLOW_UP)
    with django_assert_max_num_queries(6):
        figures = capacity_progress(plan_ids=[plan.pk, provincial_plan.pk, 10**9])
    assert set(figures) == {plan.pk, provincial_plan.pk}
    national = {row.indicator.code: row for row in figures[plan.pk].indicators}
    assert (national["P1.1"].baseline.level, national["P1.1"].latest.level, national["P1.1"].target) == (2, 3, 4)
    provincial = {row.indicator.code: row for row in figures[provincial_plan.pk].indicators}
    assert provincial["P1.1"].baseline.carried and provincial["P1.1"].latest.level == 3
    assert figures[plan.pk].areas[0].area.code == "P1" and figures[plan.pk].areas[0].reached == 0
