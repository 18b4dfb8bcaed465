"""The secretariat's pages as a person uses them in a real browser: logging in, members, the directory export.

Headless Chromium (the system's, never a downloaded one) drives the live server; jobs and e-mail run
eagerly inside the server's thread when its transaction commits.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from naphs.permissions import Role
from stakeholders.models import Invitation, PlanMembership, User
from tests.browser.pages import LAPTOP, LOGIN_LABEL, field, log_in, open_plan, plan_nav
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_a_secretariat_member_invites_people_who_join_only_once_they_accept(
    page, live_server, plan, people, mailoutbox
):
    colleague = make_user("amina_diallo")
    newcomer = "new.focal.point@example.org"
    members_before = PlanMembership.objects.filter(plan=plan).count()

    log_in(page, people[Role.SECRETARIAT_MEMBER].email)
    expect(page).to_have_url(f"{live_server.url}/")
    open_plan(page, plan)
    plan_nav(page).get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Members", level=1)).to_be_visible()
    members = page.locator("table").first.locator("tbody tr")
    expect(members).to_have_count(members_before)

    # Someone with an account: the same answer as for anyone, by address, and they are not a member yet.
    form = page.locator("#add-member")
    field(form, "E-mail address").fill(colleague.email)
    field(form, "Role").select_option(label="Reviewer")
    form.get_by_role("button", name="Send invitation").click()

    expect(page.get_by_role("status").filter(has_text=f"Invitation sent to {colleague.email}")).to_be_visible()
    expect(members).to_have_count(members_before)
    invited = page.locator("#invitations tbody tr")
    expect(invited.filter(has_text=colleague.email)).to_contain_text("Reviewer")
    expect(page.get_by_text("Amina Diallo")).to_have_count(0)
    assert not PlanMembership.objects.filter(plan=plan, user=colleague).exists()

    # A focal point with no organization: the error sits with the Organization field and nothing is saved.
    form = page.locator("#add-member")
    field(form, "E-mail address").fill(newcomer)
    field(form, "Role").select_option(label="Focal point")
    form.get_by_role("button", name="Send invitation").click()

    organization = field(form, "Organization")
    organization_field = form.locator(".field").filter(has=field(page, "Organization"))
    error = organization_field.locator(".field-error")
    expect(error).to_have_text("A focal point must be tied to an organization.")
    expect(organization).to_have_attribute("aria-invalid", "true")
    error_id = error.get_attribute("id")
    assert error_id
    expect(organization).to_have_attribute("aria-describedby", re.compile(rf"\b{error_id}\b"))
    expect(form.locator(".field-error")).to_have_count(1)
    expect(field(form, "E-mail address")).to_have_value(newcomer)
    expect(field(form, "Role")).to_have_value(Role.FOCAL_POINT)
    expect(page.get_by_role("status").filter(has_text="Invitation sent")).to_have_count(0)
    assert not Invitation.objects.filter(email=newcomer).exists()

    organization.select_option(label="Ministry of Agriculture (MOA)")
    form.get_by_role("button", name="Send invitation").click()

    expect(page.get_by_role("status").filter(has_text=f"Invitation sent to {newcomer}")).to_be_visible()
    expect(invited).to_have_count(2)
    expect(invited.filter(has_text=newcomer)).to_contain_text("Focal point")
    assert not User.objects.filter(email=newcomer).exists()
    assert PlanMembership.objects.filter(plan=plan).count() == members_before
    assert [message.to for message in mailoutbox] == [[colleague.email], [newcomer]]
    link = re.search(r"https?://[^/\s]+(/invitations/[\w-]+/)", mailoutbox[-1].body).group(1)

    # The newcomer follows the link, chooses a password, and accepts.
    page.locator("header.topbar summary").click()
    page.get_by_role("button", name="Log out").click()
    page.goto(link)
    expect(page.get_by_role("heading", name="You are invited to a plan")).to_be_visible()
    expect(page.locator("#invitation")).to_contain_text(plan.title)
    field(page, "First name").fill("Nadia")
    field(page, "New password").fill("a-long-new-passphrase-42")
    field(page, "New password confirmation").fill("a-long-new-passphrase-42")
    page.get_by_role("button", name="Set password and continue").click()
    expect(page.get_by_role("status").filter(has_text="Your account is ready")).to_be_visible()
    page.get_by_role("button", name="Accept and join").click()

    welcome = page.get_by_role("status").filter(has_text="Welcome to")
    expect(welcome).to_have_text(f"Welcome to “{plan.title}”. Your role in this plan: Focal point.")
    expect(plan_nav(page)).to_be_visible()
    joined = PlanMembership.objects.select_related("user", "organization").get(plan=plan, user__email=newcomer)
    assert (joined.role, joined.organization.acronym, joined.user.first_name) == (Role.FOCAL_POINT, "MOA", "Nadia")

    # The colleague with an account finds the invitation on their home page once they log in.
    page.locator("header.topbar summary").click()
    page.get_by_role("button", name="Log out").click()
    log_in(page, colleague.username)
    invitation = page.locator("#my-invitations article")
    expect(invitation).to_contain_text(plan.title)
    invitation.get_by_role("button", name="Decline").click()
    expect(page.get_by_role("status")).to_have_text(f"You declined the invitation to “{plan.title}”.")
    expect(page.locator("#my-invitations")).to_have_count(0)
    assert not PlanMembership.objects.filter(plan=plan, user=colleague).exists()


def test_a_wrong_password_shows_the_error_and_stays_on_the_login_page(page, live_server, people):
    log_in(page, people[Role.SECRETARIAT_MEMBER].username, password="not-the-password")

    expect(page.get_by_role("alert")).to_contain_text(re.compile(r"password", re.IGNORECASE))
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("textbox", name=LOGIN_LABEL)).to_have_value(people[Role.SECRETARIAT_MEMBER].username)
    expect(page.get_by_role("link", name="My plans")).to_have_count(0)


def test_changing_a_role_inline_updates_the_row_without_reloading_the_page(page, plan, people):
    viewer = people[Role.VIEWER]
    membership = PlanMembership.objects.get(plan=plan, user=viewer)

    log_in(page, people[Role.SECRETARIAT_LEAD].username)
    page.goto(f"/plans/{plan.pk}/members/")
    page.evaluate("window.__sameDocument = true")

    row = page.locator(f"#member-{membership.pk}")
    expect(row.get_by_role("cell").nth(1)).to_contain_text("Viewer")
    # The row turns into its editor in place, and Cancel turns it back.
    row.get_by_role("button", name=f"Change the role of {viewer}").click()
    row.get_by_role("button", name="Cancel").click()
    expect(row.get_by_role("combobox")).to_have_count(0)

    row.get_by_role("button", name=f"Change the role of {viewer}").click()
    row.get_by_label(f"Role of {viewer}", exact=True).select_option(label="Technical lead")
    with page.expect_response(lambda r: r.url.endswith(f"/members/{membership.pk}/")) as response:
        row.get_by_role("button", name="Save").click()
    assert response.value.status == 200
    assert response.value.request.headers.get("hx-request") == "true"

    expect(row.get_by_role("status")).to_have_text(f"New role of {viewer}: Technical lead.")
    expect(row.get_by_role("cell").nth(1)).to_contain_text("Technical lead")
    assert page.evaluate("window.__sameDocument") is True
    membership.refresh_from_db()
    assert membership.role == Role.TECHNICAL_LEAD

    # The editor opened again carries the new version, so a second change is not an edit conflict.
    row.get_by_role("button", name=f"Change the role of {viewer}").click()
    row.get_by_label(f"Role of {viewer}", exact=True).select_option(label="Reviewer")
    row.get_by_role("button", name="Save").click()
    expect(row.get_by_role("status")).to_have_text(f"New role of {viewer}: Reviewer.")
    assert page.evaluate("window.__sameDocument") is True
    membership.refresh_from_db()
    assert membership.role == Role.REVIEWER

    # A refused change comes back into the same row with its error, and the database keeps the old role.
    row.get_by_role("button", name=f"Change the role of {viewer}").click()
    row.get_by_label(f"Role of {viewer}", exact=True).select_option(label="Focal point")
    row.get_by_label(f"Organization of {viewer}").select_option(label="— no organization —")
    row.get_by_role("button", name="Save").click()
    expect(row.locator(".field-error")).to_have_text("A focal point must be tied to an organization.")
    expect(row.get_by_label(f"Organization of {viewer}")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("window.__sameDocument") is True
    membership.refresh_from_db()
    assert (membership.role, membership.organization.acronym) == (Role.REVIEWER, "MOH")


def test_the_directory_export_shows_its_progress_then_a_download_of_the_workbook(page, plan, people):
    log_in(page, people[Role.SECRETARIAT_MEMBER].username)
    page.goto(f"/plans/{plan.pk}/directory/")
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("button", name="Export to Excel").click()
    job = page.locator("#export-job .job")
    expect(job).to_contain_text("Directory export (Excel)")
    download_link = job.get_by_role("link", name="Download")
    expect(download_link).to_be_visible(timeout=15_000)
    expect(job.locator("[data-status]")).to_have_attribute("data-status", "succeeded")
    assert page.evaluate("window.__sameDocument") is True

    with page.expect_download() as download_info:
        download_link.click()
    download = download_info.value
    assert download.suggested_filename.endswith("-directory.xlsx")
    content = Path(download.path()).read_bytes()
    assert zipfile.is_zipfile(io.BytesIO(content))
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    cells = {str(value) for row in workbook["Members"].iter_rows(values_only=True) for value in row if value}
    member_emails = {people[role.value].email for role in Role}
    assert member_emails <= cells
    assert people["outsider"].email not in cells


def test_a_reviewer_sees_no_secretariat_links_and_is_refused_the_members_page(page, plan, people):
    log_in(page, people[Role.REVIEWER].email)
    open_plan(page, plan)

    nav = plan_nav(page)
    expect(nav.get_by_role("link", name="Overview")).to_be_visible()
    expect(nav.get_by_role("link", name="Directory")).to_be_visible()
    expect(nav.get_by_role("link", name="Members")).to_have_count(0)
    expect(nav.get_by_role("link", name="Settings")).to_have_count(0)

    response = page.goto(f"/plans/{plan.pk}/members/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_text("Your role in this plan (Reviewer) does not allow this.")).to_be_visible()
    expect(page.get_by_role("heading", name="Members")).to_have_count(0)


def test_the_members_page_fits_a_laptop_screen_without_scrolling_sideways(page, plan, people, tmp_path):
    # Long names and addresses are what push a table wider than the screen.
    for index in range(3):
        user = make_user(f"maria_fernanda_de_los_santos_rodriguez_{index}")
        user.email = f"maria.fernanda.de.los.santos.rodriguez.{index}@ministry-of-health.example.org"
        user.save()
        PlanMembership.objects.create(plan=plan, user=user, role=Role.TECHNICAL_LEAD, organization=None)

    log_in(page, people[Role.SECRETARIAT_LEAD].username)
    page.goto(f"/plans/{plan.pk}/members/")
    expect(page.get_by_role("heading", name="Members", level=1)).to_be_visible()
    assert page.viewport_size == LAPTOP
    # The measurement means something only with the product's stylesheets applied.
    topbar = page.locator("header.topbar")
    expect(topbar).to_have_css("background-color", "rgb(31, 78, 121)")

    page.screenshot(path=tmp_path / "members-1280x800.png", full_page=True)
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"
    )
    assert widths["scroll"] <= widths["client"], f"the page scrolls sideways at 1280×800: {widths}"
