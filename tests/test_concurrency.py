"""Two people saving the same thing at the same moment, on PostgreSQL, through the real pages, API and services.

Each test runs rounds of two threads (each with its own database connection) released together by a barrier,
both writing the same row with the same version (0, "I saw none yet", for a first write) but different values.
Per round exactly one is saved and the other refused, never a server error, and the stored value is the
winner's (no lost update). An upsert's loser gets an edit conflict (409); the loser of adding a new named row
(an organization, a member, a rate through POST) gets the duplicate refusal a later request would get (400).
"""

from __future__ import annotations

import datetime
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from costing.models import CatalogueItem, CostLine, ExchangeRate, FundingCommitment, PlanCosting
from costing.services import cost_line_create, exchange_rate_set, plan_costing_get
from monitoring.models import ReportingPeriod
from naphs.errors import EditConflict
from naphs.permissions import Role
from planning.assessments import score_update, scores_set
from planning.endorsement import plan_endorse
from planning.models import (
    Activity,
    AreaPriority,
    Assessment,
    Indicator,
    IndicatorScore,
    IndicatorTarget,
    Plan,
    PlanContext,
    TechnicalArea,
)
from planning.shaping import priorities_digest, priorities_set
from planning.targets import target_set, targets_fill_defaults
from stakeholders.launch import launch_checklist, plan_launch, unmet_keys
from stakeholders.mapping import person_create
from stakeholders.models import Launch, Organization, Person, PlanMembership
from stakeholders.services import membership_add
from tests.conftest import make_user, need_service

pytestmark = pytest.mark.django_db(transaction=True)

# Rounds per kind: the first writes (the holes found) more, the versioned changes (long guarded) fewer.
ROUNDS = 20
UPDATE_ROUNDS = 8

SAVED, CONFLICT, DUPLICATE, ERROR = "saved", "conflict", "duplicate", "error"


@pytest.fixture(autouse=True)
def _on_postgresql():
    need_service(connection.vendor == "postgresql", "PostgreSQL (concurrency tests)")


@dataclass
class Tally:
    """What happened over the rounds: how many ended right, how many lost an update, how many broke."""

    rounds: int = 0
    right: int = 0
    lost: int = 0
    errors: int = 0
    outcomes: Counter = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.errors == 0 and self.lost == 0 and self.right == self.rounds

    def __str__(self) -> str:
        return (
            f"{self.rounds} rounds: {self.right} with one saved and one refused, {self.lost} lost updates, "
            f"{self.errors} server errors ({dict(self.outcomes)}); e.g. {self.samples[:3]}"
        )


