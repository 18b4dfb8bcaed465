"""The secretariat's members page and the membership services: adding, inviting, changing and removing people."""

from __future__ import annotations

import datetime
import html
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.models import Plan
from stakeholders.models import Invitation, Organization, PlanMembership, User
from stakeholders.services import invitation_create
from tests import translations
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

# The members page runs this many queries whatever the number of members (measured, then pinned).
MEMBERS_PAGE_QUERIES = 10
# The home page of someone with invitations: the plans, the invitations and their technical areas.
HOME_PAGE_QUERIES_WITH_INVITATIONS = 8


def members_url(plan: Plan) -> str:
    return f"/plans/{plan.pk}/members/"


def member_url(membership: PlanMembership) -> str:
    return f"/plans/{membership.plan_id}/members/{membership.pk}/"


def field_error(response, field_id: str) -> str:
    """The first error rendered right beside the field with this id, or "" when there is none."""
    match = re.search(rf'<small class="field-error" id="{field_id}_error">(.*?)</small>', response.content.decode())
    return html.unescape(match.group(1)) if match else ""


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def memberships_of(plan: Plan) -> list[tuple]:
    """Everything about the plan's memberships that a change could touch."""
    return sorted(
        PlanMembership.objects.filter(plan=plan).values_list("user__username", "role", "organization_id", "version")
    )


def membership_of(plan: Plan, user: User) -> PlanMembership:
    return PlanMembership.objects.get(plan=plan, user=user)


@pytest.fixture
def secretariat_client(client, lead):
    client.force_login(lead)
    return client


@pytest.fixture
def foreign_organization(other_country) -> Organization:
    return Organization.objects.create(name="Elsewhere Ministry of Health", kind="ministry", jurisdiction=other_country)


# Inviting people: the same answer whoever the address belongs to, and nobody joins before accepting


def link_in(email) -> str:
    """The invitation link an e-mail carries, as a path."""
    return re.search(r"https?://[^/\s]+(/invitations/[\w-]+/)", email.body).group(1)


def invite_on_page(client, plan, captured, **fields) -> tuple:
    """Invite through the members page; the answer, the messages shown after it, and the e-mails it sent."""
    with captured(execute=True) as callbacks:
        response = client.post(members_url(plan), fields)
    shown = page_messages(client.get(members_url(plan))) if response.status_code == 302 else []
    return response, shown, callbacks


def invitations_of(plan: Plan) -> list[tuple]:
    return sorted(Invitation.objects.filter(plan=plan).values_list("email", "role", "status"))


@pytest.fixture
def sent_mail(monkeypatch):
    """Every e-mail handed to the worker's task (email_send_task.delay), in order: (to, subject)."""
    from naphs.tasks import email_send_task

    handed = []
    real_delay = email_send_task.delay

    def delay(*args, **kwargs):
        handed.append((kwargs["to"], kwargs["subject"]))
        return real_delay(*args, **kwargs)

    monkeypatch.setattr(email_send_task, "delay", delay)
    return handed


def test_inviting_answers_the_same_for_an_account_a_member_and_an_unknown_address(
    secretariat_client, plan, people, mailoutbox, sent_mail, django_capture_on_commit_callbacks
):
    addresses = {
        "an account": "  OUTSIDER@Example.ORG ",  # as typed, spaces and capitals included
        "a member": "Viewer@example.org",
        "nobody": "Amina.Diallo@Health.example",
    }
    users_before, memberships_before = User.objects.count(), memberships_of(plan)
    answers = {}
    for who, typed in addresses.items():
        mailoutbox.clear()
        sent_before = len(sent_mail)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = secretariat_client.post(members_url(plan), {"email": typed, "role": Role.REVIEWER})
        assert mailoutbox == [], "nothing is sent before the invitation is committed"
        for callback in callbacks:
            callback()
        shown = page_messages(secretariat_client.get(members_url(plan)))
        answers[who] = (
            response.status_code,
            response["Location"],
            response.content,
            [message.replace(typed.strip(), "<address>") for message in shown],
            len(callbacks),
            len(sent_mail) - sent_before,
            [email.to for email in mailoutbox] == [[typed.strip()]],
        )
        assert shown == [f"Invitation sent to {typed.strip()}"]

    assert answers["an account"] == answers["a member"] == answers["nobody"]
    assert answers["nobody"][:2] == (302, members_url(plan))
    assert answers["nobody"][4:] == (1, 1, True)  # one e-mail, handed to the worker's task after commit
    # Nobody joined, no account was created, and the viewer's membership is untouched.
    assert (User.objects.count(), memberships_of(plan)) == (users_before, memberships_before)
    assert invitations_of(plan) == [
        ("Amina.Diallo@Health.example", "reviewer", "pending"),
        ("OUTSIDER@Example.ORG", "reviewer", "pending"),
        ("Viewer@example.org", "reviewer", "pending"),
    ]


