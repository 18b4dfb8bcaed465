"""The API keeps its contract: schemathesis sends generated requests, valid and invalid, to every operation of
the schema at /api/schema/ as the secretariat lead of a populated plan (the demo's national plan: activities,
cost lines, funding, members, a finished job) and checks every answer.

It fails on a server error (5xx), a status the operation does not document, a body or content type that differs
from the schema, valid data refused and invalid data accepted. Fixed seed and deterministic generation: the same
cases on every run, so a failure here is reproduced by running the test again.
"""

from __future__ import annotations

import collections
import datetime
import io
import json
import os

import pytest
from django.core.management import call_command

from naphs.models import AuditEvent, Job
from naphs.permissions import Role
from planning.models import Plan
from stakeholders.job_kinds import StakeholdersJob
from stakeholders.models import Organization, PlanMembership

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import strategies as st  # noqa: E402
from schemathesis.engine import events, from_schema  # noqa: E402

# drf-spectacular's `decimal` format is a string of digits (the schema gives each field's pattern); schemathesis
# would draw JSON numbers for it. Amounts every decimal field of the API takes, as strings.
schemathesis.openapi.format("decimal", st.decimals(min_value="0.01", max_value="365", places=2).map(str))

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(900)]

MIN_CASES = 1000
# Generated cases per operation and generation mode (valid, invalid). NAPHS_API_CONTRACT_EXAMPLES raises it for
# a deeper run, and NAPHS_API_CONTRACT_COVERAGE=1 adds schemathesis's coverage phase (each required field missing,
# each bound crossed, each enum value: some 5,000 cases more, too slow for every run).
EXAMPLES_PER_OPERATION = int(os.environ.get("NAPHS_API_CONTRACT_EXAMPLES", "14"))
COVERAGE = os.environ.get("NAPHS_API_CONTRACT_COVERAGE", "") == "1"
SEED = 20260


@pytest.fixture
def demo(jee3, monkeypatch):
    """The demo: Demoland's national plan, drafted, costed and funded, with a member per role."""
    monkeypatch.setenv("DEMO_ALLOW_PRODUCTION", "1")  # tests run with DEBUG off
    call_command("demo_load", password="demo-password-for-tests", stdout=io.StringIO())
    return Plan.objects.get(parent__isnull=True, jurisdiction__code="XD")


def _ids(queryset) -> list[int]:
    return list(queryset.order_by("pk").values_list("pk", flat=True)[:20])


