"""Choosing a language in the header, as a person does: Arabic mirrors the page (right to left, the plan's
sidebar on the right), French keeps it left to right; the choice is the account's, so it is still there after
signing out and in again on a browser that kept nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from naphs.permissions import Role
from stakeholders.models import User
from tests import translations
from tests.browser.pages import choose_language, log_in, open_plan, plan_nav, sidebar_side

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture(autouse=True)
def _catalogues_compiled():
    translations.catalogues_compile()


def sign_out_and_in_elsewhere(page: Page, person: User, log_out: str) -> None:
    page.get_by_role("banner").locator("summary").click()
    page.get_by_role("button", name=log_out).click()
    page.context.clear_cookies()  # another browser: nothing kept but the account
    log_in(page, person.username)


@pytest.mark.parametrize(
    ("name", "code", "direction", "side", "button", "log_out", "my_plans"),
    [
        ("العربية", "ar", "rtl", "right", "تغيير اللغة", "تسجيل الخروج", "خططي"),
        ("Français", "fr", "ltr", "left", "Changer de langue", "Se déconnecter", "Mes plans"),
    ],
)
def test_the_chosen_language_sets_direction_and_follows_the_person(
    page, plan, people, name, code, direction, side, button, log_out, my_plans
):
    lead = people[Role.SECRETARIAT_LEAD]
    log_in(page, lead.username)
    open_plan(page, plan)
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "ltr")
    assert sidebar_side(page) == "left"

    choose_language(page, name, "Change language")

    expect(html).to_have_attribute("lang", code)
    expect(html).to_have_attribute("dir", direction)
    expect(plan_nav(page)).to_be_visible()  # back on the plan's page it was chosen on
    assert sidebar_side(page) == side
    expect(page.get_by_role("banner").get_by_role("link", name=my_plans)).to_be_visible()
    lead.refresh_from_db()
    assert lead.language == code

    sign_out_and_in_elsewhere(page, lead, log_out)
    expect(html).to_have_attribute("lang", code)
    expect(html).to_have_attribute("dir", direction)
    expect(page.get_by_role("banner").get_by_role("combobox")).to_have_value(code)
    page.get_by_role("link", name=plan.title).click()
    assert sidebar_side(page) == side


def test_a_name_in_arabic_reads_right_to_left_in_an_english_page_and_latin_left_to_right_in_an_arabic_one(
    page, plan, people
):
    plan.title = "خطة العمل الوطنية 2026–2030"
    plan.save()
    log_in(page, people[Role.SECRETARIAT_LEAD].username)
    open_plan(page, plan)
    heading = page.get_by_role("heading", level=1)
    assert heading.evaluate("element => getComputedStyle(element).unicodeBidi") == "plaintext"

    page.goto(f"/plans/{plan.pk}/settings/")
    title = page.locator("input[name=title]")
    assert title.evaluate("element => element.matches(':dir(rtl)')")  # in an English page
    title.fill("Demoland national plan")
    assert title.evaluate("element => element.matches(':dir(ltr)')")

    choose_language(page, "العربية", "Change language")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    title = page.locator("input[name=title]")
    assert title.evaluate("element => element.matches(':dir(rtl)')")
    title.fill("Demoland national plan")
    assert title.evaluate("element => element.matches(':dir(ltr)')")  # Latin text in an Arabic page
