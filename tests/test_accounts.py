"""Accounts and the pages around them: logging in and out, passwords, the home page, opening a plan."""

from __future__ import annotations

import html
import re

import pytest

from naphs.permissions import Role
from planning.models import Plan
from stakeholders.models import PlanMembership, User
from stakeholders.services import invitation_create
from tests.conftest import PASSWORD, give_grant, make_user

pytestmark = pytest.mark.django_db

# The home page runs this many queries whatever the number of plans (measured, then pinned).
HOME_PAGE_QUERIES = 7  # one of them: the invitations waiting for an answer


def field_error(response, field_id: str) -> str:
    """The first error rendered right beside the field with this id, or "" when there is none."""
    match = re.search(rf'<small class="field-error" id="{field_id}_error">(.*?)</small>', response.content.decode())
    return html.unescape(match.group(1)) if match else ""


def alert(response) -> str:
    match = re.search(r'<div class="alert alert-error" role="alert">(.*?)</div>', response.content.decode(), re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def signed_in_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")


def plan_cards(response) -> dict[str, str]:
    """The home page's plans: title -> the role shown on its card."""
    body = response.content.decode()
    cards = re.findall(
        r'<h3><a href="/plans/\d+/">(.*?)</a></h3>.*?<span class="badge badge-role">(.*?)</span>', body, re.S
    )
    return {html.unescape(title): role for title, role in cards}


# Logging in and out


def test_a_wrong_password_shows_a_clear_error_and_does_not_sign_in(client, lead):
    response = client.post("/accounts/login/", {"username": "secretariat_lead", "password": "not-the-password"})

    assert response.status_code == 200
    assert "password" in alert(response).lower()
    assert response.context["form"].non_field_errors()
    assert signed_in_user_id(client) is None
    lead.refresh_from_db()
    assert lead.last_login is None


@pytest.mark.parametrize("name", ["secretariat_lead", "secretariat_lead@example.org", "Secretariat_Lead@Example.org"])
def test_logging_in_with_the_user_name_or_the_email_works(client, lead, name):
    response = client.post("/accounts/login/", {"username": name, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_user_id(client) == str(lead.pk)


def test_logging_in_returns_to_the_page_asked_for(client, plan, lead):
    asked = client.get(f"/plans/{plan.pk}/members/")
    assert asked["Location"] == f"/accounts/login/?next=/plans/{plan.pk}/members/"

    response = client.post(
        "/accounts/login/", {"username": "secretariat_lead", "password": PASSWORD, "next": f"/plans/{plan.pk}/members/"}
    )

    assert response["Location"] == f"/plans/{plan.pk}/members/"


def test_an_invited_person_cannot_log_in_before_setting_a_password(client, plan, lead):
    invitation_create(plan=plan, by=lead, email="invited@example.org", role=Role.VIEWER)

    response = client.post("/accounts/login/", {"username": "invited@example.org", "password": ""})

    assert response.status_code == 200
    assert signed_in_user_id(client) is None


def test_logging_out_needs_a_post(client, lead):
    client.force_login(lead)

    refused = client.get("/accounts/logout/")
    assert refused.status_code == 405
    assert signed_in_user_id(client) == str(lead.pk)

    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert signed_in_user_id(client) is None
    assert client.get("/")["Location"].startswith("/accounts/login/")


# Passwords


def test_changing_the_password_keeps_the_person_signed_in(client, lead):
    client.force_login(lead)

    wrong = client.post(
        "/accounts/password/",
        {"old_password": "nope", "new_password1": "fresh-passphrase-2026", "new_password2": "fresh-passphrase-2026"},
    )
    assert wrong.status_code == 200
    assert "incorrectly" in field_error(wrong, "id_old_password")
    lead.refresh_from_db()
    assert lead.check_password(PASSWORD)

    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "fresh-passphrase-2026", "new_password2": "fresh-passphrase-2026"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/done/"
    lead.refresh_from_db()
    assert lead.check_password("fresh-passphrase-2026")
    assert client.get("/").status_code == 200  # still signed in


def test_a_mismatched_new_password_is_shown_next_to_the_confirmation(client, lead):
    client.force_login(lead)

    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "fresh-passphrase-2026", "new_password2": "fresh-passphrase-2027"},
    )

    assert response.status_code == 200
    assert "didn’t match" in field_error(response, "id_new_password2")
    lead.refresh_from_db()
    assert lead.check_password(PASSWORD)


def reset_link(email_body: str) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/password/reset/[\w-]+/[\w-]+/)", email_body).group(1)