# What a schema cannot state: a workbook's content (its own harness tries hostile files), a user name with its
# password, and rules between fields or between a request and the plan's data. A request the schema allows is
# then refused with 400 naming the rule (the last year before the first, a date outside the plan's period,
# an indicator of another area, a name already taken, a rate already there, a base currency that costing has
# started in, answers that cost nothing; the audit trail's last day before its first). For these operations only,
# such a 400 is not counted as valid data refused; every other operation, and every other check, must pass whole.
RULES_BEYOND_THE_SCHEMA = {
    "POST /api/auth/token/": "a wrong user name or password",
    "POST /api/plans/{plan_id}/invitations/": "a focal point's organization; a technical lead's areas of the plan",
    "POST /api/plans/{plan_id}/costing/uploads/": "the file must be this plan's costing workbook",
    "POST /api/plans/{plan_id}/assessments/{assessment_id}/spar-tables/": "the file must be a SPAR results table",
    "POST /api/plans/{plan_id}/assessments/{assessment_id}/spar-tables/{upload_id}/import/": (
        "a country of the kept table"
    ),
    "POST /api/organizations/": "a name already taken in the jurisdiction",
    "PUT /api/organizations/{organization_id}/": "a name already taken in the jurisdiction",
    "PATCH /api/organizations/{organization_id}/": "a name already taken in the jurisdiction",
    "POST /api/plans/": "years in order; an operational plan within two calendar years; a parent plan's rules",
    "PUT /api/plans/{plan_id}/": "years in order; an operational plan within two calendar years",
    "PATCH /api/plans/{plan_id}/": "years in order; an operational plan within two calendar years",
    "POST /api/plans/{plan_id}/activities/": "dates within the plan's period; indicators of the activity's area",
    "PUT /api/plans/{plan_id}/activities/{activity_id}/": "dates within the plan's period; indicators of its area",
    "PATCH /api/plans/{plan_id}/activities/{activity_id}/": "dates within the plan's period; indicators of its area",
    "POST /api/plans/{plan_id}/cost-lines/": "a rate for the line's currency and year; frequencies in the period",
    "PUT /api/plans/{plan_id}/cost-lines/{cost_line_id}/": "a rate for the line's currency and year",
    "PATCH /api/plans/{plan_id}/cost-lines/{cost_line_id}/": "a rate for the line's currency and year",
    "POST /api/plans/{plan_id}/catalogue/": "a rate for the item's currency and year",
    "PUT /api/plans/{plan_id}/catalogue/{catalogue_item_id}/": "no new unit for an item cost lines count in",
    "PATCH /api/plans/{plan_id}/catalogue/{catalogue_item_id}/": "no new unit for an item cost lines count in",
    "POST /api/plans/{plan_id}/catalogue/{catalogue_item_id}/reprice/": "a rate for the new currency and year",
    "POST /api/plans/{plan_id}/exchange-rates/": "one rate per currency and year; none for the base currency",
    "PUT /api/plans/{plan_id}/exchange-rates/{rate_id}/": "a rate in use stays positive",
    "PATCH /api/plans/{plan_id}/exchange-rates/{rate_id}/": "a rate in use stays positive",
    "PATCH /api/plans/{plan_id}/costing/": "the base currency is set before costing starts",
    "POST /api/plans/{plan_id}/funding/": "years within the plan's period; an area or activities, not both",
    "PUT /api/plans/{plan_id}/funding/{commitment_id}/": "years within the plan's period; an area or activities",
    "PATCH /api/plans/{plan_id}/funding/{commitment_id}/": "years within the plan's period; an area or activities",
    "GET /api/plans/{plan_id}/audit-events/": "the last day of the filter not before the first",
    "POST /api/plans/{plan_id}/audit-export/": "the last day of the filter not before the first",
    "POST /api/plans/{plan_id}/memberships/": "a focal point speaks for an organization; one membership a person",
    "PUT /api/plans/{plan_id}/memberships/{membership_id}/": "a focal point speaks for an organization",
    "PATCH /api/plans/{plan_id}/memberships/{membership_id}/": "a focal point speaks for an organization",
    "POST /api/plans/{plan_id}/threads/": "a target that fits the subject; text with no HTML, mentioning members only",
    "POST /api/plans/{plan_id}/threads/{thread_id}/comments/": "text with no HTML, mentioning members only",
    "POST /api/plans/{plan_id}/reporting-periods/": "days within the plan's years, in order; no overlap",
    "PUT /api/plans/{plan_id}/reporting-periods/{period_id}/": "days within the plan's years, in order; no overlap",
    "PATCH /api/plans/{plan_id}/reporting-periods/{period_id}/": "days within the plan's years; no overlap",
    "POST /api/plans/{plan_id}/reporting-periods/{period_id}/open/": "the period planned",
    "POST /api/plans/{plan_id}/reporting-periods/{period_id}/close/": "the period open",
    "POST /api/plans/{plan_id}/reporting-periods/{period_id}/reopen/": "the period closed",
    "POST /api/plans/{plan_id}/review-rounds/": "a due date today or later; reviewers members but viewers; one open",
    "POST /api/plans/{plan_id}/review-rounds/{round_id}/close/": "the round still open",
    "POST /api/plans/{plan_id}/review-rounds/{round_id}/verdict/": "the caller invited; a summary with changes; open",
    "POST /api/plans/{plan_id}/versions/": "a name with no null character",
    "POST /api/plans/{plan_id}/guidance/": "an http(s) link; areas of the plan's framework, activities of the plan",
    "PUT /api/plans/{plan_id}/guidance/{guidance_id}/": "an http(s) link; only the plan's own national guidance",
    "PATCH /api/plans/{plan_id}/guidance/{guidance_id}/": "an http(s) link; only the plan's own national guidance",
    "POST /api/plans/{plan_id}/endorse/": "a date neither in the future nor before the plan was opened; a PDF",
    "POST /api/plans/{plan_id}/progress/": "an open period of the plan; a completed activity 100%; a rate for the "
    "currency; one report per activity and period",
    "PUT /api/plans/{plan_id}/progress/{progress_id}/": "the period still open; a completed activity 100%; a rate",
    "PATCH /api/plans/{plan_id}/progress/{progress_id}/": "the period still open; a completed activity 100%; a rate",
    "POST /api/plans/{plan_id}/progress/{progress_id}/evidence/": (
        "a file (multipart) of the kind its name says or an http(s) link, one of the two; the period still open"
    ),
    **{
        f"{method} /api/plans/{{plan_id}}/health-events/{path}": (
            "dates in order (emergence, detection, notification, response), each after the one before it"
        )
        for method, path in (("POST", ""), ("PUT", "{event_id}/"), ("PATCH", "{event_id}/"))
    },
    "POST /api/plans/{plan_id}/health-events/{event_id}/bottlenecks/{bottleneck_id}/activity/": (
        "a remedial action written and not yet an activity"
    ),
    **{
        f"{method} /api/plans/{{plan_id}}/me-indicators/{path}": (
            "a baseline's value with its year; targets for years of the plan; a code not taken"
        )
        for method, path in (("POST", ""), ("PUT", "{indicator_id}/"), ("PATCH", "{indicator_id}/"))
    },
    "POST /api/plans/{plan_id}/me-indicators/{indicator_id}/actuals/": (
        "the version last read; not a capacity indicator, whose levels come from the assessments"
    ),
    "POST /api/plans/{plan_id}/me-indicators/import/": "a file (multipart): a spreadsheet of indicator values",
    "POST /api/plans/{plan_id}/monitoring/uploads/": "the file must be this plan's progress workbook (.xlsx)",
    "POST /api/plans/{plan_id}/monitoring/workbook/": "an open period of the plan",
    "POST /api/plans/{plan_id}/progress-reviews/": "a period of the plan; one review of a kind per period",
    "POST /api/plans/{plan_id}/capacity-progress/export/": "a follow-up assessment of the plan",
    "GET /api/plans/{plan_id}/capacity-progress/": "a follow-up assessment of the plan",
    "GET /api/plans/{plan_id}/health-events/": "a year of four digits",
    "GET /api/plans/{plan_id}/engagement-events/": "a year of four digits",
    **{
        f"{method} /api/plans/{{plan_id}}/engagement-events/{{engagement_event_id}}/decisions/{path}": (
            "activities, comment threads and technical areas of the plan"
        )
        for method, path in (("POST", ""), ("PUT", "{event_decision_id}/"), ("PATCH", "{event_decision_id}/"))
    },
    **{
        f"{method} /api/plans/{{plan_id}}/people/{path}": (
            "one person per e-mail address, and per name in an organization (merge instead); an account of a member; "
            "no null character"
        )
        for method, path in (("POST", ""), ("PUT", "{person_id}/"), ("PATCH", "{person_id}/"))
    },
    "POST /api/plans/{plan_id}/people/{person_id}/merge/": "another record of the register, or a duplicate's values",
    "POST /api/plans/{plan_id}/people/{person_id}/erase/": "a record not erased already",
    **{
        f"{method} /api/plans/{{plan_id}}/stakeholders/{path}": (
            "an organization not in the map already; an owner of the secretariat"
        )
        for method, path in (("POST", ""), ("PUT", "{stakeholder_id}/"), ("PATCH", "{stakeholder_id}/"))
    },
    **{
        f"{method} /api/plans/{{plan_id}}/engagement-events/{path}": (
            "days in order; a place, or online with an http(s) link"
        )
        for method, path in (("POST", ""), ("PUT", "{engagement_event_id}/"), ("PATCH", "{engagement_event_id}/"))
    },
    "POST /api/plans/{plan_id}/engagement-events/{engagement_event_id}/participants/": (
        "people of the register not participants already"
    ),
    "POST /api/plans/{plan_id}/engagement-events/{engagement_event_id}/attendance-sheet/": (
        "the file must be this event's attendance sheet, every name in the register"
    ),
    **{
        f"{method} /api/plans/{{plan_id}}/advocacy/{path}": (
            "an audience; an amount asked in a currency with a rate, or the decision or policy asked; days in order"
        )
        for method, path in (("POST", ""), ("PUT", "{advocacy_id}/"), ("PATCH", "{advocacy_id}/"))
    },
    "POST /api/plans/{plan_id}/advocacy/{advocacy_id}/pledge/": (
        "a plan not endorsed; an amount in a currency with a rate; years within the plan's period"
    ),
    "POST /api/plans/{plan_id}/launches/": (
        "an endorsed plan; every unmet item confirmed; a date not in the future; an event of the plan"
    ),
    **{
        f"POST /api/plans/{{plan_id}}/activities/{{activity_id}}/cost-builders/{kind}/": "answers that cost nothing"
        for kind in ("meeting", "field-visit", "consultancy", "staff", "procurement")
    },
}


