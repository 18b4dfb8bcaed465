"""Advocacy and the launch in a real browser, as the secretariat closes the planning journey: on the endorsed, costed
plan it drafts advocacy for the two largest funding gaps from the advocacy page, sees the costing dashboard name
each beside its gap, finds the pledge page saying funding is frozen once the plan is endorsed, works the launch
checklist (confirming what is not met) and launches; the launch page then shows the launch and the reporting period
it opened. On a plan still in draft, where funding may change, a pledge becomes a funding commitment in one step."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import formats
from playwright.sync_api import Page, expect

from costing.models import FundingCommitment
from monitoring.models import ReportingPeriod
from stakeholders.models import Advocacy, EngagementEvent, Launch
from tests.browser.pages import field, log_in, plan_nav
from tests.stakeholders.advocacy_fixtures import area, costed_plan
from tests.stakeholders.launch_fixtures import endorse

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def scene(plan, lead, moh):
    """Costed in US dollars (P1 needs 50,000, D1 20,000, nothing funded), a euro rate, the Ministry of Health in the
    map (still to engage) and Dr Amina Diallo in the register; the launch ceremony among the plan's events."""
    scene = costed_plan(plan, lead, moh)
    today = datetime.date.today()
    scene["ceremony"] = EngagementEvent.objects.create(
        plan=plan, kind="launch", title="Launch ceremony", starts_on=today, ends_on=today
    )
    return scene


def draft_for_gap(page: Page, code: str, **choices: str) -> None:
    """From the advocacy page's largest gaps: the gap's "Draft advocacy for this gap", the audience, a message, a
    messenger, a channel."""
    row = page.locator("#largest-gaps tr", has=page.get_by_role("rowheader", name=re.compile(rf"^{code} ")))
    row.get_by_role("button", name="Draft advocacy for this gap").click()
    expect(page.get_by_role("heading", name="Plan advocacy", level=1)).to_be_visible()
    form = page.locator("#advocacy-form")
    field(form, "Audience").select_option(label=choices["audience"])
    field(form, "Key messages").fill(choices["messages"])
    form.get_by_label("Dr Amina Diallo (Ministry of Health (MOH))").check()
    form.get_by_label(choices["channel"], exact=True).check()
    field(form, "Timing").fill("Before the budget call")