def test_the_members_page_lists_pending_invitations_by_address_and_never_by_name(
    secretariat_client, plan, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        secretariat_client.post(members_url(plan), {"email": "outsider@example.org", "role": "viewer"})
        secretariat_client.post(members_url(plan), {"email": "nobody@example.org", "role": "viewer"})

    page = secretariat_client.get(members_url(plan)).content.decode()

    def row(email: str) -> str:
        invitation = Invitation.objects.get(email=email)
        found = re.search(rf'<tr id="invitation-{invitation.pk}">.*?</tr>', page, re.S).group(0)
        found = found.replace(f"invitation-{invitation.pk}", "<id>").replace(f"/{invitation.pk}/", "/<id>/")
        return re.sub(r'(datetime|value)="[^"]*"', "", found.replace(email, "<address>"))  # times, CSRF tokens

    assert row("outsider@example.org") == row("nobody@example.org")
    assert "Outsider" not in page  # the account's name appears nowhere
    assert not PlanMembership.objects.filter(plan=plan, user=people["outsider"]).exists()


def test_the_invitation_printed_to_the_console_in_the_embedded_mode_opens_as_printed(
    client, plan, lead, settings, capsys, django_capture_on_commit_callbacks
):
    # The embedded mode's mailer (naphs.settings with DEBUG), which the test environment replaces with its outbox.
    settings.MAILERS = {"default": {"BACKEND": "naphs.mail.ConsoleEmailBackend"}}
    # Served on another port than 8000: a character more, and the link no longer fits a quoted-printable line.
    settings.SITE_URL = "http://127.0.0.1:18000"
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(plan=plan, by=lead, email="amina.diallo@health.example", role=Role.REVIEWER)
    printed = capsys.readouterr().out
    assert "“Testland NAPHS 2026–2030”" in printed  # the text as written, not =E2=80=9C...
    links = [line.strip() for line in printed.splitlines() if line.startswith(settings.SITE_URL)]
    assert len(links) == 1, printed
    # Followed exactly as printed (a copy of the whole line), the link opens the invitation.
    opened = client.get(links[0].removeprefix(settings.SITE_URL))
    assert (opened.status_code, opened.context["state"]) == (200, "set_password"), printed


def test_an_account_joins_only_by_accepting_and_the_link_then_stops_working(
    client, plan, people, lead, moh, mailoutbox, django_capture_on_commit_callbacks
):
    invitee = people["outsider"]
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            members_url(plan), {"email": "outsider@example.org", "role": "technical_lead", "organization": moh.pk}
        )
    assert not PlanMembership.objects.filter(plan=plan, user=invitee).exists()
    email = mailoutbox[0]
    assert email.to == ["outsider@example.org"]
    assert "log in" in email.body and "choose a password" not in email.body
    link = link_in(email)
    client.logout()

    # Not signed in: the link asks to log in (or decline); accepting sends to the login page, back here after.
    opened = client.get(link)
    assert (opened.status_code, opened.context["state"]) == (200, "sign_in")
    assert f"/accounts/login/?next={link.replace('/', '%2F')}" in opened.content.decode()
    refused = client.post(link, {"action": "accept", "version": 1})
    assert refused["Location"] == f"/accounts/login/?next={link}"
    assert not PlanMembership.objects.filter(plan=plan, user=invitee).exists()

    client.post("/accounts/login/", {"username": "outsider@example.org", "password": PASSWORD})
    shown = client.get(link)
    assert shown.context["state"] == "respond"
    assert "Accept and join" in shown.content.decode()
    accepted = client.post(link, {"action": "accept", "version": shown.context["invitation"].version})

    assert accepted["Location"] == f"/plans/{plan.pk}/"
    membership = membership_of(plan, invitee)
    assert (membership.role, membership.organization) == (Role.TECHNICAL_LEAD, moh)
    invitation = Invitation.objects.get(plan=plan)
    assert (invitation.status, invitation.accepted_by) == (Invitation.Status.ACCEPTED, invitee)
    assert "Welcome to “Testland NAPHS 2026–2030”. Your role in this plan: Technical lead." in page_messages(
        client.get("/")
    )
    assert [(e.action, e.actor, e.target_type) for e in AuditEvent.objects.filter(plan=plan).order_by("pk")] == [
        ("invited", lead, "invitation"),
        ("joined", invitee, "planmembership"),
        ("accepted the invitation to", invitee, "invitation"),
    ]

    # Used: the link says so, and posting again changes nothing.
    again = client.get(link)
    assert again.status_code == 404
    assert "This invitation link no longer works" in again.content.decode()
    replayed = client.post(link, {"action": "accept", "version": invitation.version})
    assert replayed.status_code == 409
    assert "This invitation was accepted already." in html.unescape(replayed.content.decode())
    assert PlanMembership.objects.filter(plan=plan, user=invitee).count() == 1


def test_someone_without_an_account_chooses_a_password_then_accepts(
    client, plan, lead, mailoutbox, django_capture_on_commit_callbacks
):
    users_before = User.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(plan=plan, by=lead, email="Amina.Diallo@Health.example", role=Role.REVIEWER)
    assert User.objects.count() == users_before  # no account until the person makes one
    email = mailoutbox[0]
    assert "choose a password" in email.body
    link = link_in(email)

    opened = client.get(link)
    assert (opened.status_code, opened.context["state"]) == (200, "set_password")
    assert "Testland NAPHS 2026–2030" in opened.content.decode()
    mismatched = client.post(
        link, {"action": "password", "new_password1": "a-long-new-passphrase-42", "new_password2": "another-one-42"}
    )
    assert mismatched.status_code == 200
    assert User.objects.count() == users_before

    done = client.post(
        link,
        {
            "action": "password",
            "first_name": "Amina",
            "last_name": "Diallo",
            "new_password1": "a-long-new-passphrase-42",
            "new_password2": "a-long-new-passphrase-42",
        },
    )

    assert done["Location"] == link
    account = User.objects.get(email__iexact="amina.diallo@health.example")
    assert (account.username, account.get_full_name()) == ("amina.diallo@health.example", "Amina Diallo")
    assert account.check_password("a-long-new-passphrase-42")
    assert client.session["_auth_user_id"] == str(account.pk)
    assert not PlanMembership.objects.filter(plan=plan, user=account).exists()  # still only invited

    shown = client.get(link)
    assert shown.context["state"] == "respond"
    client.post(link, {"action": "accept", "version": shown.context["invitation"].version})
    assert membership_of(plan, account).role == Role.REVIEWER

    # The link cannot make a second account or set the password again.
    client.logout()
    assert client.get(link).status_code == 404
    replayed = client.post(
        link, {"action": "password", "new_password1": "hijacked-passphrase-9", "new_password2": "hijacked-passphrase-9"}
    )
    assert replayed.status_code == 409
    account.refresh_from_db()
    assert account.check_password("a-long-new-passphrase-42")
    assert "_auth_user_id" not in client.session


def test_an_invitation_shows_on_the_invitees_home_page_and_is_accepted_there(
    client, plan, people, lead, django_capture_on_commit_callbacks
):
    invitee = people["outsider"]
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(plan=plan, by=lead, email="OUTSIDER@example.org", role=Role.VIEWER)
    client.force_login(invitee)

    home = client.get("/").content.decode()
    assert 'id="my-invitations"' in home
    assert "Testland NAPHS 2026–2030" in home
    assert f"/invitations/{invitation.pk}/answer/" in home

    answered = client.post(f"/invitations/{invitation.pk}/answer/", {"action": "accept", "version": invitation.version})

    assert answered["Location"] == f"/plans/{plan.pk}/"
    assert membership_of(plan, invitee).role == Role.VIEWER
    assert 'id="my-invitations"' not in client.get("/").content.decode()


def test_accepting_with_another_account_is_refused_with_a_clear_message(
    client, plan, people, lead, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(plan=plan, by=lead, email="outsider@example.org", role=Role.REVIEWER)
    link = link_in(mailoutbox[0])
    someone_else = make_user("someone_else")
    client.force_login(someone_else)

    opened = client.get(link)
    accepted = client.post(link, {"action": "accept", "version": invitation.version})
    declined = client.post(link, {"action": "decline"})
    answered = client.post(f"/invitations/{invitation.pk}/answer/", {"action": "accept", "version": 1})

    not_yours = "This invitation was sent to another e-mail address than the one of the account you are signed in with."
    for response in (opened, accepted, declined):
        assert response.status_code == 403
        assert not_yours in html.unescape(response.content.decode())
    assert answered.status_code == 404  # from the home page, another address's invitation does not exist
    assert 'id="my-invitations"' not in client.get("/").content.decode()
    assert not PlanMembership.objects.filter(plan=plan, user__in=[someone_else, people["outsider"]]).exists()
    invitation.refresh_from_db()
    assert (invitation.status, invitation.version) == (Invitation.Status.PENDING, 1)


def expire(invitation: Invitation, **_) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))