def _config(*, base_url: str, token: str, plan: Plan, job: Job) -> schemathesis.Config:
    """Requests as the lead, against the plan; ids in paths mostly, and references in bodies and filters always,
    of its real objects (a reference to nothing is refused whatever the schema says)."""
    from costing.models import CatalogueItem, CostLine, ExchangeRate, FundingCommitment
    from monitoring.models import ReportingPeriod
    from planning.models import Assessment, Indicator, PlanVersion, TechnicalArea
    from stakeholders.models import Advocacy, EngagementEvent, EventDecision, Launch, Participant, Person, Stakeholder

    known = {
        "activities": _ids(plan.activities.all()),
        "cost_lines": _ids(CostLine.objects.filter(activity__plan=plan)),
        "catalogue": _ids(CatalogueItem.objects.filter(plan=plan) | CatalogueItem.objects.filter(plan__isnull=True)),
        "rates": _ids(ExchangeRate.objects.filter(plan=plan)),
        "funding": _ids(FundingCommitment.objects.filter(plan=plan)),
        "memberships": _ids(PlanMembership.objects.filter(plan=plan).exclude(role=Role.SECRETARIAT_LEAD)),
        "members": sorted(PlanMembership.objects.filter(plan=plan).values_list("user_id", flat=True))[:20],
        "organizations": _ids(Organization.objects.filter(jurisdiction=plan.jurisdiction)),
        "jobs": [job.pk],
        "people": list(PlanMembership.objects.filter(plan=plan).order_by("user_id").values_list("user_id", flat=True)),
        "kinds": sorted(set(AuditEvent.objects.filter(plan=plan).values_list("target_type", flat=True))),
        "areas": _ids(TechnicalArea.objects.filter(framework_id=plan.framework_id)),
        "indicators": _ids(Indicator.objects.filter(framework_id=plan.framework_id)),
        "jurisdictions": [plan.jurisdiction_id],
        "frameworks": [plan.framework_id],
        "plans": [plan.pk],
        "versions": _ids(PlanVersion.objects.filter(plan=plan)),
        "periods": _ids(ReportingPeriod.objects.filter(plan=plan)),
        "assessments": _ids(Assessment.objects.filter(plan=plan)),
        "years": list(range(plan.first_year, plan.last_year + 1)),
        "currencies": sorted({"USD", *ExchangeRate.objects.filter(plan=plan).values_list("currency", flat=True)}),
        "register": _ids(Person.objects.filter(plan=plan)),
        "stakeholders": _ids(Stakeholder.objects.filter(plan=plan)),
        "events": _ids(EngagementEvent.objects.filter(plan=plan)),
        "participants": _ids(Participant.objects.filter(event__plan=plan)),
        "decisions": _ids(EventDecision.objects.filter(event__plan=plan)),
        "advocacy": _ids(Advocacy.objects.filter(plan=plan)),
        "launches": _ids(Launch.objects.filter(plan=plan)),
    }
    dictionaries = "\n".join(f"[dictionaries.{name}]\nvalues = {json.dumps(ids)}" for name, ids in known.items() if ids)
    in_paths = {
        "path.activity_id": "activities",
        "path.cost_line_id": "cost_lines",
        "path.catalogue_item_id": "catalogue",
        "path.rate_id": "rates",
        "path.commitment_id": "funding",
        "path.membership_id": "memberships",
        "path.organization_id": "organizations",
        "path.id": "jobs",
        "path.period_id": "periods",
        "path.person_id": "register",
        "path.stakeholder_id": "stakeholders",
        "path.engagement_event_id": "events",
        "path.participant_id": "participants",
        "path.event_decision_id": "decisions",
        "path.advocacy_id": "advocacy",
        "path.launch_id": "launches",
    }
    references = {
        "body.activity": "activities",
        "body.activities[*]": "activities",
        "body.catalogue_item": "catalogue",
        "body.responsible_organization": "organizations",
        "body.supporting_organizations[*]": "organizations",
        "body.source_organization": "organizations",
        "body.organization": "organizations",
        "body.technical_area": "areas",
        "body.technical_areas[*]": "areas",
        "body.indicators[*]": "indicators",
        "body.jurisdiction": "jurisdictions",
        "body.parent": "plans",
        "body.plan_version": "versions",
        "body.period": "periods",
        "body.assessment": "assessments",
        "body.framework": "frameworks",
        "body.years[*]": "years",
        "body.first_year": "years",
        "body.last_year": "years",
        "body.price_year": "years",
        "body.year": "years",
        "body.currency": "currencies",
        "body.ask_currency": "currencies",
        "body.audience": "stakeholders",
        "body.messengers[*]": "register",
        "body.people[*]": "register",
        "body.other": "register",
        "body.event": "events",
        "body.organizers[*]": "organizations",
        "body.priority_areas[*]": "areas",
        "body.relationship_owner": "members",
        "body.owner": "members",
        "body.user": "members",
        "query.technical_area": "areas",
        "query.responsible_organization": "organizations",
        "query.source": "organizations",
        "query.activity": "activities",
        "query.author": "members",
        "query.jurisdiction": "jurisdictions",
        "query.person": "people",
        "query.area": "areas",
    }
    # A kind of object the plan has none of (a launch of a draft) is left to generation.
    parameters = "\n".join(
        [f'"{key}" = {{ dictionary = "{name}", probability = 0.8 }}' for key, name in in_paths.items() if known[name]]
        + [
            f'"{key}" = {{ dictionary = "{name}", probability = 1.0 }}'
            for key, name in references.items()
            if known[name]
        ]
    )
    return schemathesis.Config.from_str(f"""
seed = {SEED}
base-url = "{base_url}"
workers = 1
continue-on-failure = true
# Connection: close, or the live server's thread for the last keep-alive connection would hold its database
# connection past the test.
headers = {{ Authorization = "Token {token}", Connection = "close" }}

[cache]
enabled = false  # the same cases on every run, whatever ran before

[generation]
mode = "all"
max-examples = {EXAMPLES_PER_OPERATION}
deterministic = true
database = "none"

[phases]
examples.enabled = true
coverage.enabled = {str(COVERAGE).lower()}
fuzzing.enabled = true
stateful.enabled = false

{dictionaries}

[parameters]
"path.plan_id" = {plan.pk}
{parameters}

# The audit trail's kinds of object; another endpoint's "kind" is its own (an engagement event's type).
[[operations]]
include-path = "/api/plans/{{plan_id}}/audit-events/"
parameters = {{ "query.kind" = {{ dictionary = "kinds", probability = 1.0 }} }}
""")