def test_a_password_reset_for_a_known_address_sends_a_link_that_sets_a_new_password(
    client, lead, mailoutbox, django_capture_on_commit_callbacks
):
    # The e-mail goes out through the worker once the request's work is committed.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": "SECRETARIAT_LEAD@example.org"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert [email.to for email in mailoutbox] == [["secretariat_lead@example.org"]]
    assert mailoutbox[0].subject == "Set a new password for NAPHS Planner"
    opened = client.get(reset_link(mailoutbox[0].body), follow=True)
    assert opened.context["validlink"] is True
    done = client.post(
        opened.redirect_chain[-1][0], {"new_password1": "reset-passphrase-77", "new_password2": "reset-passphrase-77"}
    )
    assert done["Location"] == "/accounts/password/reset/done/"
    lead.refresh_from_db()
    assert lead.check_password("reset-passphrase-77")


def test_a_password_reset_link_printed_to_the_console_in_the_embedded_mode_works_as_printed(
    client, lead, settings, capsys, django_capture_on_commit_callbacks
):
    settings.MAILERS = {"default": {"BACKEND": "naphs.mail.ConsoleEmailBackend"}}  # the embedded mode's mailer
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": lead.email}, HTTP_HOST="127.0.0.1:8000")
    printed = capsys.readouterr().out
    links = [line.strip() for line in printed.splitlines() if line.startswith("http://127.0.0.1:8000/")]
    assert len(links) == 1, printed
    opened = client.get(links[0].removeprefix("http://127.0.0.1:8000"), follow=True, HTTP_HOST="127.0.0.1:8000")
    assert opened.context["validlink"] is True, printed


def test_a_password_reset_also_reaches_an_invited_person_who_never_set_a_password(
    client, plan, lead, mailoutbox, django_capture_on_commit_callbacks
):
    # An account made without a password, as invitations did before they had to be accepted.
    invited = User(username="lost.invitation@example.org", email="lost.invitation@example.org")
    invited.set_unusable_password()
    invited.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": "lost.invitation@example.org"})

    assert response["Location"] == "/accounts/password/reset/sent/"
    assert [email.to for email in mailoutbox] == [["lost.invitation@example.org"]]
    opened = client.get(reset_link(mailoutbox[0].body), follow=True)
    client.post(
        opened.redirect_chain[-1][0], {"new_password1": "found-it-at-last-1", "new_password2": "found-it-at-last-1"}
    )
    login = client.post(
        "/accounts/login/", {"username": "lost.invitation@example.org", "password": "found-it-at-last-1"}
    )
    assert login.status_code == 302
    assert signed_in_user_id(client) == str(User.objects.get(email="lost.invitation@example.org").pk)


def without_csrf_token(response) -> str:
    """The page without its CSRF tokens (htmx's header and the header's language chooser), which differ per request."""
    page = re.sub(r'"X-CSRFToken": "[^"]*"', "", response.content.decode())
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)


