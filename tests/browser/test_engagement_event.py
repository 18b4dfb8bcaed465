"""An engagement event in a real browser, as the secretariat records one: a three-day provincial consultation, its
participants from the register, a filled sign-in sheet uploaded, a decision linked to an activity, and the
participation summary by sector and organization."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from planning.models import Activity, TechnicalArea
from stakeholders.attendance import attendance_sheet
from stakeholders.models import EngagementEvent, Participant, Person
from tests.browser.pages import field, log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def register(plan, moh, moa):
    Activity.objects.create(
        plan=plan,
        technical_area=TechnicalArea.objects.get(framework__code="JEE3", code="P1"),
        title="Update the public health law",
    )
    people = [
        ("Amina Diallo", moh, "amina@example.org", "human_health"),
        ("Bertrand Okafor", moa, "b@example.org", "animal_health"),
        ("Chen Wei", moh, "chen@example.org", "human_health"),
    ]
    return [
        Person.objects.create(plan=plan, name=name, organization=organization, email=email, sector=sector)
        for name, organization, email, sector in people
    ]


def test_the_secretariat_records_a_provincial_consultation(page: Page, plan, lead, register, tmp_path):
    log_in(page, lead.username)
    expect(page.get_by_role("heading", name="My plans", level=1)).to_be_visible()
    page.goto(f"/plans/{plan.pk}/events/")
    page.get_by_role("button", name="Record an event").or_(page.get_by_role("link", name="Record an event")).click()
    form = page.locator("#event-form")
    field(form, "Type").select_option(label="Consultation")
    field(form, "Title").fill("Provincial consultative session")
    field(form, "First day").fill("2026-03-02")
    field(form, "Last day").fill("2026-03-01")
    field(form, "Place").fill("Northtown")
    form.get_by_role("button", name="Record event").click()
    expect(page.locator("#event-form")).to_contain_text("is before the first day")
    field(page.locator("#event-form"), "Last day").fill("2026-03-04")
    page.locator("#event-form").get_by_role("button", name="Record event").click()
    expect(page.get_by_role("heading", name="Provincial consultative session", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("3 days")
    event = EngagementEvent.objects.get()

    page.get_by_role("button", name="Add participants").click()
    page.get_by_label("Amina Diallo").check()
    page.get_by_label("Bertrand Okafor").check()
    page.get_by_role("button", name="Add the people chosen").click()
    expect(page.locator("#participants")).to_contain_text("Amina Diallo")
    expect(page.locator("#participants")).to_contain_text("Bertrand Okafor")

    # The filled sign-in sheet: Amina came, Bertrand did not, Chen signed in by hand.
    book = load_workbook(io.BytesIO(attendance_sheet(event=event)))
    sheet = book.worksheets[0]
    headings = [cell.value for cell in sheet[4]]
    column = {name: headings.index(name) + 1 for name in ("Name", "Organization", "Attended")}
    for row in (5, 6):
        name = sheet.cell(row=row, column=column["Name"]).value
        sheet.cell(row=row, column=column["Attended"], value="yes" if name == "Amina Diallo" else "no")
    sheet.cell(row=7, column=column["Name"], value="chen wei")
    sheet.cell(row=7, column=column["Organization"], value="MOH")
    sheet.cell(row=7, column=column["Attended"], value="yes")
    path = tmp_path / "sign-in.xlsx"
    book.save(path)
    page.get_by_role("link", name="Import a filled sheet").click()
    page.get_by_label("Filled attendance sheet").set_input_files(str(path))
    page.get_by_role("button", name="Import the sheet").click()
    expect(page.locator(".messages")).to_contain_text("Added: 1; changed: 2")
    assert sorted(Participant.objects.filter(attended=True).values_list("person__name", flat=True)) == [
        "Amina Diallo",
        "Chen Wei",
    ]

    page.get_by_role("button", name="Record a decision").click()
    decision = page.locator("#decision-form")
    field(decision, "Decision").fill("Revise the public health law before the validation meeting.")
    field(decision, "Activities").select_option(label="Update the public health law")
    decision.get_by_role("button", name="Save decision").click()
    expect(page.locator("article.decision")).to_contain_text("Update the public health law")

    page.goto(f"/plans/{plan.pk}/events/participation/")
    expect(page.get_by_role("heading", name="Participation in engagement events", level=1)).to_be_visible()
    sector_row = page.locator("tr", has_text="Human health")
    expect(sector_row).to_contain_text("2")
    expect(page.locator("main")).to_contain_text("Ministry of Agriculture")
    expect(page.locator("main")).not_to_contain_text("Amina")