def revoke(invitation: Invitation, *, lead: User, **_) -> None:
    client = Client()
    client.force_login(lead)
    assert client.post(f"/plans/{invitation.plan_id}/members/invitations/{invitation.pk}/revoke/").status_code == 302


def decline(invitation: Invitation, *, link: str, **_) -> None:
    assert Client().post(link, {"action": "decline"})["Location"] == "/accounts/login/"


@pytest.mark.parametrize(
    ("end", "message", "status"),
    [
        (expire, "This invitation has expired. Ask the plan's secretariat to send it again.", 409),
        (revoke, "This invitation was revoked by the plan's secretariat.", 409),
        (decline, "This invitation was declined.", 409),
    ],
)
def test_an_expired_revoked_or_declined_invitation_is_refused(
    client, plan, people, lead, mailoutbox, django_capture_on_commit_callbacks, end, message, status
):
    invitee = people["outsider"]
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(plan=plan, by=lead, email=invitee.email, role=Role.VIEWER)
    link = link_in(mailoutbox[0])
    with django_capture_on_commit_callbacks(execute=True):
        end(invitation, lead=lead, link=link)
    invitation.refresh_from_db()
    client.force_login(invitee)

    opened = client.get(link)
    accepted = client.post(link, {"action": "accept", "version": invitation.version})
    answered = client.post(f"/invitations/{invitation.pk}/answer/", {"action": "accept", "version": invitation.version})

    assert opened.status_code == 404
    assert "This invitation link no longer works" in opened.content.decode()
    assert message in html.unescape(opened.content.decode())
    assert accepted.status_code == status
    assert message in html.unescape(accepted.content.decode())
    assert message in page_messages(client.get(answered["Location"]))
    assert not PlanMembership.objects.filter(plan=plan, user=invitee).exists()
    assert 'id="my-invitations"' not in client.get("/").content.decode()