def test_the_secretariat_advocates_for_the_largest_gaps_and_launches_the_endorsed_plan(page: Page, plan, lead, scene):
    endorse(plan, lead)
    log_in(page, lead.username)
    expect(page.get_by_role("heading", name="My plans", level=1)).to_be_visible()
    page.goto(f"/plans/{plan.pk}/")
    plan_nav(page).get_by_role("link", name="Advocacy").click()
    expect(page.get_by_role("heading", name="Advocacy", level=1)).to_be_visible()

    # The largest gaps, largest first, none addressed yet.
    gaps = page.locator("#largest-gaps tbody tr")
    expect(gaps).to_have_count(2)
    expect(gaps.nth(0)).to_have_attribute("data-area", "P1")
    expect(gaps.nth(0)).to_contain_text("50,000.00")
    expect(gaps.nth(0)).to_contain_text("None yet")
    expect(gaps.nth(1)).to_have_attribute("data-area", "D1")
    expect(gaps.nth(1)).to_contain_text("20,000.00")

    # The largest: the form comes proposed from the gap (the area, the amount in the plan's currency).
    draft_for_gap(
        page,
        "P1",
        audience="Ministry of Health (MOH)",
        messages="Every outbreak stopped at the border saves millions.",
        channel="Budget hearing",
    )
    form = page.locator("#advocacy-form")
    expect(field(form, "Title")).to_have_value(re.compile(r"^Funding for P1 "))
    expect(field(form, "Amount asked")).to_have_value(re.compile(r"^50000(\.00)?$"))
    expect(form.get_by_role("checkbox", name="P1 Legal Instruments")).to_be_checked()
    form.get_by_role("button", name="Add advocacy").click()
    expect(page.locator(".messages")).to_contain_text("added.")
    expect(page.locator("dl.facts")).to_contain_text("50,000.00 USD")
    expect(page.locator("dl.facts")).to_contain_text("Dr Amina Diallo")
    first = Advocacy.objects.get()

    # The second: an ask in a currency the plan has no rate for is refused beside the currency, nothing saved.
    page.get_by_role("link", name="← Advocacy").click()
    draft_for_gap(
        page,
        "D1",
        audience="Ministry of Health (MOH)",
        messages="A laboratory equipped now confirms outbreaks in days, not weeks.",
        channel="Donor round table",
    )
    form = page.locator("#advocacy-form")
    field(form, "Title").fill("Equip the reference laboratory")
    field(form, "Currency").fill("GBP")
    form.get_by_role("button", name="Add advocacy").click()
    form = page.locator("#advocacy-form")
    expect(form).to_contain_text("GBP")
    expect(form).to_contain_text("exchange rates page")
    expect(form.get_by_role("link", name="Add the rate on the plan's “Currency & rates” page")).to_be_visible()
    assert Advocacy.objects.count() == 1
    field(form, "Currency").fill("EUR")
    field(form, "Amount asked").fill("18000")
    form.get_by_role("button", name="Add advocacy").click()
    expect(page.get_by_role("heading", name="Equip the reference laboratory", level=1)).to_be_visible()
    expect(page.locator("[data-figure=ask]")).to_have_text("18,000.00 EUR")
    expect(page.locator("[data-figure=ask-base]")).to_contain_text("USD at the plan's rate")
    second = Advocacy.objects.exclude(pk=first.pk).get()

    page.get_by_role("link", name="← Advocacy").click()
    expect(page.locator("#largest-gaps tr[data-area=P1]")).to_contain_text(first.title)
    expect(page.locator("#largest-gaps tr[data-area=D1]")).to_contain_text("Equip the reference laboratory")

    # The costing dashboard names the advocacy beside each gap, and links to it.
    plan_nav(page).get_by_role("link", name="Costs & gap").click()
    by_area = page.locator("#by-area")
    expect(by_area.locator("tr[data-area=P1] .advocacy-named")).to_contain_text(first.title)
    expect(by_area.locator("tr[data-area=D1] .advocacy-named")).to_contain_text("Equip the reference laboratory")
    by_area.locator("tr[data-area=D1] .advocacy-named").get_by_role("link").click()
    expect(page.get_by_role("heading", name="Equip the reference laboratory", level=1)).to_be_visible()

    # The pledge: funding is the endorsed plan's content, frozen: the page says so and its button is disabled.
    page.get_by_role("button", name="Record the pledge as a funding commitment").click()
    expect(page.get_by_role("heading", name="Record the pledge as a funding commitment", level=1)).to_be_visible()
    expect(page.locator("#pledge-frozen")).to_contain_text("This plan is endorsed")
    submit = page.locator("#pledge-form").get_by_role("button", name="Record the commitment")
    expect(submit).to_be_disabled()
    # Sent anyway (the button enabled by hand): refused, nothing saved.
    submit.evaluate("button => button.disabled = false")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        submit.click()
    assert answer.value.status == 423
    assert not FundingCommitment.objects.exists()
    second.refresh_from_db()
    assert second.status == Advocacy.Status.PLANNED

    # The launch checklist: endorsed, costed and advocacy met; funding, responsible organizations and coverage not.
    page.goto(f"/plans/{plan.pk}/")
    plan_nav(page).get_by_role("link", name="Launch").click()
    expect(page.get_by_role("heading", name="Launch", level=1)).to_be_visible()
    checklist = page.locator("#checklist")
    expect(checklist).to_contain_text("3 of 6 items met.")
    for key in ("endorsed", "costed", "advocacy"):
        expect(page.locator(f"#item-{key}")).to_contain_text(re.compile(r"\bmet\b"))
        expect(page.locator(f"#item-{key}")).not_to_contain_text("not met")
    for key in ("funding", "responsible", "coverage"):
        expect(page.locator(f"#item-{key}")).to_contain_text("not met")
    expect(page.locator("#item-advocacy")).to_contain_text("has an active advocacy plan")

    # Coverage worked on from its item: the Ministry of Health engaged on both areas.
    page.locator("#item-coverage").get_by_role("link").click()
    expect(page.get_by_role("heading", name="Stakeholder map", level=1)).to_be_visible()
    page.locator("#stakeholder-table tr", has_text="Ministry of Health (MOH)").get_by_role("link", name="Edit").click()
    form = page.locator("#stakeholder-form")
    field(form, "Relationship").select_option(label="Involved")
    form.get_by_label(re.compile(r"^\s*P1\s")).check()
    form.get_by_label(re.compile(r"^\s*D1\s")).check()
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Ministry of Health (MOH) saved.")
    plan_nav(page).get_by_role("link", name="Launch").click()
    expect(page.locator("#checklist")).to_contain_text("4 of 6 items met.")
    expect(page.locator("#item-coverage")).not_to_contain_text("not met")

    # Launching without confirming the items not met is refused, nothing recorded.
    launch = page.locator("#launch-form")
    field(launch, "Event").select_option(label="Launch ceremony")
    field(launch, "Notes").fill("Launched by the Minister of Health with the partners.")
    launch.get_by_role("button", name="Launch").click()
    launch = page.locator("#launch-form")
    expect(launch.locator(".alert-error, .errorlist").first).to_be_visible()
    assert not Launch.objects.exists()
    assert not ReportingPeriod.objects.filter(plan=plan, state=ReportingPeriod.State.OPEN).exists()

    # Confirmed, with a note on the funding.
    for name in ("Funding identified against the cost", "A responsible organization for every activity"):
        launch.get_by_label(f"I confirm launching without “{name}”").check()
    note = launch.get_by_label("Note on “Funding identified against the cost”")
    note.fill("The donor round table is in June.")
    expect(launch.get_by_label(re.compile(r"^\s*I confirm launching without"))).to_have_count(2)
    launch.get_by_role("button", name="Launch").click()

    expect(page.locator(".messages")).to_contain_text("Version 1 launched")
    opened = ReportingPeriod.objects.get(plan=plan, state=ReportingPeriod.State.OPEN)
    expect(page.locator(".messages")).to_contain_text(f"the reporting period {opened.label} is open for reports")
    record = page.locator("#launch")
    today = formats.date_format(datetime.date.today(), "DATE_FORMAT")
    expect(record.get_by_role("heading", level=2)).to_have_text(f"Version 1 launched on {today}")
    expect(record).to_contain_text("Launch ceremony")
    expect(record).to_contain_text(str(lead))
    expect(record).to_contain_text("(opened by the launch)")
    expect(record).to_contain_text("Launched by the Minister of Health with the partners.")
    expect(record.locator(".launch-checklist li", has_text="Funding identified against the cost")).to_contain_text(
        "not met, confirmed"
    )
    expect(record).to_contain_text("The donor round table is in June.")
    expect(page.locator("#launch-form")).to_have_count(0)
    launched = Launch.objects.get()
    assert (launched.plan_id, launched.number, launched.event_id) == (plan.pk, 1, scene["ceremony"].pk)

    # The period opened is where the focal points report.
    record.get_by_role("link", name=opened.label).click()
    expect(page.get_by_role("heading", name=f"Progress in {opened.label}", level=1)).to_be_visible()