def test_the_api_keeps_its_schema_for_a_signed_in_lead(demo, live_server, capsys):
    from rest_framework.authtoken.models import Token

    from monitoring.models import ReportingPeriod
    from naphs.services import job_create
    from planning.versions import plan_version_save

    plan = demo
    lead = PlanMembership.objects.get(plan=plan, role=Role.SECRETARIAT_LEAD).user
    job = job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=lead, plan=plan)  # runs at once (eager): a file to fetch
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    token = Token.objects.create(user=lead).key
    plan_version_save(plan=plan, by=lead, label="Before the validation workshop")  # a version to export
    ReportingPeriod.objects.create(  # an open quarter to report progress, enter values and hold reviews in
        plan=plan,
        label="Q1",
        starts_on=datetime.date(plan.first_year, 1, 1),
        ends_on=datetime.date(plan.first_year, 3, 31),
        due_on=datetime.date(plan.first_year, 4, 30),
        state=ReportingPeriod.State.OPEN,
    )

    config = _config(base_url=live_server.url, token=token, plan=plan, job=job)
    schema = schemathesis.openapi.from_url(
        f"{live_server.url}/api/schema/?format=json", config=config, headers={"Authorization": f"Token {token}"}
    )

    cases = 0
    per_phase: collections.Counter[str] = collections.Counter()
    failures: dict[tuple[str, str, str], list[str]] = collections.defaultdict(list)
    errors: list[str] = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            recorder = event.recorder
            cases += len(recorder.cases)
            per_phase[event.phase.value] += len(recorder.cases)
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    case = recorder.cases[case_id].value
                    interaction = recorder.interactions.get(case_id)
                    answer = interaction.response if interaction is not None else None
                    body = (answer.content or b"")[:300].decode("utf-8", "replace") if answer is not None else ""
                    key = (case.operation.label, check.name, (failure.title or "").strip())
                    failures[key].append(f"{failure.message}\n    {check.failure_info.code_sample}\n    -> {body}")
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.format() if hasattr(event, 'info') else event.value}")
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception}")

    beyond = {key for key in failures if key[1] == "positive_data_acceptance" and key[0] in RULES_BEYOND_THE_SCHEMA}
    summary = (
        f"\nschemathesis: {cases} cases ({dict(per_phase)}), seed {SEED}: {len(failures) - len(beyond)} distinct "
        f"failures, and {len(beyond)} operations refusing schema-valid data for a rule the schema cannot state"
    )
    with capsys.disabled():  # the figures belong in every run's output, not only a failing one's
        print(summary)
        for operation, _, _ in sorted(beyond):
            print(f"  {operation}: {RULES_BEYOND_THE_SCHEMA[operation]}")
    report = [
        f"{operation} [{check}] {title} ({len(samples)}x)\n  {samples[0][:1500]}"
        for (operation, check, title), samples in sorted(failures.items())
        if (operation, check, title) not in beyond
    ]
    assert not errors, "\n".join(errors)
    assert not report, "\n\n".join(report)
    assert cases >= MIN_CASES
