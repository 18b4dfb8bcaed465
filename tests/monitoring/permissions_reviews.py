"""The quarterly and annual review routes in the permission walk (tests/test_permissions.py): every member reads the
plan's reviews, a review as it was recorded and its decisions; recording and changing a review, a decision on an
activity and carrying an annual review's activities into the next operational plan are the secretariat's
(Permission.MANAGE), so anyone else gets 403, non-members 404, and a review or decision of another plan is 404 even
paired with one's own plan. All of it goes on while the plan is endorsed (monitoring goes on against an endorsed plan;
a re-scheduling or a drop decided then waits for the plan to be reopened)."""

from __future__ import annotations

import datetime
from typing import Any

from monitoring.models import ProgressUpdate, ReportingPeriod, Review, ReviewDecision
from monitoring.reviews import decision_save, review_create
from naphs.permissions import Role
from planning.models import Plan
from stakeholders.models import PlanMembership, User


def _statuses() -> tuple:
    # Read from the walk's module while it imports this one (it is already in sys.modules by then).
    from tests import test_permissions as tp

    return tp.S200, tp.S201, tp.S204, tp.S302, tp.LOGIN


S200, S201, S204, S302, LOGIN = _statuses()
READ = "GET HEAD OPTIONS"

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "progress_reviews": {"GET HEAD":     (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "progress_review": {"GET HEAD":      (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    **{
        name: {
            "GET HEAD":                 (200,  200,  403,  403,  403,  403,  404,  LOGIN),
            "POST":                     (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
        }
        for name in (
            "progress_review_new", "progress_review_edit",
            "progress_review_decision",  # GET: the decision's form
            "progress_review_carry_over",  # GET: the choice of plan and activities
        )
    },
    "progress_review_decision_delete": {"POST": (S302, S302, 403, 403, 403, 403,  404,  LOGIN)},
    "progress-review-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "progress-review-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, 403,  403,  403,  403,  404,  401),
    },
    "progress-review-carry-over": {
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S200, S200, 403,  403,  403,  403,  404,  401),
    },
    "progress-review-decision-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "progress-review-decision-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, 403,  403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, 403,  403,  403,  403,  404,  401),
    },
}
# fmt: on

# The routes whose review is annual: only an annual review carries activities over.
ANNUAL = frozenset({"progress_review_carry_over", "progress-review-carry-over"})


def _period(scene, route_name: str, persona: str, objects: dict, plan: Plan) -> ReportingPeriod:
    """An open period of the plan: tests/monitoring/permissions_periods.py's, as for a URL's period_id."""
    from tests.monitoring.permissions_periods import FILLERS as PERIOD_FILLERS

    return PERIOD_FILLERS["period_id"](scene, route_name, persona, "" if plan == scene.plan else "all", objects)


def _review(scene, route_name: str, persona: str, foreign: str, objects: dict) -> Review:
    """A review of the persona's plan (or of the other country's plan), recorded by its lead, of an open period in
    which one activity was reported on track: its snapshot shows it unfinished. Annual for carrying over, else
    quarterly."""
    plan = scene.elsewhere_plan if foreign else scene.plan
    period = _period(scene, route_name, persona, objects, plan)
    ProgressUpdate.objects.create(
        plan=plan, activity=scene.fresh_activity(plan), period=period, status="on_track", percent_complete=20
    )
    lead = scene.elsewhere_lead if foreign else scene.people[Role.SECRETARIAT_LEAD]
    return review_create(
        plan=plan,
        by=lead,
        kind=Review.Kind.ANNUAL if route_name in ANNUAL else Review.Kind.QUARTERLY,
        period=period,
        held_on=period.starts_on + datetime.timedelta(days=10),
        participants="WHO country office",
        decisions="Speed up the laboratory work.",
    )


def _decision(scene, route_name: str, persona: str, foreign: str, objects: dict) -> ReviewDecision:
    """The URL's review's decision on an activity of its plan: carried over."""
    review = objects["review"]
    by = scene.elsewhere_lead if review.plan_id == scene.elsewhere_plan.pk else scene.people[Role.SECRETARIAT_LEAD]
    decision, _applied = decision_save(
        review=review,
        activity=scene.fresh_activity(review.plan),
        by=by,
        version=0,
        decision=ReviewDecision.Decision.CARRIED_OVER,
        note="Into next year",
    )
    return decision


def _version(instance) -> int:
    return type(instance).objects.get(pk=instance.pk).version


def _member(s) -> list[int]:
    """The technical lead took part: a member of the plan."""
    return [s.people[Role.TECHNICAL_LEAD].pk]


