"""The stakeholder map and the register in a real browser, as the secretariat builds them: organizations of every
sector added to the map with their influence, interest and relationship, each seen in its quadrant of the grid with
the strategy it implies, and the coverage naming the technical areas and sectors no engaged stakeholder covers; a
person added to the register, a second record with the same e-mail refused with the offer to merge, and the merge.
Then the map read in Arabic, right to left: the grid and its chart on the page, nothing running off it."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from stakeholders.mapping import QUADRANTS
from stakeholders.models import Organization, Person, Stakeholder, User
from tests import translations
from tests.browser.pages import field, log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

# The organizations the test is not about: they exist in the country before the map is drawn.
ORGANIZATIONS = (
    ("Ministry of Environment", "MOE", "ministry", ["environment"]),
    ("National Disaster Management Agency", "NDMA", "agency", ["disaster_management"]),
    ("WHO Country Office", "WHO", "who_un", ["human_health"]),
    ("World Bank", "WB", "donor", ["finance"]),
)


@pytest.fixture
def organizations(plan, moh, moa) -> dict[str, Organization]:
    found = {"MOH": moh, "MOA": moa}
    for name, acronym, kind, sectors in ORGANIZATIONS:
        found[acronym] = Organization.objects.create(
            name=name, acronym=acronym, kind=kind, sectors=sectors, jurisdiction=plan.jurisdiction
        )
    return found


# What the secretariat enters for each: organization, influence, interest, relationship, roles, sectors, areas,
# and the quadrant it lands in.
MAP = (
    ("Ministry of Health (MOH)", "High", "High", "Collaborating", ["Lead"], ["Human health"], ["P1", "P2"]),
    (
        "Ministry of Agriculture (MOA)",
        "Fairly high",
        "Fairly high",
        "Involved",
        ["Implementer"],
        ["Animal health"],
        ["P1"],
    ),
    ("World Bank (WB)", "High", "Fairly low", "To engage", ["Funder"], ["Finance"], ["P2"]),
    ("WHO Country Office (WHO)", "Fairly low", "High", "Consulted", ["Technical partner"], ["Human health"], ["D1"]),
    (
        "National Disaster Management Agency (NDMA)",
        "Low",
        "Low",
        "Informed",
        ["Beneficiary"],
        ["Disaster management"],
        ["R1"],
    ),
)
QUADRANT_OF = {
    "Ministry of Health (MOH)": "manage_closely",
    "Ministry of Agriculture (MOA)": "manage_closely",
    "World Bank (WB)": "keep_satisfied",
    "WHO Country Office (WHO)": "keep_informed",
    "National Disaster Management Agency (NDMA)": "monitor",
}


def add_stakeholder(
    page: Page, plan, organization, influence, interest, relationship, roles, sectors, areas, *, owner=None
):
    page.goto(f"/plans/{plan.pk}/stakeholders/")
    page.get_by_role("main").get_by_role("button", name="Add a stakeholder").click()
    form = page.locator("#stakeholder-form")
    field(form, "Organization").select_option(label=organization)
    field(form, "Influence").select_option(label=influence)
    field(form, "Interest").select_option(label=interest)
    field(form, "Relationship").select_option(label=relationship)
    if owner is not None:
        field(form, "Relationship owner").select_option(label=owner)
    for role in roles:
        form.get_by_label(role, exact=True).check()
    for sector in sectors:
        form.get_by_label(sector, exact=True).check()
    for code in areas:
        form.get_by_label(re.compile(rf"^\s*{code}\s")).check()
    form.get_by_role("button", name="Add to the map").click()


def test_the_secretariat_maps_stakeholders_and_registers_people(page: Page, plan, people, lead, organizations):
    log_in(page, lead.username)
    expect(page.get_by_role("heading", name="My plans", level=1)).to_be_visible()
    page.goto(f"/plans/{plan.pk}/stakeholders/")
    expect(page.get_by_role("heading", name="Stakeholder map", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("No stakeholder in the map yet.")

    for index, row in enumerate(MAP):
        add_stakeholder(page, plan, *row, owner=str(lead) if index == 0 else None)
        expect(page.locator(".messages")).to_contain_text(f"{row[0]} added to the map.")
    assert Stakeholder.objects.filter(plan=plan).count() == len(MAP)

    # The same organization twice: refused beside its field, nothing saved.
    add_stakeholder(page, plan, "Ministry of Health (MOH)", "Low", "Low", "Informed", [], [], [])
    expect(page.locator("#stakeholder-form")).to_contain_text(
        "Ministry of Health (MOH) is already in the plan's stakeholder map."
    )
    assert Stakeholder.objects.filter(plan=plan).count() == len(MAP)

    # The grid: every quadrant filled, each stakeholder in its own, with the strategy it implies.
    page.goto(f"/plans/{plan.pk}/stakeholders/")
    for quadrant in QUADRANTS:
        cell = page.locator(f"#quadrant-{quadrant.key}")
        expect(cell.get_by_role("heading", name=str(quadrant.label), level=3)).to_be_visible()
        expect(cell).to_contain_text(str(quadrant.strategy))
        placed = [name for name, key in QUADRANT_OF.items() if key == quadrant.key]
        assert placed, quadrant.key
        for name in placed:
            expect(cell).to_contain_text(name)
        for name in set(QUADRANT_OF) - set(placed):
            expect(cell).not_to_contain_text(name)
    expect(page.locator("#quadrant-manage_closely")).to_contain_text("influence 4, interest 4")
    expect(page.locator("#stakeholder-chart circle")).to_have_count(len(MAP))
    expect(page.locator("#stakeholder-chart circle[data-quadrant=manage_closely]")).to_have_count(2)
    table = page.locator("#stakeholder-table")
    health = table.locator("tr", has_text="Ministry of Health (MOH)")
    expect(health).to_contain_text("Manage closely")
    expect(health).to_contain_text("Collaborating")
    expect(health).to_contain_text(str(lead))
    expect(table.locator("tr", has_text="World Bank (WB)")).to_contain_text("Keep satisfied")

    # Coverage: the areas and sectors no engaged stakeholder (consulted, involved, collaborating) covers. The World
    # Bank (P2, finance) is still to engage and the disaster agency (R1) only informed: neither counts.
    areas = page.locator("#uncovered-areas li")
    for code in ("R1", "D2", "PoE"):
        expect(areas.filter(has_text=re.compile(rf"^{code} "))).to_have_count(1)
    for code in ("P1", "P2", "D1"):
        expect(areas.filter(has_text=re.compile(rf"^{code} "))).to_have_count(0)
    sectors = page.locator("#uncovered-sectors")
    for uncovered in ("Environment", "Finance", "Disaster management", "Agriculture"):
        expect(sectors.locator("li", has_text=uncovered)).to_have_count(1)
    for covered in ("Human health", "Animal health"):
        expect(sectors.locator("li", has_text=covered)).to_have_count(0)

    # The World Bank engaged: finance is covered, and P2 still (the Ministry of Health's).
    page.locator("#stakeholder-table tr", has_text="World Bank (WB)").get_by_role("link", name="Edit").click()
    form = page.locator("#stakeholder-form")
    field(form, "Relationship").select_option(label="Consulted")
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("World Bank (WB) saved.")
    expect(page.locator("#uncovered-sectors li", has_text="Finance")).to_have_count(0)
    expect(page.locator("#uncovered-sectors li", has_text="Environment")).to_have_count(1)

    # The register: a person without an account.
    page.get_by_role("main").get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", name="People", level=1)).to_be_visible()
    page.get_by_role("main").get_by_role("button", name="Add a person").click()
    form = page.locator("#person-form")
    field(form, "Name").fill("Amina Diallo")
    field(form, "Title").fill("Director of Surveillance")
    field(form, "Organization").select_option(label="Ministry of Health (MOH)")
    field(form, "E-mail address").fill("amina@example.org")
    field(form, "Sector").select_option(label="Human health")
    form.get_by_role("button", name="Add to the register").click()
    expect(page.get_by_role("heading", name="Amina Diallo", level=1)).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("Amina Diallo added to the register.")
    amina = Person.objects.get(plan=plan)

    # The same e-mail again (another spelling, her phone): refused, with the offer to merge.
    page.goto(f"/plans/{plan.pk}/people/new/")
    form = page.locator("#person-form")
    field(form, "Name").fill("A. Diallo")
    field(form, "Organization").select_option(label="WHO Country Office (WHO)")
    field(form, "E-mail address").fill("Amina@Example.org")
    field(form, "Phone").fill("+999 555 0101")
    form.get_by_role("button", name="Add to the register").click()
    expect(page.locator("#person-form")).to_contain_text(
        "Amina Diallo already has this e-mail address in the plan's register: merge the two records instead."
    )
    offer = page.locator("#duplicate-offer")
    expect(offer).to_contain_text("Amina Diallo is already in the register.")
    assert Person.objects.filter(plan=plan).count() == 1
    offer.get_by_role("button", name="Merge with Amina Diallo…").click()

    expect(page.get_by_role("heading", name="Merge into Amina Diallo", level=1)).to_be_visible()
    merge = page.locator("#merge-form")
    phone = merge.locator("tr", has_text="Phone")
    expect(phone).to_contain_text("+999 555 0101")
    expect(phone.get_by_label("Take the other value")).to_be_checked()  # the record had none
    name = merge.locator("tr", has=page.get_by_role("rowheader", name="Name", exact=True))
    expect(name).to_contain_text("A. Diallo")
    expect(name.get_by_label("Keep the record's value")).to_be_checked()
    merge.get_by_role("button", name="Merge").click()

    expect(page.get_by_role("heading", name="Amina Diallo", level=1)).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("The records were merged into Amina Diallo.")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("+999 555 0101")
    expect(facts).to_contain_text("Ministry of Health (MOH)")
    expect(facts).to_contain_text("amina@example.org")
    amina.refresh_from_db()
    assert (Person.objects.filter(plan=plan).count(), amina.phone, amina.name) == (1, "+999 555 0101", "Amina Diallo")
    page.goto(f"/plans/{plan.pk}/people/")
    expect(page.locator("main")).to_contain_text("1 person.")


@pytest.fixture
def drawn_map(plan, organizations):
    """The map of the first test, drawn by the models (this test is about reading it)."""
    scale = {"Low": 1, "Fairly low": 2, "Fairly high": 3, "High": 4}
    for name, influence, interest, relationship, _roles, _sectors, _areas in MAP:
        acronym = name.rsplit("(", 1)[1].rstrip(")")
        Stakeholder.objects.create(
            plan=plan,
            organization=organizations[acronym],
            influence=scale[influence],
            interest=scale[interest],
            relationship=relationship.lower().replace(" ", "_"),
        )


def inside(inner: dict | None, outer: dict | None, slack: float = 1) -> bool:
    assert inner and outer
    return (
        inner["x"] >= outer["x"] - slack
        and inner["y"] >= outer["y"] - slack
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack
    )


def test_the_map_reads_right_to_left_in_arabic(page: Page, plan, people, lead, drawn_map):
    translations.catalogues_compile()
    User.objects.filter(pk=lead.pk).update(language="ar")
    log_in(page, lead.username)
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    page.goto(f"/plans/{plan.pk}/stakeholders/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.wait_for_load_state("networkidle")

    # Nothing runs off the page sideways.
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"
    )
    assert widths["scroll"] <= widths["client"], widths
    chart = page.locator("#stakeholder-chart svg")
    expect(chart).to_be_visible()
    viewport = {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": 10_000}
    assert inside(chart.bounding_box(), viewport)
    main = page.locator("main").bounding_box()
    with translation.override("ar"):
        labels = {quadrant.key: (str(quadrant.label), str(quadrant.strategy)) for quadrant in QUADRANTS}
    for key, (label, strategy) in labels.items():
        cell = page.locator(f"#quadrant-{key}")
        expect(cell.get_by_role("heading", level=3)).to_have_text(label)
        expect(cell).to_contain_text(strategy)
        assert inside(cell.bounding_box(), main), key
    expect(page.locator("#quadrant-manage_closely")).to_contain_text("Ministry of Health (MOH)")
    expect(page.locator("#quadrant-monitor")).to_contain_text("National Disaster Management Agency (NDMA)")

    # The dots, all within the chart; interest grows towards the left: the highly interested stand left of the middle.
    circles = chart.locator("circle")
    expect(circles).to_have_count(len(MAP))
    box = chart.bounding_box()
    for index in range(len(MAP)):
        assert inside(circles.nth(index).bounding_box(), box)
    middle = box["x"] + box["width"] / 2
    for key, side in (
        ("manage_closely", "left"),
        ("keep_informed", "left"),
        ("keep_satisfied", "right"),
        ("monitor", "right"),
    ):
        dots = chart.locator(f"circle[data-quadrant={key}]")
        for index in range(dots.count()):
            dot = dots.nth(index).bounding_box()
            assert dot
            centre = dot["x"] + dot["width"] / 2
            assert (centre < middle) == (side == "left"), (key, centre, middle)
    # The table of stakeholders scrolls within its own frame if it must, never the page.
    table = page.locator("#stakeholder-table").locator("xpath=..")
    assert inside(table.bounding_box(), main)
