"""An endorsed plan is read-only for everyone, in every write path, until the secretariat lead reopens it.

The walk reuses the permission walk's routes, payloads and scene (tests/test_permissions.py and the
tests/costing/permissions_*.py tables it reads): every route with a writing method is sent, as the secretariat lead,
the payload that saves on a draft, this time on an endorsed plan. A write to the plan's content answers 423 with the
reason and writes nothing; a write that goes on while the plan is endorsed (its team, exports, review) answers as the
table says. Every writing route is in one list or the other: one in neither fails the walk.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from django.urls import get_resolver

from naphs.models import AuditEvent
from planning.models import Plan
from tests.test_permissions import PARTS, SL, WRITES, Route, Scene, expectations, judge, request, walk

pytestmark = pytest.mark.django_db

# Writes to a plan's content: refused (423) once the plan is endorsed.
CONTENT: frozenset[str] = frozenset(
    {
        # Settings, scores, targets, the draft, context, priorities, groups and dependencies: the secretariat's.
        "plan_settings",
        # A review round is opened on a draft (what an endorsed plan is, is settled).
        "review_rounds",
        "review-round-list",
        # A named version is of a draft: an endorsed plan's version is its endorsement's.
        "plan_versions",
        "api-plan-versions",
        "plan-detail",
        "assessments",
        "assessment_detail",
        "assessment_import",
        "assessment_import_spar",
        "assessment_import_spar_pick",
        "api-spar-tables",
        "api-spar-table-import",
        "targets",
        "targets_fill",
        "generate",
        "plan_context",
        "plan_priorities",
        "functional_groups",
        "functional_group_edit",
        "functional_group_delete",
        "activity_dependencies",
        "activity_dependency_remove",
        # National guidance: the secretariat's, frozen with the plan's content.
        "plan_guidance",
        "plan_guidance_edit",
        "plan_guidance_delete",
        "guidance-list",
        "guidance-detail",
        # Activities.
        "activity_new",
        "activity_detail",
        "activity_delete",
        "activity-list",
        "activity-detail",
        # Comments: starting, replying, resolving and reopening.
        "comments",
        "comment_thread",
        "comment_thread_resolve",
        "comment_thread_reopen",
        "activity_comments",
        "thread-list",
        "thread-comments",
        "thread-resolve",
        "thread-reopen",
        # Costing: settings, rates, the catalogue, cost lines and builders, uploads and imports, funding.
        "costing_settings",
        "plan-costing",
        "exchange_rate_edit",
        "exchange_rate_delete",
        "exchange-rate-list",
        "exchange-rate-detail",
        "catalogue_item_new",
        "catalogue_item_edit",
        "catalogue_item_price",
        "catalogue_item_delete",
        "catalogue-item-list",
        "catalogue-item-detail",
        "catalogue-item-reprice",
        "activity_costs",
        "cost_line_edit",
        "cost_line_delete",
        "cost_builder",
        "api-cost-builder",
        "cost-line-list",
        "cost-line-detail",
        "costing_upload",
        "costing-upload-list",
        # One's costing workbook is made to be filled and uploaded back, which an endorsed plan refuses; the
        # whole-plan workbook and the WHO layout export it as it stands.
        "costing_workbook",
        "api-costing-workbook",
        "who_costing_import",
        "funding_new",
        "funding_edit",
        "funding_delete",
        "funding-commitment-list",
        # A pledge of advocacy recorded as a funding commitment: funding, as above.
        "advocacy_pledge",
        "advocacy-pledge-list",
        "funding-commitment-detail",
        # A remedial action of a 7-1-7 event made an activity: an activity added to the plan.
        "bottleneck_activity",
        "bottleneck-activity",
    }
)

# Writes whose own answer on an endorsed plan is that they are done already (409): endorsing it again.
ALREADY_DONE = frozenset({"plan_endorsement", "api-plan-endorse"})

# Writes that go on while a plan is endorsed: its team and organizations, exports of it, a new operational plan
# drawn from it, and everything that belongs to no plan (accounts, invitations one answers, new plans).
GOES_ON: frozenset[str] = frozenset(
    {
        # Endorsing an endorsed plan is refused as already done (409); reopening it is what unfreezes it.
        "plan_endorsement",
        "plan_reopen",
        "api-plan-endorse",
        "api-plan-reopen",
        # A round open when the plan was endorsed still closes, and its reviewers' verdicts are recorded.
        "review_round_close",
        "review-round-close",
        "review_verdict",
        "review-round-verdict",
        "members",
        "member_update",
        "member_remove",
        "membership-detail",
        "invitation_resend",
        "invitation_revoke",
        "plan-invitation-list",
        "plan-invitation-detail",
        "plan-invitation-resend",
        "organization_new",
        "organization_edit",
        "organization-list",
        "organization-detail",
        "operational_new",
        "directory_export",
        "api-directory-export",
        "audit_trail_export",
        "api-audit-export",
        "who_costing_export",
        "api-who-export",
        "costing_dashboard_export",
        "api-costing-summary-export",
        "monitoring_dashboard_export",
        "api-monitoring-dashboard-export",
        "plan_workbook_export",
        "api-plan-workbook-export",
        "plan_open_data_export",
        "api-plan-open-data-export",
        "plan_document_request",
        # Implementation is monitored on the endorsed plan: progress reports and their evidence.
        "progress_report",
        "progress_evidence_add",
        "progress_evidence_delete",
        "progress-update-list",
        "progress-update-detail",
        "progress-evidence-list",
        "progress-evidence-detail",
        # Monitoring: a follow-up assessment re-assesses the plan being implemented; its capacity progress exported.
        "capacity_assessment_new",
        "capacity_progress_export",
        "api-capacity-progress-export",
        # Progress is reported on the endorsed plan: the progress workbook, out and back.
        "progress_workbook",
        "progress_workbook_export",
        "api-progress-workbook",
        "progress-upload-list",
        # Monitoring: 7-1-7 health events and their bottlenecks, recorded against the plan being implemented.
        "health_event_new",
        "health_event_edit",
        "health_event_delete",
        "health-event-list",
        "health-event-detail",
        "bottleneck_new",
        "bottleneck_edit",
        "bottleneck_delete",
        "bottleneck-list",
        "bottleneck-detail",
        # No plan, or a plan of one's own making.
        "login",
        "logout",
        "password_change",
        "password_reset",
        "password_reset_confirm",
        "language_set",
        "api-token",
        "api-not-found",
        "jurisdiction-list",
        "plan-list",
        "plan_new",
        "invitation",
        "invitation_answer",
        "my-invitation-accept",
        "my-invitation-decline",
    }
)
# A part's module may list its own writes that go on (GOES_ON), e.g. monitoring's (tests/monitoring/permissions_*.py).
GOES_ON = GOES_ON.union(*(getattr(part, "GOES_ON", frozenset()) for part in PARTS))


def writing_routes(routes: Iterable[Route], table: dict[tuple[str, str], dict[str, int]]) -> dict[str, list[str]]:
    """Route name -> the writing methods the table lets the route answer (the format-suffix twins aside)."""
    found: dict[str, list[str]] = {}
    for route in routes:
        if "format" in route.kwargs:
            continue
        methods = sorted(method for method in WRITES if (route.name, method) in table)
        if methods:
            found[route.name] = methods
    return found


def classification_problems(names: Iterable[str]) -> list[str]:
    """A writing route in neither list, or in both, or a listed name that is no writing route any more."""
    names = set(names)
    problems = [
        f"{name} writes: list it in CONTENT (refused once the plan is endorsed) or GOES_ON"
        for name in sorted(names - CONTENT - GOES_ON)
    ]
    problems += [f"{name} is in both CONTENT and GOES_ON" for name in sorted(CONTENT & GOES_ON & names)]
    problems += [f"{name} is listed but writes nothing any more" for name in sorted((CONTENT | GOES_ON) - names)]
    return problems


@pytest.fixture
def endorsed(plan, provincial_plan, people, moh, moa, country, province, other_country) -> Scene:
    """The permission walk's scene, its plan endorsed. The scene makes each request's objects (a cost line, a rate)
    through the services, which an endorsed plan refuses: it makes them while the plan is a draft, and the request
    then meets the plan endorsed."""
    scene = Scene(
        plan=plan,
        provincial_plan=provincial_plan,
        people=people,
        moh=moh,
        moa=moa,
        country=country,
        province=province,
        other_country=other_country,
    )
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    fill = scene.fill

    def filled(route, persona, *, foreign=""):
        Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.DRAFT)
        try:
            return fill(route, persona, foreign=foreign)
        finally:
            Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)

    scene.fill = filled  # type: ignore[method-assign]
    return scene


def test_every_writing_route_is_classified():
    routes = writing_routes(walk(get_resolver().url_patterns), expectations())
    assert not (problems := classification_problems(routes)), "\n".join(problems)


def test_a_writing_route_added_without_being_classified_fails_the_walk():
    routes = writing_routes(walk(get_resolver().url_patterns), expectations())
    table = {("brand_new_route", "POST"): {SL: 302}}
    new = Route("brand_new_route", "plans/<int:plan_id>/brand-new/", lambda request: None, ("plan_id",))
    problems = classification_problems([*routes, *writing_routes([new], table)])
    assert problems == ["brand_new_route writes: list it in CONTENT (refused once the plan is endorsed) or GOES_ON"]


@pytest.mark.timeout(900)
def test_every_write_to_an_endorsed_plans_content_is_refused_and_the_rest_goes_on(endorsed):
    scene = endorsed
    table = expectations()
    problems: list[str] = []
    routes = [route for route in walk(get_resolver().url_patterns) if "format" not in route.kwargs]
    for route in routes:
        for method in writing_routes([route], table).get(route.name, []):
            expected = table[route.name, method][SL]
            events = AuditEvent.objects.count()
            result = request(scene, route, method, SL)
            what = f"{method} {result.url}"
            if route.name in CONTENT:
                if result.status != 423:
                    problems.append(f"{what}: expected 423 on an endorsed plan, got {result.status} {result.location}")
                elif result.wrote:
                    problems.append(f"{what}: refused but wrote to {', '.join(result.wrote)}")
                elif b"endorsed" not in result.body:
                    problems.append(f"{what}: refused without saying the plan is endorsed: {result.body[:300]!r}")
            elif route.name in ALREADY_DONE:
                if result.status != 409 or result.wrote or b"already" not in result.body:
                    problems.append(f"{what}: expected 409 saying it is done already, got {result.status}")
            elif route.name in GOES_ON:
                if result.status == 423:
                    problems.append(f"{what}: refused (423) but it goes on while the plan is endorsed")
                else:
                    problems += judge(result, expected, what)
            api_refusal = route.is_api and route.name in CONTENT and result.status == 423
            if api_refusal and b'"code":"plan_endorsed"' not in result.body.replace(b" ", b""):
                problems.append(f"{what}: 423 without the code plan_endorsed: {result.body[:300]!r}")
            assert AuditEvent.objects.count() == events  # each request is rolled back
    assert not problems, f"{len(problems)} writes do not keep the freeze:\n" + "\n".join(problems)


# The routes that write an assessment's scores are CONTENT for a baseline assessment (what the walk's scene makes);
# for a follow-up assessment (a re-assessment during implementation) they go on while the plan is endorsed.
FOLLOW_UP_GOES_ON = frozenset(
    {
        "assessment_detail",
        "assessment_import",
        "assessment_import_spar",
        "assessment_import_spar_pick",
        "api-spar-tables",
        "api-spar-table-import",
    }
)


@pytest.mark.timeout(600)
def test_an_endorsed_plan_takes_follow_up_assessments_and_their_scores(endorsed):
    import datetime

    from planning.models import Assessment, Framework

    scene = endorsed

    def follow_up(plan, *, spar: bool = False):
        framework = Framework.objects.get(code="SPAR2" if spar else "JEE3")
        return Assessment.objects.create(
            plan=plan, framework=framework, kind="jee", date=datetime.date(2025, 5, 1), purpose="follow_up"
        )

    scene.fresh_assessment = follow_up  # type: ignore[method-assign]
    table = expectations()
    problems: list[str] = []
    routes = [route for route in walk(get_resolver().url_patterns) if "format" not in route.kwargs]
    seen = set()
    for route in routes:
        if route.name not in FOLLOW_UP_GOES_ON:
            continue
        seen.add(route.name)
        for method in writing_routes([route], table).get(route.name, []):
            result = request(scene, route, method, SL)
            problems += judge(result, table[route.name, method][SL], f"{method} {result.url} (a follow-up)")
    # A new assessment on the assessments page: a follow-up goes on, a baseline is refused.
    assessments = next(route for route in routes if route.name == "assessments")
    result = request(scene, assessments, "POST", SL, tweak=lambda data: {**data, "purpose": "follow_up"})
    problems += judge(result, table["assessments", "POST"][SL], f"POST {result.url} (a follow-up)")
    result = request(scene, assessments, "POST", SL, tweak=lambda data: {**data, "purpose": "baseline"})
    if result.status != 423 or result.wrote:
        problems.append(f"POST {result.url} (a baseline): expected 423, got {result.status}")
    assert seen == FOLLOW_UP_GOES_ON
    assert not problems, "\n".join(problems)
