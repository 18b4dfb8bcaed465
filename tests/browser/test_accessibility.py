"""WCAG 2.1 AA on the main pages, in English and in Arabic (right to left): axe-core finds no serious or critical
violation on any of them, with their editors and menus open as well; and every page has a title of its own.

The pages are those of the demo's populated national plan, seen by its secretariat lead, and the login page.
Keyboard use is tested in test_keyboard.py.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from monitoring.models import HealthEvent, MEIndicator, ReportingPeriod
from monitoring.reviews import review_create
from naphs.models import Job
from naphs.permissions import Role
from naphs.services import job_create
from planning.endorsement import plan_endorse
from planning.models import Activity, Assessment, Plan, ReviewRound
from planning.reviews import review_round_open
from planning.versions import plan_version_save
from stakeholders.advocacy import advocacy_create, base_currency_of, largest_gaps
from stakeholders.job_kinds import StakeholdersJob
from stakeholders.models import Advocacy, EngagementEvent, Person, PlanMembership, User
from tests import translations
from tests.browser.axe import axe_violations, violations_report
from tests.browser.pages import log_in
from tests.stakeholders.advocacy_fixtures import fields as advocacy_fields

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]
DEMO_PASSWORD = "naphs-demo-2026"


@pytest.fixture(autouse=True)
def _catalogues_compiled():
    translations.catalogues_compile()


@pytest.fixture
def national(jee3, monkeypatch) -> Plan:
    """The demo's national plan: assessed, drafted, costed and funded, with a member per role."""
    monkeypatch.setenv("DEMO_ALLOW_PRODUCTION", "1")  # the tests run with DEBUG off
    call_command("demo_load", password=DEMO_PASSWORD, stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Plan.objects.get(jurisdiction__level="country")


def main_pages(plan: Plan) -> list[str]:
    """The addresses of the main pages of a plan, for its secretariat lead (a job of theirs included)."""
    lead = User.objects.get(username="lead")
    assessment = Assessment.objects.filter(plan=plan).order_by("pk").first()
    costed = Activity.objects.filter(plan=plan, cost_lines__isnull=False).order_by("pk").first()
    assert assessment and costed
    job = job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=lead, plan=plan)  # runs at once (eager)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    # A saved version, and a round open on the draft with the demo's reviewer invited.
    version = plan_version_save(plan=plan, by=lead, label="Before the validation workshop")
    reviewer = PlanMembership.objects.filter(plan=plan, role=Role.REVIEWER).first()
    assert reviewer is not None
    review_round = ReviewRound.objects.filter(plan=plan, state=ReviewRound.State.OPEN).first() or review_round_open(
        plan=plan, by=lead, reviewers=[reviewer.user], due_on=timezone.localdate(), message="Please review."
    )
    # Monitoring: an open quarter with its review, a health event, an M&E indicator.
    today = timezone.localdate()
    period, _created = ReportingPeriod.objects.get_or_create(
        plan=plan,
        starts_on=today.replace(day=1),
        defaults={
            "label": "Q1",
            "ends_on": today.replace(day=28),
            "due_on": today.replace(day=28),
            "state": ReportingPeriod.State.OPEN,
        },
    )
    review = review_create(plan=plan, by=lead, kind="quarterly", period=period, held_on=today, participants="MOH")
    event = HealthEvent.objects.create(plan=plan, name="Cholera in the delta", hazard="Cholera", emerged_on=today)
    indicator = MEIndicator.objects.create(plan=plan, code="OUT1", name="Districts with a trained team", kind="output")
    base = f"/plans/{plan.pk}"
    monitoring = f"{base}/monitoring"
    return [
        "/",
        f"{base}/",
        f"{base}/assessments/",
        f"{base}/assessments/{assessment.pk}/",
        f"{base}/targets/",
        f"{base}/generate/",
        f"{base}/activities/",
        f"{base}/activities/{costed.pk}/",
        f"{base}/context/",
        f"{base}/priorities/",
        f"{base}/activities/{costed.pk}/costs/",
        f"{base}/costing/settings/",
        f"{base}/costing/catalogue/",
        f"{base}/funding/",
        f"{base}/costing/",
        f"{base}/costing/upload/",
        f"{base}/members/",
        f"{base}/comments/",
        f"{base}/guidance/",
        f"{base}/audit/",
        f"{base}/document/",
        f"{base}/reviews/",
        f"{base}/reviews/{review_round.pk}/",
        f"{base}/endorsement/",
        f"{base}/versions/",
        f"{base}/versions/compare/?before={version.pk}&after=draft",
        f"/jobs/{job.pk}/",
        f"{monitoring}/",
        f"{monitoring}/periods/",
        f"{monitoring}/periods/{period.pk}/progress/",
        f"{base}/activities/{costed.pk}/progress/",
        f"{monitoring}/workbook/",
        f"{monitoring}/dashboard/",
        f"{monitoring}/indicators/",
        f"{monitoring}/indicators/{indicator.pk}/",
        f"{monitoring}/indicators/actuals/{period.pk}/",
        f"{monitoring}/capacity/",
        f"{monitoring}/reviews/",
        f"{monitoring}/reviews/{review.pk}/",
        f"{monitoring}/events/",
        f"{monitoring}/events/{event.pk}/",
        *engagement_pages(plan, lead),
    ]


