"""What the browser tests share: the browser's settings and the steps every test takes (log in, open a plan)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAPTOP = {"width": 1280, "height": 800}
LOGIN_LABEL = re.compile(r"user ?name", re.IGNORECASE)  # "User name or e-mail"


def log_in(page: Page, login: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name=LOGIN_LABEL).fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def field(form, label: str):
    """A form control by its label, exactly; Django's labels end with a colon."""
    return form.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def plan_nav(page: Page):
    """The plan's sidebar, the page's one complementary landmark: by its role alone, since its name ("Plan") is
    translated and the sidebar is looked for in other languages too."""
    return page.get_by_role("complementary")


def open_plan(page: Page, plan) -> None:
    expect(page.get_by_role("heading", name="My plans", level=1)).to_be_visible()
    page.get_by_role("link", name=plan.title).click()
    expect(plan_nav(page)).to_be_visible()


def choose_language(page: Page, name: str, button: str) -> None:
    """With the keyboard: the chooser's list, then its button."""
    chooser = page.get_by_role("banner").get_by_role("combobox")
    chooser.focus()
    chooser.select_option(label=name)
    page.keyboard.press("Tab")
    expect(page.get_by_role("banner").get_by_role("button", name=button)).to_be_focused()
    page.keyboard.press("Enter")


def sidebar_side(page: Page) -> str:
    sidebar = plan_nav(page).bounding_box()
    main = page.locator("main").bounding_box()
    assert sidebar and main
    return "left" if sidebar["x"] + sidebar["width"] <= main["x"] else "right"