def test_a_new_link_replaces_the_old_one_when_the_invitation_is_sent_again(
    client, plan, people, lead, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.PASSWORD_RESET_TIMEOUT = 3600  # INVITATION_TIMEOUT_SECONDS
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(plan=plan, by=lead, email="outsider@example.org", role=Role.VIEWER)
    first_expiry = invitation.expires_at
    assert datetime.timedelta(minutes=59) < first_expiry - timezone.now() <= datetime.timedelta(hours=1)
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/plans/{plan.pk}/members/invitations/{invitation.pk}/resend/", follow=True)

    assert "Invitation sent again to outsider@example.org" in page_messages(response)
    assert [email.to for email in mailoutbox] == [["outsider@example.org"]] * 2
    old, new = link_in(mailoutbox[0]), link_in(mailoutbox[1])
    assert old != new
    invitation.refresh_from_db()
    assert invitation.expires_at > first_expiry
    client.force_login(people["outsider"])
    assert client.get(old).status_code == 404
    assert client.post(old, {"action": "accept", "version": invitation.version}).status_code == 404
    assert not PlanMembership.objects.filter(plan=plan, user=people["outsider"]).exists()
    assert client.get(new).context["state"] == "respond"
    assert AuditEvent.objects.filter(plan=plan, action="sent again the invitation to", actor=lead).count() == 1


def test_inviting_the_same_address_again_refreshes_the_pending_invitation(
    secretariat_client, plan, people, lead, moa, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        secretariat_client.post(members_url(plan), {"email": "kofi@partner.example", "role": "viewer"})
        secretariat_client.post(
            members_url(plan), {"email": "Kofi@Partner.example", "role": "focal_point", "organization": moa.pk}
        )

    invitation = Invitation.objects.get(plan=plan)
    assert (invitation.email, invitation.role, invitation.organization, invitation.version) == (
        "Kofi@Partner.example",
        Role.FOCAL_POINT,
        moa,
        2,
    )
    assert len(mailoutbox) == 2
    assert Client().get(link_in(mailoutbox[0])).status_code == 404
    assert Client().get(link_in(mailoutbox[1])).status_code == 200
    events = list(AuditEvent.objects.filter(plan=plan).order_by("pk").values_list("action", "changes"))
    assert events == [
        ("invited", {"role": [None, "viewer"]}),
        ("invited again", {"role": ["viewer", "focal_point"], "organization": [None, str(moa)]}),
    ]


def test_a_member_who_accepts_an_invitation_keeps_their_membership_as_it_is(
    client, plan, people, lead, django_capture_on_commit_callbacks
):
    viewer = people["viewer"]
    before = memberships_of(plan)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(plan=plan, by=lead, email=viewer.email, role=Role.SECRETARIAT_LEAD)
    client.force_login(viewer)

    answered = client.post(f"/invitations/{invitation.pk}/answer/", {"action": "accept", "version": 1}, follow=True)

    assert "You were already a member of “Testland NAPHS 2026–2030”; your role is unchanged: Viewer." in (
        page_messages(answered)
    )
    assert memberships_of(plan) == before
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED


def test_declining_ends_the_invitation_and_tells_the_secretariat_no_name(
    client, plan, people, lead, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        mine = invitation_create(plan=plan, by=lead, email="outsider@example.org", role=Role.VIEWER)
        unknown = invitation_create(plan=plan, by=lead, email="nobody@example.org", role=Role.VIEWER)
    users_before = User.objects.count()

    client.force_login(people["outsider"])
    declined = client.post(f"/invitations/{mine.pk}/answer/", {"action": "decline"}, follow=True)
    assert "You declined the invitation to “Testland NAPHS 2026–2030”." in page_messages(declined)
    client.logout()
    anonymous = client.post(link_in(mailoutbox[1]), {"action": "decline"})  # without an account, with the link
    assert anonymous["Location"] == "/accounts/login/"

    assert list(Invitation.objects.filter(plan=plan).order_by("pk").values_list("status", flat=True)) == [
        "declined",
        "declined",
    ]
    assert User.objects.count() == users_before
    assert not PlanMembership.objects.filter(plan=plan, user=people["outsider"]).exists()
    declines = AuditEvent.objects.filter(plan=plan, action="declined the invitation to")
    assert sorted(declines.values_list("target_id", "actor")) == [(mine.pk, None), (unknown.pk, None)]
    client.force_login(lead)
    page = html.unescape(client.get(members_url(plan)).content.decode())
    assert "The invitee declined the invitation to outsider@example.org." in page
    assert "Outsider" not in page
    assert 'id="invitations"' not in page  # nothing pending any more


def test_revoking_ends_the_invitation_and_an_answered_one_cannot_be_revoked(
    secretariat_client, plan, people, lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(plan=plan, by=lead, email="outsider@example.org", role=Role.VIEWER)

    revoked = secretariat_client.post(f"/plans/{plan.pk}/members/invitations/{invitation.pk}/revoke/", follow=True)
    again = secretariat_client.post(f"/plans/{plan.pk}/members/invitations/{invitation.pk}/revoke/", follow=True)
    resent = secretariat_client.post(f"/plans/{plan.pk}/members/invitations/{invitation.pk}/resend/", follow=True)

    assert "Invitation to outsider@example.org revoked." in page_messages(revoked)
    assert "This invitation was revoked by the plan's secretariat." in page_messages(again)
    assert "This invitation was revoked by the plan's secretariat." in page_messages(resent)
    invitation.refresh_from_db()
    assert (invitation.status, invitation.version) == (Invitation.Status.REVOKED, 2)
    assert list(AuditEvent.objects.filter(plan=plan).order_by("pk").values_list("action", "actor")) == [
        ("invited", lead.pk),
        ("revoked the invitation to", lead.pk),
    ]


def test_an_invitation_of_another_plan_cannot_be_resent_or_revoked_through_this_one(
    secretariat_client, plan, provincial_plan, lead, django_capture_on_commit_callbacks
):
    PlanMembership.objects.create(plan=provincial_plan, user=make_user("provincial_lead"), role=Role.SECRETARIAT_LEAD)
    elsewhere = invitation_create(plan=provincial_plan, by=lead, email="x@example.org", role=Role.VIEWER)

    resent = secretariat_client.post(f"/plans/{plan.pk}/members/invitations/{elsewhere.pk}/resend/")
    revoked = secretariat_client.post(f"/plans/{plan.pk}/members/invitations/{elsewhere.pk}/revoke/")

    assert (resent.status_code, revoked.status_code) == (404, 404)
    elsewhere.refresh_from_db()
    assert (elsewhere.status, elsewhere.version) == (Invitation.Status.PENDING, 1)


def test_an_invalid_email_is_shown_next_to_the_field_and_nothing_is_saved(
    secretariat_client, plan, people, mailoutbox, django_capture_on_commit_callbacks
):
    users_before, memberships_before = User.objects.count(), memberships_of(plan)

    with django_capture_on_commit_callbacks(execute=True):
        response = secretariat_client.post(members_url(plan), {"email": "not-an-address", "role": "viewer"})

    assert response.status_code == 200
    assert field_error(response, "id_email") == "Enter a valid email address."
    assert User.objects.count() == users_before
    assert memberships_of(plan) == memberships_before
    assert not AuditEvent.objects.exists()
    assert mailoutbox == []


def test_the_service_refuses_an_invalid_email_with_a_message_naming_it(plan, lead):
    with pytest.raises(ValidationError) as error:
        invitation_create(plan=plan, by=lead, email="someone@", role=Role.VIEWER)
    assert error.value.message_dict == {"email": ["“someone@” is not a valid e-mail address."]}
    assert not Invitation.objects.exists()


def test_inviting_someone_who_is_already_a_member_is_an_invitation_like_any_other(
    secretariat_client, plan, people, mailoutbox, django_capture_on_commit_callbacks
):
    memberships_before = memberships_of(plan)

    with django_capture_on_commit_callbacks(execute=True):
        response = secretariat_client.post(
            members_url(plan), {"email": "Viewer@example.org", "role": "secretariat_lead"}
        )

    assert response.status_code == 302
    assert page_messages(secretariat_client.get(members_url(plan))) == ["Invitation sent to Viewer@example.org"]
    assert memberships_of(plan) == memberships_before
    assert invitations_of(plan) == [("Viewer@example.org", "secretariat_lead", "pending")]
    assert [email.to for email in mailoutbox] == [["Viewer@example.org"]]


def test_a_focal_point_without_organization_is_refused_next_to_the_organization_field_and_nothing_saved(
    secretariat_client, plan, people, mailoutbox, django_capture_on_commit_callbacks
):
    users_before, memberships_before = User.objects.count(), memberships_of(plan)

    with django_capture_on_commit_callbacks(execute=True):
        response = secretariat_client.post(
            members_url(plan), {"email": "fp@agency.example", "role": "focal_point", "organization": ""}
        )

    assert response.status_code == 200
    assert field_error(response, "id_organization") == "A focal point must be tied to an organization."
    assert field_error(response, "id_email") == ""
    assert User.objects.count() == users_before
    assert memberships_of(plan) == memberships_before
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_the_service_refuses_an_offer_that_could_not_become_a_membership(plan, lead, foreign_organization, mailoutbox):
    from planning.models import TechnicalArea

    spar_area = TechnicalArea.objects.get(framework__code="SPAR2", code="C1")
    with pytest.raises(ValidationError) as no_organization:
        invitation_create(plan=plan, by=lead, email="fp@agency.example", role=Role.FOCAL_POINT)
    with pytest.raises(ValidationError) as foreign:
        invitation_create(
            plan=plan, by=lead, email="fp@agency.example", role=Role.VIEWER, organization=foreign_organization
        )
    with pytest.raises(ValidationError) as other_framework:
        invitation_create(
            plan=plan, by=lead, email="tl@agency.example", role=Role.TECHNICAL_LEAD, technical_areas=[spar_area]
        )

    assert no_organization.value.message_dict["organization"] == ["A focal point must be tied to an organization."]
    assert foreign.value.message_dict["organization"] == ["This organization belongs to another country."]
    assert other_framework.value.message_dict["technical_areas"] == [
        "Not technical areas of this plan's framework: C1."
    ]
    assert not Invitation.objects.exists()
    assert AuditEvent.objects.count() == 0
    assert mailoutbox == []


def test_an_organization_from_another_country_cannot_be_chosen_on_the_page(
    secretariat_client, plan, people, foreign_organization
):
    users_before, memberships_before = User.objects.count(), memberships_of(plan)

    response = secretariat_client.post(
        members_url(plan),
        {"email": "someone@elsewhere.example", "role": "viewer", "organization": foreign_organization.pk},
    )

    assert response.status_code == 200
    assert "Select a valid choice" in field_error(response, "id_organization")
    assert foreign_organization.name not in response.content.decode()  # not even offered
    assert User.objects.count() == users_before
    assert memberships_of(plan) == memberships_before
    assert not Invitation.objects.exists()


# Changing roles


def test_changing_a_role_with_a_plain_post_saves_it_and_returns_to_the_page(
    secretariat_client, plan, people, lead, moa
):
    membership = membership_of(plan, people["viewer"])
    others_before = [row for row in memberships_of(plan) if row[0] != "viewer"]

    response = secretariat_client.post(
        member_url(membership), {"role": "focal_point", "organization": moa.pk, "version": membership.version}
    )

    assert response.status_code == 302
    assert response["Location"] == members_url(plan)
    membership.refresh_from_db()
    assert (membership.role, membership.organization, membership.version) == (Role.FOCAL_POINT, moa, 2)
    assert [row for row in memberships_of(plan) if row[0] != "viewer"] == others_before
    event = AuditEvent.objects.get(plan=plan, action="changed the role of")
    assert event.actor == lead
    assert event.changes == {"role": ["viewer", "focal_point"], "organization": ["Ministry of Health (MOH)", str(moa)]}
    page = secretariat_client.get(members_url(plan))
    assert "New role of Viewer: Focal point." in page_messages(page)


def test_changing_a_role_with_htmx_returns_only_the_updated_row(secretariat_client, plan, people, moh):
    membership = membership_of(plan, people["reviewer"])

    response = secretariat_client.post(
        member_url(membership),
        {"role": "technical_lead", "organization": moh.pk, "version": membership.version},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="member-{membership.pk}"')
    assert "<html" not in body
    assert "New role of Reviewer: Technical lead." in body
    assert "<select" not in body  # back to the row as text; its Change button fetches a fresh editor
    editor = secretariat_client.get(member_url(membership), HTTP_HX_REQUEST="true").content.decode()
    assert 'name="version" value="2"' in editor  # the next save from this row is not stale
    membership.refresh_from_db()
    assert (membership.role, membership.version) == (Role.TECHNICAL_LEAD, 2)


def test_a_stale_role_change_gets_409_and_keeps_the_first_save(secretariat_client, plan, people, moh):
    membership = membership_of(plan, people["viewer"])
    opened_version = membership.version
    first = secretariat_client.post(
        member_url(membership),
        {"role": "reviewer", "organization": moh.pk, "version": opened_version},
        HTTP_HX_REQUEST="true",
    )
    assert first.status_code == 200

    second = secretariat_client.post(
        member_url(membership),
        {"role": "technical_lead", "organization": moh.pk, "version": opened_version},
        HTTP_HX_REQUEST="true",
    )

    assert second.status_code == 409
    assert "Plan membership: someone else changed it after you opened it" in html.unescape(second.content.decode())
    membership.refresh_from_db()
    assert (membership.role, membership.version) == (Role.REVIEWER, opened_version + 1)
    assert AuditEvent.objects.filter(action="changed the role of").count() == 1


def test_a_stale_role_change_without_htmx_is_refused_with_a_message(secretariat_client, plan, people, moh):
    membership = membership_of(plan, people["viewer"])
    PlanMembership.objects.filter(pk=membership.pk).update(role=Role.REVIEWER, version=2)  # someone saved first

    response = secretariat_client.post(
        member_url(membership), {"role": "technical_lead", "organization": moh.pk, "version": 1}
    )

    assert response.status_code == 409
    assert "Plan membership: someone else changed it" in html.unescape(response.content.decode())
    membership.refresh_from_db()
    assert (membership.role, membership.version) == (Role.REVIEWER, 2)
    assert not AuditEvent.objects.exists()


def test_making_someone_a_focal_point_without_organization_shows_the_error_in_their_row(
    secretariat_client, plan, people
):
    membership = membership_of(plan, people["viewer"])

    response = secretariat_client.post(
        member_url(membership),
        {"role": "focal_point", "organization": "", "version": membership.version},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    assert "A focal point must be tied to an organization." in response.content.decode()
    membership.refresh_from_db()
    assert (membership.role, membership.version) == (Role.VIEWER, 1)


def test_a_membership_of_another_plan_cannot_be_reached_through_this_plan(
    secretariat_client, plan, provincial_plan, people
):
    elsewhere = PlanMembership.objects.create(plan=provincial_plan, user=people["outsider"], role=Role.VIEWER)

    changed = secretariat_client.post(
        f"/plans/{plan.pk}/members/{elsewhere.pk}/", {"role": "secretariat_lead", "version": 1}
    )
    removed = secretariat_client.post(f"/plans/{plan.pk}/members/{elsewhere.pk}/remove/")

    assert (changed.status_code, removed.status_code) == (404, 404)
    elsewhere.refresh_from_db()
    assert (elsewhere.role, elsewhere.version) == (Role.VIEWER, 1)


# The secretariat lead


def test_the_only_secretariat_lead_can_be_neither_removed_nor_demoted(secretariat_client, plan, people, lead):
    membership = membership_of(plan, lead)
    before = memberships_of(plan)

    removed = secretariat_client.post(f"{member_url(membership)}remove/", follow=True)
    demoted = secretariat_client.post(
        member_url(membership), {"role": "secretariat_member", "organization": "", "version": 1}, HTTP_HX_REQUEST="true"
    )
    demoted_plain = secretariat_client.post(
        member_url(membership), {"role": "viewer", "organization": "", "version": 1}
    )

    only_lead = "This is the plan's only secretariat lead. Name another lead first."
    assert only_lead in page_messages(removed)
    assert demoted.status_code == 422
    assert only_lead in html.unescape(demoted.content.decode())
    assert demoted_plain.status_code == 422
    assert only_lead in html.unescape(demoted_plain.content.decode())
    assert memberships_of(plan) == before
    assert not AuditEvent.objects.exists()


def test_once_there_is_a_second_lead_the_first_can_be_demoted_or_removed(client, plan, people, lead):
    second = people[Role.SECRETARIAT_MEMBER]
    client.force_login(lead)
    promoted = membership_of(plan, second)
    client.post(
        member_url(promoted), {"role": "secretariat_lead", "organization": promoted.organization_id, "version": 1}
    )
    assert membership_of(plan, second).role == Role.SECRETARIAT_LEAD

    first = membership_of(plan, lead)
    demoted = client.post(member_url(first), {"role": "secretariat_member", "organization": "", "version": 1})
    assert demoted.status_code == 302
    assert membership_of(plan, lead).role == Role.SECRETARIAT_MEMBER

    client.force_login(second)
    removed = client.post(f"{member_url(first)}remove/", follow=True)
    assert "Secretariat Lead removed from the plan." in page_messages(removed)
    assert not PlanMembership.objects.filter(plan=plan, user=lead).exists()
    assert User.objects.filter(pk=lead.pk).exists()
    assert list(
        PlanMembership.objects.filter(plan=plan, role=Role.SECRETARIAT_LEAD).values_list("user", flat=True)
    ) == [second.pk]


def test_the_last_lead_rule_applies_to_each_plan_separately(plan, provincial_plan, people, lead):
    from stakeholders.services import membership_remove

    PlanMembership.objects.create(plan=provincial_plan, user=people["viewer"], role=Role.SECRETARIAT_LEAD)
    PlanMembership.objects.create(plan=provincial_plan, user=people["reviewer"], role=Role.SECRETARIAT_LEAD)

    with pytest.raises(ValidationError):
        membership_remove(membership=membership_of(plan, lead), by=lead)
    assert membership_of(plan, lead).role == Role.SECRETARIAT_LEAD


# Removing


def test_removing_a_member_deletes_only_their_membership(secretariat_client, plan, people, lead, provincial_plan):
    leaving = people["technical_lead"]
    PlanMembership.objects.create(plan=provincial_plan, user=leaving, role=Role.VIEWER)
    membership = membership_of(plan, leaving)
    others_before = [row for row in memberships_of(plan) if row[0] != "technical_lead"]

    response = secretariat_client.post(f"{member_url(membership)}remove/", follow=True)

    assert "Technical Lead removed from the plan." in page_messages(response)
    assert not PlanMembership.objects.filter(plan=plan, user=leaving).exists()
    assert memberships_of(plan) == others_before
    assert PlanMembership.objects.filter(plan=provincial_plan, user=leaving).exists()
    assert User.objects.filter(pk=leaving.pk, is_active=True).exists()
    event = AuditEvent.objects.get(plan=plan, action="removed")
    assert (event.actor, event.target_id, event.changes) == (lead, membership.pk, {"role": ["technical_lead", None]})


def test_removing_needs_a_post(secretariat_client, plan, people):
    membership = membership_of(plan, people["viewer"])
    assert secretariat_client.get(f"{member_url(membership)}remove/").status_code == 405
    assert PlanMembership.objects.filter(pk=membership.pk).exists()


# Who may use the page


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("secretariat_member", 200),
        ("technical_lead", 403),
        ("focal_point", 403),
        ("reviewer", 403),
        ("viewer", 403),
        ("outsider", 404),
    ],
)
def test_only_the_secretariat_sees_and_changes_members(client, plan, people, persona, status):
    client.force_login(people[persona])
    viewer = membership_of(plan, people["viewer"])
    before = memberships_of(plan)

    page = client.get(members_url(plan))
    added = client.post(members_url(plan), {"email": "x@example.org", "role": "viewer"})
    changed = client.post(member_url(viewer), {"role": "reviewer", "version": 1})
    removed = client.post(f"{member_url(viewer)}remove/")

    assert page.status_code == status
    if status != 200:
        assert (added.status_code, changed.status_code, removed.status_code) == (status, status, status)
        assert memberships_of(plan) == before
        assert not User.objects.filter(email="x@example.org").exists()
        assert not Invitation.objects.exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client, plan):
    response = client.get(members_url(plan))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# The secretariat size


def set_secretariat_size(plan: Plan, people: dict[str, User], size: int) -> None:
    """The `people` fixture has a lead and one secretariat member; demote or add members to reach `size`."""
    if size < 2:
        PlanMembership.objects.filter(plan=plan, user=people[Role.SECRETARIAT_MEMBER]).update(role=Role.VIEWER)
    for number in range(size - 2):
        PlanMembership.objects.create(plan=plan, user=make_user(f"secretary_{number}"), role=Role.SECRETARIAT_MEMBER)
    assert PlanMembership.objects.filter(plan=plan, role__in=["secretariat_lead", "secretariat_member"]).count() == size


@pytest.mark.parametrize(("size", "warned"), [(1, True), (3, True), (4, False), (5, False), (6, False), (7, True)])
def test_the_page_warns_when_the_secretariat_is_outside_four_to_six(secretariat_client, plan, people, size, warned):
    set_secretariat_size(plan, people, size)

    response = secretariat_client.get(members_url(plan))

    body = response.content.decode()
    assert ('id="secretariat-warning"' in body) is warned
    if warned:
        assert f"The secretariat has {size} member{'s' if size > 1 else ''}." in body


def accept_as(user: User, invitation: Invitation) -> None:
    """The invitee, signed in, accepts from their home page."""
    client = Client()
    client.force_login(user)
    response = client.post(f"/invitations/{invitation.pk}/answer/", {"action": "accept", "version": invitation.version})
    assert response["Location"] == f"/plans/{invitation.plan_id}/", page_messages(client.get(response["Location"]))


def test_the_size_warning_never_blocks_inviting_a_secretariat_member(secretariat_client, plan, people):
    set_secretariat_size(plan, people, 6)
    seventh = make_user("seventh")

    response = secretariat_client.post(members_url(plan), {"email": seventh.email, "role": "secretariat_member"})

    assert response.status_code == 302
    accept_as(seventh, Invitation.objects.get(plan=plan, email=seventh.email))
    assert membership_of(plan, seventh).role == Role.SECRETARIAT_MEMBER
    page = secretariat_client.get(members_url(plan))
    assert "The secretariat has 7 members." in page.content.decode()


# The audit trail


def test_every_invitation_and_membership_change_is_recorded_with_its_actor_and_listed_on_the_page(
    client, plan, people, moh, django_capture_on_commit_callbacks
):
    actor = people[Role.SECRETARIAT_MEMBER]
    auditor = make_user("auditor")
    client.force_login(actor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(members_url(plan), {"email": "auditor@example.org", "role": "viewer"})
    invitation = Invitation.objects.get(plan=plan)
    accept_as(auditor, invitation)
    added = membership_of(plan, auditor)
    client.post(member_url(added), {"role": "reviewer", "organization": moh.pk, "version": 1})
    client.post(f"{member_url(added)}remove/")

    events = list(AuditEvent.objects.filter(plan=plan).order_by("pk"))
    assert [(event.action, event.actor, event.target_type, event.target_id) for event in events] == [
        ("invited", actor, "invitation", invitation.pk),
        ("joined", auditor, "planmembership", added.pk),
        ("accepted the invitation to", auditor, "invitation", invitation.pk),
        ("changed the role of", actor, "planmembership", added.pk),
        ("removed", actor, "planmembership", added.pk),
    ]
    page = html.unescape(client.get(members_url(plan)).content.decode())
    assert "Secretariat Member invited auditor@example.org" in page
    assert "Secretariat Member removed Auditor — Reviewer in Testland NAPHS 2026–2030" in page


# Queries


@pytest.mark.parametrize("size", [5, 50])
def test_the_members_page_runs_a_constant_number_of_queries(
    client, plan, moh, moa, province, size, django_assert_max_num_queries
):
    Organization.objects.create(name="North Health Department", kind="department", jurisdiction=province)
    lead = make_user("lead")
    PlanMembership.objects.create(plan=plan, user=lead, role=Role.SECRETARIAT_LEAD)
    roles = [Role.SECRETARIAT_MEMBER, Role.TECHNICAL_LEAD, Role.FOCAL_POINT, Role.REVIEWER, Role.VIEWER]
    for number in range(size - 1):
        role = roles[number % len(roles)]
        PlanMembership.objects.create(
            plan=plan, user=make_user(f"member_{number}"), role=role, organization=moa if number % 2 else moh
        )
    AuditEvent.objects.bulk_create(
        AuditEvent(plan=plan, actor=lead, action="added", target_type="planmembership", target_repr=f"m{n}")
        for n in range(size)
    )
    for number in range(size):
        invitation_create(
            plan=plan,
            by=lead,
            email=f"invitee{number}@example.org",
            role=roles[number % len(roles)],
            organization=moa,
            technical_areas=plan.framework.technical_areas.all()[:2],
        )
    client.force_login(lead)

    with django_assert_max_num_queries(MEMBERS_PAGE_QUERIES):
        response = client.get(members_url(plan))

    assert response.status_code == 200
    assert response.content.decode().count('<tr id="member-') == size
    assert response.content.decode().count('<tr id="invitation-') == size


def technical_areas_of(membership: PlanMembership) -> list[str]:
    return sorted(membership.technical_areas.values_list("code", flat=True))


def test_a_technical_lead_is_given_their_technical_areas_when_they_accept_and_changed(
    secretariat_client, plan, people, moh
):
    from planning.models import TechnicalArea

    legal, amr, surveillance = (TechnicalArea.objects.get(framework=plan.framework, code=c) for c in ("P1", "P4", "D2"))
    colleague = make_user("area_lead")
    response = secretariat_client.post(
        members_url(plan),
        {"email": colleague.email, "role": "technical_lead", "technical_areas": [legal.pk, amr.pk]},
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get(plan=plan)
    assert sorted(invitation.technical_areas.values_list("code", flat=True)) == ["P1", "P4"]
    accept_as(colleague, invitation)
    membership = membership_of(plan, colleague)
    assert technical_areas_of(membership) == ["P1", "P4"]
    assert AuditEvent.objects.get(action="joined", target_id=membership.pk).changes["technical_areas"] == [
        [],
        ["P1", "P4"],
    ]

    response = secretariat_client.post(
        member_url(membership),
        {
            "role": "technical_lead",
            "organization": moh.pk,
            "technical_areas": [surveillance.pk],
            "version": membership.version,
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "D2" in response.content.decode()
    assert technical_areas_of(membership) == ["D2"]


def test_areas_of_another_framework_are_refused_and_other_roles_hold_none(secretariat_client, plan, people, moh):
    from planning.models import TechnicalArea

    spar_area = TechnicalArea.objects.get(framework__code="SPAR2", code="C1")
    jee_area = TechnicalArea.objects.get(framework=plan.framework, code="P1")
    membership = membership_of(plan, people["technical_lead"])
    response = secretariat_client.post(
        member_url(membership),
        {
            "role": "technical_lead",
            "organization": moh.pk,
            "technical_areas": [spar_area.pk],
            "version": membership.version,
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert technical_areas_of(membership) == []

    viewer = make_user("viewer_with_areas")
    secretariat_client.post(
        members_url(plan), {"email": viewer.email, "role": "viewer", "technical_areas": [jee_area.pk]}
    )
    invitation = Invitation.objects.get(plan=plan, email=viewer.email)
    assert not invitation.technical_areas.exists()
    accept_as(viewer, invitation)
    assert technical_areas_of(membership_of(plan, viewer)) == []


# Invitations through the API


def invitations_url(plan: Plan) -> str:
    return f"/api/plans/{plan.pk}/invitations/"


@pytest.fixture
def api_lead(api_client, lead):
    api_client.force_authenticate(lead)
    return api_client


def test_the_api_answers_the_same_for_an_account_a_member_and_an_unknown_address(
    api_lead, plan, people, mailoutbox, sent_mail, django_capture_on_commit_callbacks
):
    users_before, memberships_before = User.objects.count(), memberships_of(plan)
    answers = {}
    for who, typed in {
        "an account": "Outsider@Example.org",
        "a member": "viewer@example.org",
        "nobody": "k@p.example",
    }.items():
        mailoutbox.clear()
        sent_before = len(sent_mail)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = api_lead.post(invitations_url(plan), {"email": typed, "role": "reviewer"}, format="json")
        body = response.json()
        assert body["email"] == typed
        assert body["detail"] == f"Invitation sent to {typed}"
        varying = {"id", "email", "detail", "sent_at", "expires_at"}
        answers[who] = (
            response.status_code,
            sorted(body),
            {key: value for key, value in body.items() if key not in varying},
            len(callbacks),
            len(sent_mail) - sent_before,
            [email.to for email in mailoutbox] == [[typed]],
        )

    assert answers["an account"] == answers["a member"] == answers["nobody"]
    assert answers["nobody"][0] == 201
    assert answers["nobody"][2] == {
        "role": "reviewer",
        "organization": None,
        "technical_areas": [],
        "status": "pending",
        "expired": False,
        "invited_by": "Secretariat Lead",
        "version": 1,
    }
    assert answers["nobody"][3:] == (1, 1, True)
    assert "name" not in answers["nobody"][1]
    assert (User.objects.count(), memberships_of(plan)) == (users_before, memberships_before)


def test_the_api_refuses_a_bad_invitation_naming_the_field_and_saves_nothing(
    api_lead, plan, people, foreign_organization, mailoutbox, django_capture_on_commit_callbacks
):
    cases = [
        ({"email": "fp@example.org", "role": "focal_point", "organization": foreign_organization.pk}, "organization"),
        ({"email": "not an address", "role": "reviewer"}, "email"),
        ({"email": "fp@example.org", "role": "focal_point"}, "organization"),
        ({"email": "x@example.org", "role": "chief"}, "role"),
        ({"email": "x@example.org", "role": "viewer", "first_name": "X"}, "first_name"),  # not writable: refused
        ({"email": "x@example.org", "role": "viewer", "status": "accepted"}, "status"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        answers = [(api_lead.post(invitations_url(plan), payload, format="json"), field) for payload, field in cases]

    for response, field in answers:
        assert response.status_code == 400, response.json()
        assert list(response.json()) == [field]
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_the_api_lists_resends_and_revokes_invitations_for_the_secretariat_only(
    api_client, plan, people, lead, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(plan=plan, by=lead, email="outsider@example.org", role=Role.VIEWER)
    for persona in ("technical_lead", "viewer"):
        api_client.force_authenticate(people[persona])
        assert api_client.get(invitations_url(plan)).status_code == 403
        assert api_client.delete(f"{invitations_url(plan)}{invitation.pk}/").status_code == 403
    api_client.force_authenticate(people["outsider"])
    assert api_client.get(invitations_url(plan)).status_code == 404

    api_client.force_authenticate(lead)
    listed = api_client.get(invitations_url(plan)).json()["results"]
    assert [(row["id"], row["email"], row["status"]) for row in listed] == [
        (invitation.pk, "outsider@example.org", "pending")
    ]
    with django_capture_on_commit_callbacks(execute=True):
        resent = api_client.post(f"{invitations_url(plan)}{invitation.pk}/resend/")
    assert (resent.status_code, resent.json()["version"]) == (200, 2)
    assert len(mailoutbox) == 2
    revoked = api_client.delete(f"{invitations_url(plan)}{invitation.pk}/")
    assert revoked.status_code == 204
    assert api_client.get(invitations_url(plan)).json()["results"] == []
    again = api_client.delete(f"{invitations_url(plan)}{invitation.pk}/")
    assert again.status_code == 409
    assert again.json() == {
        "detail": "This invitation was revoked by the plan's secretariat.",
        "code": "invitation_closed",
    }
    assert api_client.post(f"{invitations_url(plan)}{invitation.pk}/resend/").status_code == 409
    assert list(AuditEvent.objects.filter(plan=plan).order_by("pk").values_list("action", flat=True)) == [
        "invited",
        "sent again the invitation to",
        "revoked the invitation to",
    ]


def test_the_invitee_accepts_through_the_api_with_the_version_they_read(
    api_client, plan, people, lead, moa, django_capture_on_commit_callbacks
):
    invitee = people["outsider"]
    invitation = invitation_create(plan=plan, by=lead, email="OUTSIDER@example.org", role=Role.VIEWER)
    api_client.force_authenticate(invitee)
    listed = api_client.get("/api/invitations/").json()["results"]
    assert [(row["id"], row["plan"], row["plan_title"], row["role"], row["version"]) for row in listed] == [
        (invitation.pk, plan.pk, plan.title, "viewer", 1)
    ]
    # The secretariat changes the offer after the invitee read it: accepting what they read is refused.
    invitation_create(plan=plan, by=lead, email="outsider@example.org", role=Role.FOCAL_POINT, organization=moa)

    stale = api_client.post(f"/api/invitations/{invitation.pk}/accept/", {"version": 1}, format="json")
    missing = api_client.post(f"/api/invitations/{invitation.pk}/accept/", {}, format="json")

    assert stale.status_code == 409
    assert stale.json()["code"] == "edit_conflict"
    assert missing.status_code == 400
    assert list(missing.json()) == ["version"]
    assert not PlanMembership.objects.filter(plan=plan, user=invitee).exists()

    accepted = api_client.post(f"/api/invitations/{invitation.pk}/accept/", {"version": 2}, format="json")

    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["detail"] == "Welcome to “Testland NAPHS 2026–2030”. Your role in this plan: Focal point."
    membership = membership_of(plan, invitee)
    assert (membership.role, membership.organization) == (Role.FOCAL_POINT, moa)
    replayed = api_client.post(f"/api/invitations/{invitation.pk}/accept/", {"version": 3}, format="json")
    assert replayed.status_code == 409
    assert replayed.json()["detail"] == "This invitation was accepted already."
    assert api_client.get("/api/invitations/").json()["results"] == []


def test_through_the_api_another_account_finds_no_invitation_and_declining_works(api_client, plan, people, lead):
    invitation = invitation_create(plan=plan, by=lead, email="outsider@example.org", role=Role.VIEWER)
    api_client.force_authenticate(people["viewer"])
    assert api_client.get("/api/invitations/").json()["results"] == []
    assert api_client.get(f"/api/invitations/{invitation.pk}/").status_code == 404
    assert (
        api_client.post(f"/api/invitations/{invitation.pk}/accept/", {"version": 1}, format="json").status_code == 404
    )
    assert api_client.post(f"/api/invitations/{invitation.pk}/decline/").status_code == 404

    api_client.force_authenticate(people["outsider"])
    declined = api_client.post(f"/api/invitations/{invitation.pk}/decline/")

    assert (declined.status_code, declined.json()["status"]) == (200, "declined")
    assert (
        api_client.post(f"/api/invitations/{invitation.pk}/accept/", {"version": 2}, format="json").status_code == 409
    )
    assert not PlanMembership.objects.filter(plan=plan, user=people["outsider"]).exists()


def test_an_expired_invitation_cannot_be_accepted_through_the_api(api_client, plan, people, lead, settings):
    invitation = invitation_create(plan=plan, by=lead, email="outsider@example.org", role=Role.VIEWER)
    expire(invitation)
    api_client.force_authenticate(people["outsider"])

    assert api_client.get("/api/invitations/").json()["results"] == []
    response = api_client.post(f"/api/invitations/{invitation.pk}/accept/", {"version": 1}, format="json")

    assert response.status_code == 409
    assert response.json()["detail"] == "This invitation has expired. Ask the plan's secretariat to send it again."
    assert not PlanMembership.objects.filter(plan=plan, user=people["outsider"]).exists()


def test_the_invitation_endpoints_are_in_the_api_schema(api_lead):
    schema = api_lead.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert set(paths["/api/plans/{plan_id}/invitations/"]) >= {"get", "post"}
    assert set(paths["/api/plans/{plan_id}/invitations/{invitation_id}/"]) >= {"get", "delete"}
    assert "409" in paths["/api/plans/{plan_id}/invitations/{invitation_id}/"]["delete"]["responses"]
    assert "post" in paths["/api/plans/{plan_id}/invitations/{invitation_id}/resend/"]
    accept = paths["/api/invitations/{invitation_id}/accept/"]["post"]
    assert {"200", "409"} <= set(accept["responses"])
    assert "post" in paths["/api/invitations/{invitation_id}/decline/"]
    assert "post" not in paths["/api/plans/{plan_id}/memberships/"]  # people join by accepting, never by being added


# Two secretariat members inviting the same address at the same moment


@pytest.mark.django_db(transaction=True)
def test_inviting_the_same_address_at_the_same_moment_leaves_one_pending_invitation(plan, people, lead):
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL")
    other = people[Role.SECRETARIAT_MEMBER]
    rounds, errors = 10, []
    for round_number in range(rounds):
        barrier = threading.Barrier(2)

        def invite(by: User, role: str, number: int = round_number, barrier: threading.Barrier = barrier) -> None:
            from django.db import connection as thread_connection

            try:
                barrier.wait()
                invitation_create(plan=plan, by=by, email=f"Same.Person{number}@example.org", role=role)
            except Exception as error:  # any error is the failure this test looks for
                errors.append(repr(error))
            finally:
                thread_connection.close()

        threads = [threading.Thread(target=invite, args=args) for args in ((lead, "viewer"), (other, "reviewer"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    for number in range(rounds):
        pending = Invitation.objects.filter(plan=plan, email__iexact=f"same.person{number}@example.org")
        assert pending.count() == 1
        assert pending.get().version == 2  # the second one refreshed the first


@pytest.mark.parametrize("count", [1, 25])
def test_the_home_page_lists_invitations_in_a_constant_number_of_queries(
    client, plan, province, people, lead, count, django_assert_max_num_queries
):
    invitee = people["outsider"]
    for number in range(count):
        other = Plan.objects.create(
            framework=plan.framework, jurisdiction=province, title=f"Plan {number}", first_year=2026, last_year=2030
        )
        PlanMembership.objects.create(plan=other, user=lead, role=Role.SECRETARIAT_LEAD)
        invitation_create(
            plan=other,
            by=lead,
            email=invitee.email,
            role=Role.TECHNICAL_LEAD,
            technical_areas=plan.framework.technical_areas.all()[:2],
        )
    client.force_login(invitee)

    with django_assert_max_num_queries(HOME_PAGE_QUERIES_WITH_INVITATIONS):
        response = client.get("/")

    assert response.content.decode().count('<article id="my-invitation-') == count


def test_the_members_recent_changes_read_as_whole_sentences_in_the_persons_language(client, plan, lead):
    invitation_create(plan=plan, by=lead, email="someone@example.org", role=Role.VIEWER)
    lead.language = "fr"
    lead.save(update_fields=["language"])
    client.force_login(lead)
    translations.catalogues_compile()
    page = html.unescape(client.get(members_url(plan)).content.decode())
    with translation.override("fr"):
        expected = gettext("%(actor)s invited %(target)s.") % {"actor": lead, "target": "someone@example.org"}
    assert expected in page
    assert expected != f"{lead} invited someone@example.org."