def test_a_password_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(
    client, lead, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post("/accounts/password/reset/", {"email": "secretariat_lead@example.org"}, follow=True)
    assert len(mailoutbox) == 1
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.org"}, follow=True)

    assert unknown.redirect_chain == known.redirect_chain == [("/accounts/password/reset/sent/", 302)]
    assert without_csrf_token(unknown) == without_csrf_token(known)
    assert mailoutbox == []


# The home page


def test_the_home_page_lists_only_my_plans_with_my_role_in_each(client, plan, provincial_plan, people, other_country):
    Plan.objects.create(jurisdiction=other_country, title="Elsewhere NAPHS", first_year=2026, last_year=2030)
    reviewer = people["reviewer"]
    PlanMembership.objects.create(plan=provincial_plan, user=reviewer, role=Role.SECRETARIAT_MEMBER)
    client.force_login(reviewer)

    response = client.get("/")

    assert response.status_code == 200
    assert plan_cards(response) == {plan.title: "Reviewer", provincial_plan.title: "Secretariat member"}
    assert "Elsewhere NAPHS" not in response.content.decode()
    assert 'href="/plans/new/"' in response.content.decode()  # a secretariat member may open plans under theirs


def test_someone_without_plans_is_told_how_to_join_and_cannot_open_one(client, people):
    client.force_login(people["outsider"])

    response = client.get("/")

    body = response.content.decode()
    assert "You are not a member of any plan." in body
    assert plan_cards(response) == {}
    assert 'href="/plans/new/"' not in body


@pytest.mark.parametrize("count", [1, 25])
def test_the_home_page_runs_a_constant_number_of_queries(client, plan, province, count, django_assert_max_num_queries):
    user = make_user("busy")
    PlanMembership.objects.create(plan=plan, user=user, role=Role.SECRETARIAT_LEAD)
    for number in range(count - 1):
        child = Plan.objects.create(
            jurisdiction=province, title=f"Plan {number}", first_year=2026, last_year=2030, parent=plan
        )
        PlanMembership.objects.create(plan=child, user=user, role=Role.VIEWER)
    client.force_login(user)

    with django_assert_max_num_queries(HOME_PAGE_QUERIES):
        response = client.get("/")

    assert len(plan_cards(response)) == count


# Opening a plan


def plan_form(**overrides) -> dict:
    return {
        "title": "Testland NAPHS 2031–2035",
        "kind": "strategic",
        "first_year": 2031,
        "last_year": 2035,
        **overrides,
    }


def test_a_user_with_a_grant_for_the_country_opens_a_national_plan_and_leads_it(client, country, people):
    user = people["outsider"]
    give_grant(user, country)
    client.force_login(user)

    response = client.post("/plans/new/", plan_form(jurisdiction=country.pk, parent=""))

    plan = Plan.objects.get(title="Testland NAPHS 2031–2035")
    assert response.status_code == 302
    assert response["Location"] == f"/plans/{plan.pk}/members/"
    assert (plan.jurisdiction, plan.parent, plan.kind, plan.first_year, plan.last_year) == (
        country,
        None,
        "strategic",
        2031,
        2035,
    )
    assert list(plan.memberships.values_list("user", "role")) == [(user.pk, Role.SECRETARIAT_LEAD)]


def test_a_secretariat_member_opens_a_provincial_plan_under_theirs(client, plan, province, people):
    member = people[Role.SECRETARIAT_MEMBER]
    client.force_login(member)

    opened = client.get(f"/plans/new/?parent={plan.pk}")
    assert opened.status_code == 200
    assert opened.context["form"]["parent"].value() == plan.pk
    response = client.post(
        "/plans/new/",
        plan_form(
            title="North Province NAPHS", jurisdiction=province.pk, parent=plan.pk, first_year=2026, last_year=2030
        ),
    )

    child = Plan.objects.get(title="North Province NAPHS")
    assert response["Location"] == f"/plans/{child.pk}/members/"
    assert (child.parent, child.jurisdiction) == (plan, province)
    assert list(child.memberships.values_list("user", "role")) == [(member.pk, Role.SECRETARIAT_LEAD)]
    assert PlanMembership.objects.get(plan=plan, user=member).role == Role.SECRETARIAT_MEMBER


def test_reversed_years_show_the_error_next_to_the_last_year_and_nothing_is_saved(client, plan, province, people):
    client.force_login(people[Role.SECRETARIAT_LEAD])
    plans_before, memberships_before = Plan.objects.count(), PlanMembership.objects.count()

    response = client.post(
        "/plans/new/", plan_form(jurisdiction=province.pk, parent=plan.pk, first_year=2030, last_year=2026)
    )

    assert response.status_code == 200
    assert field_error(response, "id_last_year") == "The last year (2026) precedes the first year (2030)."
    assert field_error(response, "id_first_year") == ""
    assert (Plan.objects.count(), PlanMembership.objects.count()) == (plans_before, memberships_before)


def test_a_year_out_of_range_is_shown_next_to_its_field(client, plan, province, people):
    client.force_login(people[Role.SECRETARIAT_LEAD])

    response = client.post(
        "/plans/new/", plan_form(jurisdiction=province.pk, parent=plan.pk, first_year=1999, last_year=2003)
    )

    assert response.status_code == 200
    assert field_error(response, "id_first_year") == "Enter a year between 2000 and 2100."
    assert not Plan.objects.filter(title="Testland NAPHS 2031–2035").exists()


def test_without_a_grant_a_plan_needs_a_parent_the_person_runs(client, plan, province, country, people):
    client.force_login(people[Role.SECRETARIAT_LEAD])
    national = client.post("/plans/new/", plan_form(jurisdiction=country.pk, parent=""))
    assert national.status_code == 200
    assert "a national plan needs an administrator's grant for its country" in field_error(national, "id_parent")

    client.force_login(people["technical_lead"])
    not_secretariat = client.post("/plans/new/", plan_form(jurisdiction=province.pk, parent=plan.pk))
    assert not_secretariat.status_code == 200
    assert field_error(not_secretariat, "id_parent") == "Choose a plan whose secretariat you are in."

    assert Plan.objects.count() == 1