def engagement_pages(plan: Plan, lead: User) -> list[str]:
    """The pages of the plan's engagement: the demo's map, register and validation workshop, and an advocacy for the
    plan's largest funding gap (made once: the walks ask for the pages more than once)."""
    first, second = Person.objects.filter(plan=plan).order_by("pk")[:2]
    workshop = EngagementEvent.objects.filter(plan=plan).order_by("pk").first()
    assert workshop is not None
    advocacy = Advocacy.objects.filter(plan=plan, title="Fund the national laboratory network").first()
    if advocacy is None:
        gap = largest_gaps(plan=plan, limit=1)
        advocacy = advocacy_create(
            plan=plan,
            by=lead,
            fields=advocacy_fields(
                title="Fund the national laboratory network",
                audience=plan.stakeholders.order_by("pk").first(),
                ask_amount=Decimal("250000.00"),
                ask_currency=base_currency_of(plan),
                owner=lead,
            ),
            technical_areas=[row.area for row in gap],
            messengers=[first],
        )
    base = f"/plans/{plan.pk}"
    return [
        f"{base}/stakeholders/",
        f"{base}/stakeholders/new/",
        f"{base}/people/",
        f"{base}/people/{first.pk}/",
        f"{base}/people/new/",
        f"{base}/people/{first.pk}/edit/",
        f"{base}/people/{first.pk}/merge/?other={second.pk}",
        f"{base}/events/",
        f"{base}/events/{workshop.pk}/",
        f"{base}/events/{workshop.pk}/participants/add/",
        f"{base}/events/{workshop.pk}/decisions/new/",
        f"{base}/events/{workshop.pk}/attendance/import/",
        f"{base}/events/new/",
        f"{base}/events/participation/",
        f"{base}/events/{workshop.pk}/cost/",
        f"{base}/advocacy/",
        f"{base}/advocacy/{advocacy.pk}/",
        f"{base}/advocacy/new/",
        f"{base}/advocacy/{advocacy.pk}/pledge/",
        f"{base}/launch/",
    ]


def pages_violations(page: Page, paths: list[str]) -> dict[str, str]:
    """Every page's serious and critical violations, reported together so that one run lists them all."""
    found = {}
    for path in paths:
        response = page.goto(path)
        page.wait_for_load_state("networkidle")
        if response is not None and not response.ok:
            found[path] = f"answered {response.status}, not the page"
        elif violations := axe_violations(page):
            found[path] = violations_report(violations)
    return found


def report(found: dict[str, str]) -> str:
    return "\n\n".join(f"{path}\n{text}" for path, text in found.items())


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("ar", "rtl")])
def test_the_main_pages_have_no_serious_accessibility_violation(page, live_server, national, language, direction):
    page.context.add_cookies([{"name": "naphs_language", "value": language, "url": live_server.url}])
    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("dir", direction)
    found = pages_violations(page, ["/accounts/login/"])

    User.objects.filter(username="lead").update(language=language)
    log_in(page, "lead", DEMO_PASSWORD) if language == "en" else _log_in_in(page, "lead")
    expect(page.locator("html")).to_have_attribute("lang", language)
    paths = main_pages(national)
    found |= pages_violations(page, paths)

    # What opens in place: the account menu, a cost line's editor, a member's editor.
    page.get_by_role("banner").locator("details.dropdown summary").click()
    if violations := axe_violations(page):
        found["the account menu"] = violations_report(violations)
    costs = next(path for path in paths if path.endswith("/costs/"))
    for path, opener, editor in (
        (costs, "tr[id^=line-] a[hx-get]", "tr.row-form"),
        (f"/plans/{national.pk}/members/", "tr[id^=member-] a[hx-get]", "tr.row-form"),
    ):
        page.goto(path)
        page.locator(opener).first.click()
        expect(page.locator(editor)).to_be_visible()
        if violations := axe_violations(page):
            found[f"{path}, a row's editor open"] = violations_report(violations)
    found |= engagement_states_violations(page, national)
    assert not found, "Serious or critical accessibility violations:\n\n" + report(found)