def race(writes: list[Callable[[], str]]) -> list[tuple[str, str]]:
    """Run the writes in threads released together; each returns its outcome, or raises."""
    barrier = threading.Barrier(len(writes))
    results: list[tuple[str, str]] = [(ERROR, "did not finish")] * len(writes)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = (writes[index](), "")
        except EditConflict as conflict:
            results[index] = (CONFLICT, str(conflict))
        except ValidationError as error:
            results[index] = (DUPLICATE, "; ".join(error.messages))
        except Exception as error:  # a server error: what the test counts
            results[index] = (ERROR, f"{type(error).__name__}: {error}"[:300])
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(writes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def rounds(
    *,
    setup: Callable[[int], Any],
    writes: Callable[[Any, int], list[Callable[[], str]]],
    values: list[Any] | Callable[[int], list[Any]],
    stored: Callable[[Any], Any],
    refusal: str = CONFLICT,
    count: int = ROUNDS,
) -> Tally:
    """`count` rounds of: setup, the writes together, then check one was saved, the other refused with `refusal`,
    and the stored value is the winner's (`values[i]` is what write i saves)."""
    tally = Tally()
    for number in range(count):
        state = setup(number)
        results = race(writes(state, number))
        outcomes = [outcome for outcome, _ in results]
        tally.rounds += 1
        tally.outcomes.update(outcomes)
        tally.errors += outcomes.count(ERROR)
        winners = [index for index, outcome in enumerate(outcomes) if outcome == SAVED]
        value = stored(state)
        expected = values(number) if callable(values) else values
        if sorted(outcomes) == sorted([SAVED, refusal]) and value == expected[winners[0]]:
            tally.right += 1
        elif ERROR not in outcomes:
            tally.lost += 1
        if outcomes.count(SAVED) != 1 or ERROR in outcomes:
            tally.samples.append(" | ".join(f"{o}: {d}" if d else o for o, d in results))
    return tally


def http(response) -> str:
    """The outcome of a page or API answer: a page saves with a redirect, the API with 200 or 201."""
    status = response.status_code
    page = response.get("Content-Type", "").startswith("text/html")
    if status == 302 or (status in (200, 201) and not page):
        return SAVED
    if status == 409:
        return CONFLICT
    if status == 400:
        return DUPLICATE
    said = re.findall(r'(?:field-error|role="alert")[^>]*>(?:<p>)?([^<]+)', response.content.decode())
    raise AssertionError(f"answered {status}: {said[:3]}")


def page_client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def api_client(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def service(call: Callable[[], Any]) -> Callable[[], str]:
    def write() -> str:
        call()
        return SAVED

    return write


@dataclass
class World:
    """What every kind of write needs: the plan, its members, two of its secretariat (who write at the same
    moment), an organization of its country and an activity."""

    plan: Any
    people: dict
    two: tuple
    country: Any
    moh: Any
    activity: Activity


@pytest.fixture
def world(plan, people, country, moh) -> World:
    area = TechnicalArea.objects.filter(framework_id=plan.framework_id).order_by("order").first()
    activity = Activity.objects.create(
        plan=plan, technical_area=area, title="Train responders", responsible_organization=moh
    )
    two = (people[Role.SECRETARIAT_LEAD], people[Role.SECRETARIAT_MEMBER])
    return World(plan=plan, people=people, two=two, country=country, moh=moh, activity=activity)


def first_indicator(plan) -> Indicator:
    return Indicator.objects.filter(framework_id=plan.framework_id).order_by("order", "code").first()


# Scores ----------------------------------------------------------------------------------------------------------


def first_score_in_the_grid(w: World) -> Tally:
    plan, two = w.plan, w.two
    indicator = first_indicator(plan)
    clients = [page_client(user) for user in two]
    assessment = Assessment.objects.create(plan=plan, framework=plan.framework, kind="jee", date="2025-05-01")
    url = f"/plans/{plan.pk}/assessments/{assessment.pk}/"

    def setup(number):
        IndicatorScore.objects.filter(assessment=assessment).delete()
        return assessment

    def writes(state, number):
        return [
            lambda c=c, level=level: http(c.post(url, {f"i{indicator.pk}": level, f"v{indicator.pk}": 0}))
            for c, level in zip(clients, (2, 4), strict=True)
        ]

    def stored(state):
        return IndicatorScore.objects.get(assessment=assessment, indicator=indicator).score

    return rounds(setup=setup, writes=writes, values=[2, 4], stored=stored)


def score_change_in_the_grid(w: World) -> Tally:
    plan, two = w.plan, w.two
    indicator = first_indicator(plan)
    clients = [page_client(user) for user in two]
    assessment = Assessment.objects.create(plan=plan, framework=plan.framework, kind="jee", date="2025-05-01")
    url = f"/plans/{plan.pk}/assessments/{assessment.pk}/"

    def setup(number):
        IndicatorScore.objects.filter(assessment=assessment).delete()
        return IndicatorScore.objects.create(assessment=assessment, indicator=indicator, score=1)

    def writes(score, number):
        return [
            lambda c=c, level=level: http(c.post(url, {f"i{indicator.pk}": level, f"v{indicator.pk}": score.version}))
            for c, level in zip(clients, (3, 5), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=[3, 5],
        stored=lambda score: IndicatorScore.objects.get(pk=score.pk).score,
        count=UPDATE_ROUNDS,
    )


def whole_grid_first_scores(w: World) -> Tally:
    """Two grids at once over unscored cells, overlapping in one: one grid saved whole, the other refused whole
    (its cell outside the overlap not saved either)."""
    plan, two = w.plan, w.two
    x, y, z = Indicator.objects.filter(framework_id=plan.framework_id).order_by("order", "code")[:3]
    clients = [page_client(user) for user in two]
    assessment = Assessment.objects.create(plan=plan, framework=plan.framework, kind="jee", date="2025-05-01")
    url = f"/plans/{plan.pk}/assessments/{assessment.pk}/"
    grids = [{x: 2, y: 2}, {y: 4, z: 4}]

    def setup(number):
        IndicatorScore.objects.filter(assessment=assessment).delete()

    def writes(state, number):
        return [
            # As the page posts it: every cell's version as shown (0: none of the three was scored), the levels entered.
            lambda c=c, grid=grid: http(
                c.post(url, {**{f"v{i.pk}": 0 for i in (x, y, z)}, **{f"i{i.pk}": level for i, level in grid.items()}})
            )
            for c, grid in zip(clients, grids, strict=True)
        ]

    def stored(state):
        scores = dict(IndicatorScore.objects.filter(assessment=assessment).values_list("indicator_id", "score"))
        return tuple(scores.get(i.pk) for i in (x, y, z))

    return rounds(setup=setup, writes=writes, values=[(2, 2, None), (None, 4, 4)], stored=stored)


def first_score_through_the_service(w: World) -> Tally:
    plan, two = w.plan, w.two
    indicator = first_indicator(plan)
    assessment = Assessment.objects.create(plan=plan, framework=plan.framework, kind="jee", date="2025-05-01")

    def setup(number):
        IndicatorScore.objects.filter(assessment=assessment).delete()

    def writes(state, number):
        return [
            service(
                lambda user=user, level=level: scores_set(
                    assessment=Assessment.objects.get(pk=assessment.pk),
                    by=user,
                    scores={indicator.code: level},
                    versions={indicator.code: 0},
                )
            )
            for user, level in zip(two, (2, 4), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=[2, 4],
        stored=lambda _: IndicatorScore.objects.get(assessment=assessment, indicator=indicator).score,
    )


def single_score_change(w: World) -> Tally:
    plan, two = w.plan, w.two
    indicator = first_indicator(plan)
    assessment = Assessment.objects.create(plan=plan, framework=plan.framework, kind="jee", date="2025-05-01")

    def setup(number):
        IndicatorScore.objects.filter(assessment=assessment).delete()
        return IndicatorScore.objects.create(assessment=assessment, indicator=indicator, score=1)

    def writes(score, number):
        return [
            service(
                lambda user=user, level=level: score_update(
                    score=IndicatorScore.objects.get(pk=score.pk), by=user, version=score.version, value=level
                )
            )
            for user, level in zip(two, (3, 5), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=[3, 5],
        stored=lambda score: IndicatorScore.objects.get(pk=score.pk).score,
        count=UPDATE_ROUNDS,
    )


# Targets ---------------------------------------------------------------------------------------------------------


def _target_post(client: Client, plan, indicator, level: int, version: int) -> str:
    prefix = f"t{indicator.pk}"
    data = {
        "indicator": indicator.pk,
        f"{prefix}-level": level,
        f"{prefix}-justification": f"Level {level} is in reach.",
        f"{prefix}-version": version,
    }
    return http(client.post(f"/plans/{plan.pk}/targets/", data))


def first_target_on_the_page(w: World) -> Tally:
    plan, two = w.plan, w.two
    indicator = first_indicator(plan)
    clients = [page_client(user) for user in two]

    def setup(number):
        IndicatorTarget.objects.filter(plan=plan).delete()
        # No baseline left by the scores' rounds above (the most recent score of any assessment counts), so that
        # neither target is refused as below the current level.
        IndicatorScore.objects.filter(assessment__plan=plan, indicator=indicator).delete()

    def writes(state, number):
        return [
            lambda c=c, level=level: _target_post(c, plan, indicator, level, 0)
            for c, level in zip(clients, (3, 5), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=[3, 5],
        stored=lambda _: IndicatorTarget.objects.get(plan=plan, indicator=indicator).level,
    )


def target_change_on_the_page(w: World) -> Tally:
    plan, two = w.plan, w.two
    indicator = first_indicator(plan)
    clients = [page_client(user) for user in two]

    def setup(number):
        # Both targets at or above the current level (an earlier kind may have scored the indicator 5): a target
        # below it is refused for its own reason, which is not what this race is about.
        IndicatorScore.objects.filter(assessment__plan=plan, indicator=indicator).update(score=1)
        IndicatorTarget.objects.filter(plan=plan).delete()
        return IndicatorTarget.objects.create(plan=plan, indicator=indicator, level=2, justification="First.")

    def writes(target, number):
        return [
            lambda c=c, level=level: _target_post(c, plan, indicator, level, target.version)
            for c, level in zip(clients, (3, 5), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=[3, 5],
        stored=lambda target: IndicatorTarget.objects.get(pk=target.pk).level,
        count=UPDATE_ROUNDS,
    )


def default_targets_beside_a_first_target(w: World) -> Tally:
    plan, two = w.plan, w.two
    """Filling the defaults and setting a first target at once: the person's target is saved, or refused
    because the default came first; never a server error, never their target replaced by the default."""
    indicator = first_indicator(plan)
    assessment = Assessment.objects.create(plan=plan, framework=plan.framework, kind="jee", date="2025-05-01")
    IndicatorScore.objects.create(assessment=assessment, indicator=indicator, score=2)
    lead, member = two

    def setup(number):
        IndicatorTarget.objects.filter(plan=plan).delete()

    def writes(state, number):
        def fill() -> str:
            targets_fill_defaults(plan=plan, by=lead)
            return SAVED

        def set_target() -> str:
            target_set(plan=plan, by=member, indicator=indicator, level=5, justification="Ambitious.", version=0)
            return SAVED

        return [fill, set_target]

    tally = Tally()
    for number in range(ROUNDS):
        setup(number)
        outcomes = [outcome for outcome, _ in race(writes(None, number))]
        tally.rounds += 1
        tally.outcomes.update(outcomes)
        tally.errors += outcomes.count(ERROR)
        level = IndicatorTarget.objects.get(plan=plan, indicator=indicator).level
        # Either the person's target stands (5), or the default (4) came first and their save was refused.
        if (outcomes == [SAVED, SAVED] and level == 5) or (outcomes == [SAVED, CONFLICT] and level == 4):
            tally.right += 1
        elif ERROR not in outcomes:
            tally.lost += 1
    return tally


# Context narratives ----------------------------------------------------------------------------------------------


def first_narrative_on_the_page(w: World) -> Tally:
    plan, two = w.plan, w.two
    area = TechnicalArea.objects.filter(framework_id=plan.framework_id).order_by("order").first()
    clients = [page_client(user) for user in two]
    url = f"/plans/{plan.pk}/context/"

    def setup(number):
        PlanContext.objects.filter(plan=plan).delete()

    def writes(state, number):
        return [
            lambda c=c, text=text: http(c.post(url, {"technical_area": area.pk, "narrative": text, "version": 0}))
            for c, text in zip(clients, ("Ours.", "Theirs."), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=["Ours.", "Theirs."],
        stored=lambda _: PlanContext.objects.get(plan=plan, technical_area=area).narrative,
    )


def narrative_change_on_the_page(w: World) -> Tally:
    plan, two = w.plan, w.two
    clients = [page_client(user) for user in two]
    url = f"/plans/{plan.pk}/context/"

    def setup(number):
        PlanContext.objects.filter(plan=plan).delete()
        return PlanContext.objects.create(plan=plan, technical_area=None, narrative="First.")

    def writes(context, number):
        return [
            lambda c=c, text=text: http(
                c.post(url, {"technical_area": "", "narrative": text, "version": context.version})
            )
            for c, text in zip(clients, ("Ours.", "Theirs."), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=["Ours.", "Theirs."],
        stored=lambda context: PlanContext.objects.get(pk=context.pk).narrative,
        count=UPDATE_ROUNDS,
    )


def priorities_change_on_the_page(w: World) -> Tally:
    plan, two = w.plan, w.two
    clients = [page_client(user) for user in two]
    first, second = TechnicalArea.objects.filter(framework_id=plan.framework_id).order_by("order")[:2]
    url = f"/plans/{plan.pk}/priorities/"

    def setup(number):
        AreaPriority.objects.filter(plan=plan).delete()
        priorities_set(plan=plan, by=two[0], ranking=[(first, "Laws")])
        return priorities_digest(AreaPriority.objects.filter(plan=plan))

    def writes(shown, number):
        return [
            lambda c=c, area=area: http(
                c.post(url, {f"rank_{area.pk}": "1", f"rationale_{area.pk}": "Ours", "shown": shown})
            )
            for c, area in zip(clients, (first, second), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=[first.pk, second.pk],
        stored=lambda _: AreaPriority.objects.get(plan=plan).technical_area_id,
        count=UPDATE_ROUNDS,
    )


# Costing: settings and exchange rates ----------------------------------------------------------------------------


def first_rate_through_the_api(w: World) -> Tally:
    plan, two = w.plan, w.two
    plan_costing_get(plan)
    clients = [api_client(user) for user in two]
    url = f"/api/plans/{plan.pk}/exchange-rates/"

    def setup(number):
        ExchangeRate.objects.filter(plan=plan).delete()

    def writes(state, number):
        return [
            lambda c=c, rate=rate: http(c.post(url, {"currency": "EUR", "year": 2027, "rate": rate}, format="json"))
            for c, rate in zip(clients, ("1.10", "1.30"), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=[Decimal("1.10"), Decimal("1.30")],
        stored=lambda _: ExchangeRate.objects.get(plan=plan, currency="EUR", year=2027).rate,
        refusal=DUPLICATE,
    )


def first_rate_through_the_service(w: World) -> Tally:
    plan, two = w.plan, w.two
    plan_costing_get(plan)

    def setup(number):
        ExchangeRate.objects.filter(plan=plan).delete()

    def writes(state, number):
        return [
            service(
                lambda user=user, rate=rate: exchange_rate_set(
                    plan=plan, by=user, currency="EUR", year=2027, rate=Decimal(rate), version=0
                )
            )
            for user, rate in zip(two, ("1.10", "1.30"), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=[Decimal("1.10"), Decimal("1.30")],
        stored=lambda _: ExchangeRate.objects.get(plan=plan, currency="EUR", year=2027).rate,
    )


def rate_change_through_the_api(w: World) -> Tally:
    plan, two = w.plan, w.two
    plan_costing_get(plan)
    clients = [api_client(user) for user in two]

    def setup(number):
        ExchangeRate.objects.filter(plan=plan).delete()
        return exchange_rate_set(plan=plan, by=two[0], currency="EUR", year=2027, rate=Decimal("1.00"))

    def writes(rate, number):
        url = f"/api/plans/{plan.pk}/exchange-rates/{rate.pk}/"
        return [
            lambda c=c, value=value: http(c.patch(url, {"rate": value, "version": rate.version}, format="json"))
            for c, value in zip(clients, ("1.10", "1.30"), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=[Decimal("1.10"), Decimal("1.30")],
        stored=lambda rate: ExchangeRate.objects.get(pk=rate.pk).rate,
        count=UPDATE_ROUNDS,
    )


def first_costing_settings(w: World) -> Tally:
    plan, two = w.plan, w.two
    clients = [api_client(user) for user in two]
    url = f"/api/plans/{plan.pk}/costing/"
    tally = Tally()
    for _number in range(ROUNDS):
        PlanCosting.objects.filter(plan=plan).delete()
        outcomes = [outcome for outcome, _ in race([lambda c=c: http(c.get(url)) for c in clients])]
        tally.rounds += 1
        tally.outcomes.update(outcomes)
        tally.errors += outcomes.count(ERROR)
        if outcomes == [SAVED, SAVED] and PlanCosting.objects.filter(plan=plan).count() == 1:
            tally.right += 1
    return tally


def costing_settings_change(w: World) -> Tally:
    plan, two = w.plan, w.two
    clients = [api_client(user) for user in two]
    url = f"/api/plans/{plan.pk}/costing/"

    def setup(number):
        costing = plan_costing_get(plan)
        PlanCosting.objects.filter(pk=costing.pk).update(price_year=2026)
        return PlanCosting.objects.get(pk=costing.pk)

    def writes(costing, number):
        return [
            lambda c=c, year=year: http(c.patch(url, {"price_year": year, "version": costing.version}, format="json"))
            for c, year in zip(clients, (2027, 2028), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=[2027, 2028],
        stored=lambda costing: PlanCosting.objects.get(pk=costing.pk).price_year,
        count=UPDATE_ROUNDS,
    )


# Costing: lines, catalogue items, funding ------------------------------------------------------------------------


def cost_line_change(w: World) -> Tally:
    plan, two, activity = w.plan, w.two, w.activity
    plan_costing_get(plan)
    clients = [api_client(user) for user in two]
    fields = {
        "description": "Venue",
        "category": "meetings",
        "unit": "day",
        "unit_cost": Decimal("100.00"),
        "currency": "USD",
        "quantity": Decimal("1"),
        "recurrence": "recurring",
    }
    line = cost_line_create(activity=activity, by=two[0], fields=fields, frequencies={2026: 1})
    url = f"/api/plans/{plan.pk}/cost-lines/{line.pk}/"

    def setup(number):
        return CostLine.objects.get(pk=line.pk).version

    def writes(version, number):
        return [
            lambda c=c, quantity=quantity: http(c.patch(url, {"quantity": quantity, "version": version}, format="json"))
            for c, quantity in zip(clients, ("3.00", "7.00"), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=[Decimal("3.00"), Decimal("7.00")],
        stored=lambda _: CostLine.objects.get(pk=line.pk).quantity,
        count=UPDATE_ROUNDS,
    )


def catalogue_item_change(w: World) -> Tally:
    plan, two = w.plan, w.two
    plan_costing_get(plan)
    clients = [api_client(user) for user in two]
    item = CatalogueItem.objects.create(
        plan=plan, name="Venue", category="meetings", unit="day", unit_cost=100, currency="USD", price_year=2026
    )
    url = f"/api/plans/{plan.pk}/catalogue/{item.pk}/"

    def setup(number):
        return CatalogueItem.objects.get(pk=item.pk).version

    def writes(version, number):
        return [
            lambda c=c, name=name: http(c.patch(url, {"name": name, "version": version}, format="json"))
            for c, name in zip(clients, ("Hall", "Room"), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=["Hall", "Room"],
        stored=lambda _: CatalogueItem.objects.get(pk=item.pk).name,
        count=UPDATE_ROUNDS,
    )


def funding_change(w: World) -> Tally:
    plan, two, moh = w.plan, w.two, w.moh
    plan_costing_get(plan)
    clients = [api_client(user) for user in two]
    area = TechnicalArea.objects.filter(framework_id=plan.framework_id).order_by("order").first()
    commitment = FundingCommitment.objects.create(
        plan=plan,
        source_organization=moh,
        source_kind="government",
        amount=Decimal("1000.00"),
        currency="USD",
        first_year=2026,
        last_year=2026,
        technical_area=area,
    )
    url = f"/api/plans/{plan.pk}/funding/{commitment.pk}/"

    def setup(number):
        return FundingCommitment.objects.get(pk=commitment.pk).version

    def writes(version, number):
        return [
            lambda c=c, amount=amount: http(c.patch(url, {"amount": amount, "version": version}, format="json"))
            for c, amount in zip(clients, ("2000.00", "3000.00"), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=[Decimal("2000.00"), Decimal("3000.00")],
        stored=lambda _: FundingCommitment.objects.get(pk=commitment.pk).amount,
        count=UPDATE_ROUNDS,
    )


# Plans, activities, organizations, members ----------------------------------------------------------------------


def plan_settings_change(w: World) -> Tally:
    plan, two = w.plan, w.two
    clients = [api_client(user) for user in two]
    url = f"/api/plans/{plan.pk}/"

    def setup(number):
        return type(plan).objects.get(pk=plan.pk).version

    def writes(version, number):
        return [
            lambda c=c, title=title: http(c.patch(url, {"title": title, "version": version}, format="json"))
            for c, title in zip(clients, ("Plan A", "Plan B"), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=["Plan A", "Plan B"],
        stored=lambda _: type(plan).objects.get(pk=plan.pk).title,
        count=UPDATE_ROUNDS,
    )


def activity_change(w: World) -> Tally:
    plan, two, activity = w.plan, w.two, w.activity
    clients = [api_client(user) for user in two]
    url = f"/api/plans/{plan.pk}/activities/{activity.pk}/"

    def setup(number):
        return Activity.objects.get(pk=activity.pk).version

    def writes(version, number):
        return [
            lambda c=c, title=title: http(c.patch(url, {"title": title, "version": version}, format="json"))
            for c, title in zip(clients, ("Train A", "Train B"), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=["Train A", "Train B"],
        stored=lambda _: Activity.objects.get(pk=activity.pk).title,
        count=UPDATE_ROUNDS,
    )


def new_organization_of_the_same_name(w: World) -> Tally:
    _plan, two, country = w.plan, w.two, w.country
    clients = [api_client(user) for user in two]

    def setup(number):
        Organization.objects.filter(name__startswith="Institute").delete()
        return f"Institute {number}"

    def writes(name, number):
        return [
            lambda c=c, acronym=acronym: http(
                c.post(
                    "/api/organizations/",
                    {"name": name, "acronym": acronym, "kind": "agency", "jurisdiction": country.pk},
                    format="json",
                )
            )
            for c, acronym in zip(clients, ("A", "B"), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=["A", "B"],
        stored=lambda name: Organization.objects.get(name=name).acronym,
        refusal=DUPLICATE,
    )


def organization_change(w: World) -> Tally:
    _plan, two, moh = w.plan, w.two, w.moh
    clients = [api_client(user) for user in two]
    url = f"/api/organizations/{moh.pk}/"

    def setup(number):
        return Organization.objects.get(pk=moh.pk).version

    def writes(version, number):
        return [
            lambda c=c, acronym=acronym: http(c.patch(url, {"acronym": acronym, "version": version}, format="json"))
            for c, acronym in zip(clients, ("MH", "MOPH"), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=["MH", "MOPH"],
        stored=lambda _: Organization.objects.get(pk=moh.pk).acronym,
        count=UPDATE_ROUNDS,
    )


def new_country_of_the_same_code(w: World) -> Tally:
    from django.contrib.auth.models import Permission as ModelPermission

    from planning.models import Jurisdiction

    administrators = [make_user(f"administrator_{n}") for n in (1, 2)]
    for user in administrators:
        user.user_permissions.add(ModelPermission.objects.get(codename="add_jurisdiction"))
    clients = [api_client(user) for user in administrators]
    codes = [f"Q{c}" for c in "MNOPQRSTUVWXYZ"] + [f"X{c}" for c in "ABCFGHIJKLMNOPQRSUVWY"]

    def writes(code, number):
        return [
            lambda c=c, name=name: http(
                c.post("/api/jurisdictions/", {"level": "country", "name": name, "code": code}, format="json")
            )
            for c, name in zip(clients, (f"Westland {number}", f"Eastland {number}"), strict=True)
        ]

    return rounds(
        setup=lambda number: codes[number],
        writes=writes,
        values=lambda number: [f"Westland {number}", f"Eastland {number}"],
        stored=lambda code: Jurisdiction.objects.get(code=code, level="country").name,
        refusal=DUPLICATE,
    )


def two_organizations_renamed_to_one_name(w: World) -> Tally:
    two, country = w.two, w.country
    clients = [api_client(user) for user in two]

    def setup(number):
        return [
            Organization.objects.create(name=f"{name} {number}", kind="agency", jurisdiction=country)
            for name in ("Alpha", "Beta")
        ]

    def writes(organizations, number):
        return [
            lambda c=c, o=o: http(
                c.patch(f"/api/organizations/{o.pk}/", {"name": f"Gamma {number}", "version": o.version}, format="json")
            )
            for c, o in zip(clients, organizations, strict=True)
        ]

    tally = Tally()
    for number in range(UPDATE_ROUNDS):
        organizations = setup(number)
        outcomes = [outcome for outcome, _ in race(writes(organizations, number))]
        tally.rounds += 1
        tally.outcomes.update(outcomes)
        tally.errors += outcomes.count(ERROR)
        named = list(Organization.objects.filter(name=f"Gamma {number}").values_list("pk", flat=True))
        if sorted(outcomes) == [DUPLICATE, SAVED] and named == [organizations[outcomes.index(SAVED)].pk]:
            tally.right += 1
        elif ERROR not in outcomes:
            tally.lost += 1
    return tally


def same_person_added_twice(w: World) -> Tally:
    plan, two = w.plan, w.two
    newcomer = make_user("newcomer")

    def setup(number):
        PlanMembership.objects.filter(plan=plan, user=newcomer).delete()

    def writes(state, number):
        return [
            service(
                lambda user=user, role=role: membership_add(plan=plan, by=user, user=newcomer, role=role, notify=False)
            )
            for user, role in zip(two, (Role.VIEWER, Role.REVIEWER), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=[Role.VIEWER, Role.REVIEWER],
        stored=lambda _: PlanMembership.objects.get(plan=plan, user=newcomer).role,
        refusal=DUPLICATE,
    )


def same_person_in_the_register_twice(w: World) -> Tally:
    """Two of the secretariat add the same e-mail address to the register at once: one person, the other refused as
    a duplicate (to merge), never two records."""
    plan, two = w.plan, w.two

    def setup(number):
        Person.objects.filter(plan=plan).delete()

    def writes(state, number):
        return [
            service(
                lambda user=user, name=name: person_create(
                    plan=plan, by=user, fields={"name": name, "email": f"focal{number}@health.example"}
                )
            )
            for user, name in zip(two, ("Halima Said", "Dr. H. Said"), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=["Halima Said", "Dr. H. Said"],
        stored=lambda _: Person.objects.get(plan=plan).name,
        refusal=DUPLICATE,
    )


def plan_launched_twice(w: World) -> Tally:
    """Two of the secretariat launch the endorsed plan at once: one launch, the other refused ("launched already"),
    and one reporting period opened."""
    plan, two = w.plan, w.two
    lead = w.people[Role.SECRETARIAT_LEAD]
    plan_endorse(plan=plan, by=lead, endorsed_on=datetime.date.today(), authority="Cabinet", confirm=True)
    plan.refresh_from_db()
    confirmed = dict.fromkeys(unmet_keys(launch_checklist(plan)), "")

    def setup(number):
        Launch.objects.filter(plan=plan).delete()
        ReportingPeriod.objects.filter(plan=plan).delete()

    def writes(state, number):
        return [
            service(
                lambda user=user, notes=notes: plan_launch(
                    plan=Plan.objects.get(pk=plan.pk),
                    by=user,
                    launched_on=datetime.date.today(),
                    notes=notes,
                    confirmed=confirmed,
                )
            )
            for user, notes in zip(two, ("by the lead", "by the member"), strict=True)
        ]

    def stored(_):
        assert ReportingPeriod.objects.filter(plan=plan, state=ReportingPeriod.State.OPEN).count() == 1
        return Launch.objects.get(plan=plan).notes

    return rounds(setup=setup, writes=writes, values=["by the lead", "by the member"], stored=stored, refusal=DUPLICATE)


def member_role_change(w: World) -> Tally:
    plan, two, people = w.plan, w.two, w.people
    clients = [api_client(user) for user in two]
    viewer = PlanMembership.objects.get(plan=plan, user=people[Role.VIEWER])
    url = f"/api/plans/{plan.pk}/memberships/{viewer.pk}/"

    def setup(number):
        return PlanMembership.objects.get(pk=viewer.pk).version

    def writes(version, number):
        return [
            lambda c=c, role=role: http(c.patch(url, {"role": role, "version": version}, format="json"))
            for c, role in zip(clients, (Role.REVIEWER, Role.TECHNICAL_LEAD), strict=True)
        ]

    return rounds(
        setup=setup,
        writes=writes,
        values=[Role.REVIEWER, Role.TECHNICAL_LEAD],
        stored=lambda _: PlanMembership.objects.get(pk=viewer.pk).role,
        count=UPDATE_ROUNDS,
    )


# The tests: each runs its kinds of write and reports every kind's rounds, so one failing kind hides no other. -----


def run_kinds(world: World, kinds: list[Callable[[World], Tally]]) -> None:
    tallies = {kind.__name__: kind(world) for kind in kinds}
    for name, tally in tallies.items():  # shown with pytest -rP: the rounds run and what came of them
        print(f"{name}: {tally.rounds} rounds, {tally.right} right, {tally.lost} lost, {tally.errors} errors")
    failing = [f"{name}: {tally}" for name, tally in tallies.items() if not tally.ok]
    assert not failing, "\n".join(failing)


def test_first_writes_on_pages_save_one_and_refuse_the_other(world):
    """The score grid, the targets page and the context page, both people having seen no value yet."""
    run_kinds(
        world, [first_score_in_the_grid, whole_grid_first_scores, first_target_on_the_page, first_narrative_on_the_page]
    )


def test_first_writes_through_the_api_and_services_save_one_and_refuse_the_other(world):
    run_kinds(
        world,
        [
            first_score_through_the_service,
            default_targets_beside_a_first_target,
            first_rate_through_the_api,
            first_rate_through_the_service,
            new_country_of_the_same_code,
            first_costing_settings,
            new_organization_of_the_same_name,
            same_person_added_twice,
            same_person_in_the_register_twice,
            plan_launched_twice,
        ],
    )


def test_changes_from_the_same_version_on_pages_save_one_and_refuse_the_other(world):
    run_kinds(
        world,
        [
            score_change_in_the_grid,
            target_change_on_the_page,
            narrative_change_on_the_page,
            priorities_change_on_the_page,
        ],
    )


def test_changes_from_the_same_version_through_the_api_save_one_and_refuse_the_other(world):
    run_kinds(
        world,
        [
            single_score_change,
            rate_change_through_the_api,
            costing_settings_change,
            cost_line_change,
            catalogue_item_change,
            funding_change,
            plan_settings_change,
            activity_change,
            organization_change,
            two_organizations_renamed_to_one_name,
            member_role_change,
        ],
    )