def _review_form(s, p: str, o: dict) -> dict[str, Any]:
    """The review form, all fields valid: a new open period of the plan for a new review (an edit keeps its own)."""
    review = o.get("review")
    data: dict[str, Any] = {
        "kind": "quarterly",
        "participant_members": _member(s),
        "participants": "WHO country office; the donors' group",
        "decisions": "Speed up the laboratory work.",
    }
    if review is None:
        period = _period(s, "progress_review_new", p, o, s.plan)
        data |= {"period": period.pk, "held_on": (period.starts_on + datetime.timedelta(days=5)).isoformat()}
        data["version"] = ""
    else:
        data |= {"held_on": (review.period.starts_on + datetime.timedelta(days=7)).isoformat()}
        data["version"] = _version(review)
    return data


def _review_body(s, p: str, o: dict) -> dict[str, Any]:
    body = _review_form(s, p, o)
    if o.get("review") is None:
        body.pop("version")
    return body


def _decision_body(s, o: dict) -> dict[str, Any]:
    """A re-scheduling inside the plan's first year: applied at once on a draft, waiting on an endorsed plan."""
    return {
        "decision": "rescheduled",
        "new_start_date": f"{s.plan.first_year}-05-01",
        "new_end_date": f"{s.plan.first_year}-11-30",
        "note": "The laboratory is late.",
    }


def _decision_delete(s, p: str, o: dict) -> dict[str, Any]:
    """The review's decision on the URL's activity, made here (the URL names the activity, not the decision)."""
    decision = ReviewDecision.objects.create(
        review=o["review"], activity=o["activity"], decision=ReviewDecision.Decision.CARRIED_OVER
    )
    return {"version": _version(decision)}


def _target(s, p: str, o: dict) -> Plan:
    """A draft operational plan under the plan, not ending before the review's period, whose secretariat the
    persona is in (when they are of the plan's secretariat: no one else may carry over)."""
    year = o["review"].period.ends_on.year if o.get("review") else s.plan.first_year
    target = Plan.objects.create(
        jurisdiction=s.plan.jurisdiction,
        framework=s.plan.framework,
        title=f"Operational plan {year} ({s.number()})",
        kind="operational",
        first_year=year,
        last_year=year,
        parent=s.plan,
    )
    user = s.people.get(p) if p in (Role.SECRETARIAT_LEAD, Role.SECRETARIAT_MEMBER) else None
    if isinstance(user, User):
        PlanMembership.objects.create(plan=target, user=user, role=p)
    return target


def _carry_over(s, p: str, o: dict) -> dict[str, Any]:
    """Carry one unfinished activity of the plan (made here) into a new operational plan."""
    return {"plan": _target(s, p, o).pk, "activities": [s.fresh_activity(s.plan).pk]}


PAYLOADS = {
    ("progress_review_new", "POST"): _review_form,
    ("progress_review_edit", "POST"): _review_form,
    ("progress_review_decision", "POST"): lambda s, p, o: {**_decision_body(s, o), "version": "0"},
    ("progress_review_decision_delete", "POST"): _decision_delete,
    ("progress_review_carry_over", "POST"): _carry_over,
    ("progress-review-list", "POST"): _review_body,
    ("progress-review-detail", "PUT"): _review_body,
    ("progress-review-detail", "PATCH"): lambda s, p, o: {
        "decisions": "Speed up the laboratory work; ask the donors.",
        "version": _version(o["review"]),
    },
    ("progress-review-carry-over", "POST"): _carry_over,
    ("progress-review-decision-list", "POST"): lambda s, p, o: {
        "activity": s.fresh_activity(s.plan).pk,
        **_decision_body(s, o),
    },
    ("progress-review-decision-detail", "PUT"): lambda s, p, o: {
        "decision": "dropped",
        "note": "No longer needed.",
        "version": _version(o["decision"]),
    },
    ("progress-review-decision-detail", "PATCH"): lambda s, p, o: {
        "note": "Noted by the secretariat.",
        "version": _version(o["decision"]),
    },
}

FILLERS = {"review_id": _review, "decision_id": _decision}

# Nothing here depends on the technical lead's areas: reviews are the secretariat's.
P1_ROUTES: frozenset[str] = frozenset()

# Writes whose only references are what their URL names (tests/test_permissions.py NO_REFERENCES): a decision on
# the URL's activity, its removal, and a change of a decision (its activity is set when it is recorded).
NO_REFERENCES: frozenset[str] = frozenset(
    {"progress_review_decision", "progress_review_decision_delete", "progress-review-decision-detail"}
)

# Writes that go on while the plan is endorsed (tests/test_freeze.py GOES_ON): reviews are of the plan being
# implemented (monitoring/reviews.py: a decision's new dates or drop wait for the plan to be reopened).
GOES_ON: frozenset[str] = frozenset(
    name for name, rows in TABLE.items() if any(method in rows for method in ("POST", "PUT PATCH", "DELETE"))
)
