"""Review rounds in the permission walk (tests/test_permissions.py): every member reads the rounds; the secretariat
opens and closes them; only a member the round invites gives a verdict (the walk's rounds invite the reviewer, so
every other member is refused, the viewer by role); non-members get 404, anonymous visitors the login page (401
from the API)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from naphs.permissions import Role
from planning.models import PlanVersion, ReviewInvitation, ReviewRound
from tests.test_permissions import LOGIN, S200, S201, S302

# fmt: off
TABLE = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "review_rounds": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),   # opens one
    },
    "review_round": {"GET HEAD":        (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "review_verdict": {"POST":          (403,  403,  403,  403,  S302, 403,  404,  LOGIN)},
    "review_round_close": {"POST":      (S302, S302, 403,  403,  403,  403,  404,  LOGIN)},
    "review-round-list": {
        "GET HEAD OPTIONS":             (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "review-round-detail": {"GET HEAD OPTIONS": (200, 200, 200, 200, 200, 200, 404, 401)},
    "review-round-close": {
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S200, S200, 403,  403,  403,  403,  404,  401),
    },
    "review-round-verdict": {
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (403,  403,  403,  403,  S200, 403,  404,  401),
    },
}
# fmt: on


def _open(scene: Any, body: dict) -> dict:
    return {"reviewers": [scene.people[Role.REVIEWER].pk], "due_on": timezone.localdate().isoformat(), **body}


PAYLOADS = {
    ("review_rounds", "POST"): lambda s, p, o: _open(s, {"message": "Please review"}),
    ("review-round-list", "POST"): lambda s, p, o: _open(s, {"message": "Please review"}),
    ("review_verdict", "POST"): lambda s, p, o: {"verdict": "no_objection", "summary": "", "version": 1},
    ("review-round-verdict", "POST"): lambda s, p, o: {"verdict": "no_objection", "summary": "", "version": 1},
    ("review_round_close", "POST"): lambda s, p, o: {"outcome": "draft", "note": ""},
    ("review-round-close", "POST"): lambda s, p, o: {"outcome": "endorsement", "note": "Thanks"},
}


def _round(scene: Any, route: str, persona: str, foreign: str, objects: dict) -> ReviewRound:
    """An open round inviting the plan's reviewer (the other plan's lead, for another plan's round)."""
    plan = scene.elsewhere_plan if foreign else scene.plan
    reviewer = scene.elsewhere_lead if foreign else scene.people[Role.REVIEWER]
    snapshot = PlanVersion.objects.create(
        plan=plan, kind=PlanVersion.Kind.REVIEW, edition=plan.edition, label="Reviewed", content={}, digest=""
    )
    review_round = ReviewRound.objects.create(
        plan=plan, number=1, snapshot=snapshot, due_on=timezone.localdate() + datetime.timedelta(days=7)
    )
    ReviewInvitation.objects.create(review_round=review_round, reviewer=reviewer)
    return review_round


FILLERS = {"round_id": _round}
P1_ROUTES: set[str] = set()