def engagement_states_violations(page: Page, plan: Plan) -> dict[str, str]:
    """The engagement pages in the states a walk of addresses does not reach: a person refused as a duplicate (with
    the offer to merge), then, the plan endorsed, the pledge page saying funding is frozen and the launch page with its
    form and the confirmations of the items not met. Last, since the plan stays endorsed."""
    found = {}
    base = f"/plans/{plan.pk}"
    existing = Person.objects.filter(plan=plan).exclude(email="").order_by("pk").first()
    assert existing is not None
    page.goto(f"{base}/people/new/")
    form = page.locator("#person-form")
    form.locator("input[name=name]").fill("Someone Else")
    form.locator("input[name=email]").fill(existing.email)
    form.locator("button[type=submit]").click()
    expect(page.locator("#duplicate-offer")).to_be_visible()
    if violations := axe_violations(page):
        found["a person refused as a duplicate"] = violations_report(violations)
    plan_endorse(
        plan=plan,
        by=User.objects.get(username="lead"),
        endorsed_on=timezone.localdate(),
        authority="Minister of Health",
        confirm=True,
    )
    advocacy = Advocacy.objects.filter(plan=plan).order_by("pk").first()
    assert advocacy is not None
    for path, what in (
        (f"{base}/advocacy/{advocacy.pk}/pledge/", "#pledge-frozen"),
        (f"{base}/launch/", "#launch-form"),
    ):
        page.goto(path)
        expect(page.locator(what)).to_be_visible()
        if violations := axe_violations(page):
            found[f"{path}, the plan endorsed"] = violations_report(violations)
    return found


def _log_in_in(page: Page, login: str) -> None:
    """The login form, whatever its language: the fields and the one button, by their place."""
    page.goto("/accounts/login/")
    form = page.get_by_role("main").locator("form")
    form.get_by_role("textbox").first.fill(login)
    form.locator("input[type=password]").fill(DEMO_PASSWORD)
    form.get_by_role("button").click()
    expect(page.get_by_role("banner").locator("summary")).to_be_visible()


def page_titles(page: Page, paths: list[str]) -> dict[str, list[str]]:
    """The pages by their <title>."""
    titles: dict[str, list[str]] = {}
    for path in paths:
        page.goto(path)
        titles.setdefault(page.title(), []).append(path)
    return titles


def shared_titles(titles: dict[str, list[str]]) -> str:
    return "\n".join(f"{title!r}: {', '.join(paths)}" for title, paths in titles.items() if len(paths) > 1)


ANONYMOUS_PAGES = ["/accounts/login/", "/accounts/password/reset/", "/accounts/password/reset/sent/"]


def test_the_pages_of_accounts_people_and_jobs_have_titles_of_their_own(page, national):
    """The pages outside planning and costing: accounts, members, directory, a job, errors."""
    titles = page_titles(page, ANONYMOUS_PAGES)
    log_in(page, "lead", DEMO_PASSWORD)
    job = next(path for path in main_pages(national) if path.startswith("/jobs/"))
    base = f"/plans/{national.pk}"
    membership = national.memberships.exclude(user__username="lead").order_by("pk").first()
    titles |= page_titles(
        page,
        [
            "/",
            f"{base}/members/",
            f"{base}/members/{membership.pk}/",
            f"{base}/directory/",
            f"{base}/organizations/new/",
            job,
            "/accounts/password/",
            "/plans/999999/",
        ],
    )
    assert len(titles) == len(ANONYMOUS_PAGES) + 8, "Pages sharing a title:\n" + shared_titles(titles)
    assert all(title.endswith("NAPHS Planner") for title in titles)


def test_every_main_page_has_a_title_of_its_own(page, national):
    """Planning's and costing's pages too: they get their titles with the marking of their messages."""
    log_in(page, "lead", DEMO_PASSWORD)
    paths = main_pages(national)
    titles = page_titles(page, paths)
    assert len(titles) == len(paths), "Pages sharing a title:\n" + shared_titles(titles)
    repeated = [title for title in titles if title.count(national.title) > 1]
    assert not repeated, "Titles naming the plan twice:\n" + "\n".join(repeated)