def test_on_a_draft_plan_a_pledge_becomes_a_funding_commitment_in_one_step(page: Page, plan, lead, scene):
    advocacy = Advocacy.objects.create(
        plan=plan,
        need=Advocacy.Need.FUNDING_GAP,
        title="Fund border veterinary training",
        audience=scene["stakeholder"],
        ask=Advocacy.Ask.AMOUNT,
        ask_amount=40000,
        ask_currency="EUR",
        status=Advocacy.Status.UNDER_WAY,
    )
    advocacy.technical_areas.set([area("P1")])
    log_in(page, lead.username)
    expect(page.get_by_role("heading", name="My plans", level=1)).to_be_visible()
    page.goto(f"/plans/{plan.pk}/advocacy/")
    page.locator("#advocacy-table").get_by_role("link", name="Fund border veterinary training").click()
    expect(page.locator("#advocacy-commitments")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("No pledge recorded yet.")
    page.get_by_role("button", name="Record the pledge as a funding commitment").click()

    # Proposed from the advocacy: its audience as the source, its ask as the amount, its area.
    form = page.locator("#pledge-form")
    expect(page.locator("#pledge-frozen")).to_have_count(0)
    expect(field(form, "Source").locator("option:checked")).to_have_text("Ministry of Health (MOH)")
    expect(field(form, "Amount")).to_have_value(re.compile(r"^40000(\.00)?$"))
    expect(field(form, "Currency")).to_have_value("EUR")
    expect(field(form, "Status")).to_have_value("pledged")
    expect(field(form, "Funds a whole technical area").locator("option:checked")).to_contain_text("P1")

    # No amount: refused beside the field, nothing saved.
    field(form, "Amount").fill("")
    field(form, "Status of the advocacy").select_option(label="Achieved")
    field(form, "Outcome of the advocacy").fill("The Minister of Finance pledged 40,000 EUR in the 2026 budget.")
    form.get_by_role("button", name="Record the commitment").click()
    form = page.locator("#pledge-form")
    expect(form.locator("#id_amount_error")).to_be_visible()
    assert not FundingCommitment.objects.exists()
    advocacy.refresh_from_db()
    assert advocacy.status == Advocacy.Status.UNDER_WAY

    field(form, "Amount").fill("40000")
    field(form, "Kind of source").select_option(label="Government budget line")
    expect(field(form, "Outcome of the advocacy")).to_have_value(
        "The Minister of Finance pledged 40,000 EUR in the 2026 budget."
    )
    form.get_by_role("button", name="Record the commitment").click()

    expect(page.get_by_role("heading", name="Fund border veterinary training", level=1)).to_be_visible()
    expect(page.locator(".messages")).to_contain_text(
        "The pledge of Ministry of Health (MOH) is now a funding commitment of the plan."
    )
    expect(page.locator("main .page-header .badge")).to_have_text("Achieved")
    expect(page.locator("dl.facts")).to_contain_text("The Minister of Finance pledged 40,000 EUR")
    row = page.locator("#advocacy-commitments tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Ministry of Health (MOH)")
    expect(row).to_contain_text("40,000.00 EUR")
    expect(row).to_contain_text("Pledged")
    commitment = FundingCommitment.objects.get()
    assert (commitment.advocacy_id, commitment.status, commitment.technical_area.code) == (advocacy.pk, "pledged", "P1")

    # Among the plan's funding, where the secretariat keeps it.
    plan_nav(page).get_by_role("link", name="Funding", exact=True).click()
    expect(page.locator("main")).to_contain_text("40,000.00")
    expect(page.locator("main")).to_contain_text("Ministry of Health (MOH)")
