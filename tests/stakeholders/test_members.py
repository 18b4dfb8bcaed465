"""The secretariat's members page and the membership services: adding, inviting, changing and removing people."""

from __future__ import annotations

import html
import re

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from naphs.models import AuditEvent
from naphs.permissions import Role
from planning.models import Plan
from stakeholders.models import Organization, PlanMembership, User
from stakeholders.services import membership_invite
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

# The members page runs this many queries whatever the number of members (measured, then pinned).
MEMBERS_PAGE_QUERIES = 8


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


# Adding people


def test_adding_an_existing_user_by_email_ignoring_case_adds_them_and_emails_a_link_to_the_plan(
    secretariat_client, plan, people, lead, moh, mailoutbox, django_capture_on_commit_callbacks
):
    newcomer = people["outsider"]
    users_before = User.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = secretariat_client.post(
            members_url(plan), {"email": "  OUTSIDER@Example.ORG ", "role": Role.TECHNICAL_LEAD, "organization": moh.pk}
        )

    assert response.status_code == 302
    assert response["Location"] == members_url(plan)
    membership = membership_of(plan, newcomer)
    assert (membership.role, membership.organization) == (Role.TECHNICAL_LEAD, moh)
    assert User.objects.count() == users_before
    newcomer.refresh_from_db()
    assert newcomer.email == "outsider@example.org"
    assert newcomer.check_password(PASSWORD)
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["outsider@example.org"]
    assert plan.title in email.subject
    assert f"{settings.SITE_URL}/plans/{plan.pk}/" in email.body
    assert "/accounts/invitation/" not in email.body
    event = AuditEvent.objects.get(plan=plan, action="added")
    assert (event.actor, event.target_id, event.changes) == (lead, membership.pk, {"role": [None, "technical_lead"]})
    page = secretariat_client.get(members_url(plan))
    assert any("added as technical lead" in message for message in page_messages(page))


def test_adding_an_unknown_email_creates_an_account_without_password_and_emails_an_invitation(
    secretariat_client, plan, people, lead, mailoutbox, django_capture_on_commit_callbacks
):
    users_before = User.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = secretariat_client.post(
            members_url(plan),
            {"email": "Amina.Diallo@Health.example", "first_name": "Amina", "last_name": "Diallo", "role": "reviewer"},
        )

    assert response.status_code == 302
    assert User.objects.count() == users_before + 1
    invited = User.objects.get(email="amina.diallo@health.example")
    assert (invited.username, invited.get_full_name()) == ("amina.diallo@health.example", "Amina Diallo")
    assert not invited.has_usable_password()
    assert membership_of(plan, invited).role == Role.REVIEWER
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["amina.diallo@health.example"]
    assert "invited" in mailoutbox[0].subject
    assert re.search(r"/accounts/invitation/[\w-]+/[\w-]+/", mailoutbox[0].body)
    assert AuditEvent.objects.filter(plan=plan, actor=lead, action="added", target_id=membership_of(plan, invited).pk)
    page = secretariat_client.get(members_url(plan))
    assert any("Invitation sent to amina.diallo@health.example" in message for message in page_messages(page))
    assert "· invited" in page.content.decode()


def test_the_invitation_link_sets_a_password_signs_the_person_in_and_then_no_longer_works(
    client, plan, lead, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        membership_invite(plan=plan, by=lead, email="new.person@example.org", role=Role.VIEWER)
    link = re.search(r"https?://[^/\s]+(/accounts/invitation/[\w-]+/[\w-]+/)", mailoutbox[0].body).group(1)
    invited = User.objects.get(email="new.person@example.org")

    opened = client.get(link, follow=True)
    assert opened.status_code == 200
    assert opened.context["validlink"] is True
    assert "Welcome to NAPHS Planner" in opened.content.decode()
    form_url = opened.redirect_chain[-1][0]
    done = client.post(
        form_url, {"new_password1": "a-long-new-passphrase-42", "new_password2": "a-long-new-passphrase-42"}
    )

    assert done.status_code == 302
    assert done["Location"] == "/"
    invited.refresh_from_db()
    assert invited.check_password("a-long-new-passphrase-42")
    assert client.session["_auth_user_id"] == str(invited.pk)
    home = client.get("/")
    assert plan.title in home.content.decode()

    client.logout()
    again = client.get(link, follow=True)
    assert again.status_code == 200
    assert again.context["validlink"] is False
    assert "This invitation link no longer works" in again.content.decode()
    refused = client.post(
        form_url, {"new_password1": "another-passphrase-99", "new_password2": "another-passphrase-99"}
    )
    assert "_auth_user_id" not in client.session
    assert refused.status_code == 200
    invited.refresh_from_db()
    assert invited.check_password("a-long-new-passphrase-42")


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
        membership_invite(plan=plan, by=lead, email="someone@", role=Role.VIEWER)
    assert error.value.message_dict == {"email": ["“someone@” is not a valid e-mail address."]}
    assert not User.objects.filter(username="someone@").exists()


def test_adding_someone_who_is_already_a_member_is_refused_next_to_the_email_field(
    secretariat_client, plan, people, mailoutbox, django_capture_on_commit_callbacks
):
    memberships_before = memberships_of(plan)

    with django_capture_on_commit_callbacks(execute=True):
        response = secretariat_client.post(
            members_url(plan), {"email": "Viewer@example.org", "role": "secretariat_lead"}
        )

    assert response.status_code == 200
    assert field_error(response, "id_email") == "Viewer is already a member of this plan, as viewer."
    assert memberships_of(plan) == memberships_before
    assert not AuditEvent.objects.exists()
    assert mailoutbox == []


def test_a_focal_point_without_organization_is_refused_next_to_the_organization_field_and_no_account_created(
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
    assert mailoutbox == []


def test_the_service_creates_no_account_when_the_membership_is_refused(plan, lead, foreign_organization, mailoutbox):
    users_before, memberships_before = User.objects.count(), memberships_of(plan)

    with pytest.raises(ValidationError) as no_organization:
        membership_invite(plan=plan, by=lead, email="fp@agency.example", role=Role.FOCAL_POINT)
    with pytest.raises(ValidationError) as foreign:
        membership_invite(
            plan=plan, by=lead, email="fp@agency.example", role=Role.VIEWER, organization=foreign_organization
        )

    assert no_organization.value.message_dict["organization"] == ["A focal point must be tied to an organization."]
    assert foreign.value.message_dict["organization"] == ["This organization belongs to another country."]
    assert User.objects.count() == users_before
    assert memberships_of(plan) == memberships_before
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
    assert "Viewer is now focal point." in page_messages(page)


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
    assert "Reviewer is now technical lead." in body
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
    assert "Someone else changed this plan membership after you opened it" in html.unescape(second.content.decode())
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
    assert "Someone else changed this plan membership" in html.unescape(response.content.decode())
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


def test_the_size_warning_never_blocks_adding_a_secretariat_member(secretariat_client, plan, people):
    set_secretariat_size(plan, people, 6)

    response = secretariat_client.post(
        members_url(plan), {"email": "seventh@example.org", "role": "secretariat_member"}
    )

    assert response.status_code == 302
    assert membership_of(plan, User.objects.get(email="seventh@example.org")).role == Role.SECRETARIAT_MEMBER
    page = secretariat_client.get(members_url(plan))
    assert "The secretariat has 7 members." in page.content.decode()


# The audit trail


def test_every_membership_change_is_recorded_with_its_actor_and_listed_on_the_page(
    client, plan, people, moh, django_capture_on_commit_callbacks
):
    actor = people[Role.SECRETARIAT_MEMBER]
    client.force_login(actor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(members_url(plan), {"email": "auditor@example.org", "role": "viewer"})
    added = membership_of(plan, User.objects.get(email="auditor@example.org"))
    client.post(member_url(added), {"role": "reviewer", "organization": moh.pk, "version": 1})
    client.post(f"{member_url(added)}remove/")

    events = list(AuditEvent.objects.filter(plan=plan).order_by("pk"))
    assert [(event.action, event.actor, event.target_type, event.target_id) for event in events] == [
        ("added", actor, "planmembership", added.pk),
        ("changed the role of", actor, "planmembership", added.pk),
        ("removed", actor, "planmembership", added.pk),
    ]
    page = client.get(members_url(plan)).content.decode()
    assert "Secretariat Member removed auditor@example.org" in html.unescape(page)


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
    client.force_login(lead)

    with django_assert_max_num_queries(MEMBERS_PAGE_QUERIES):
        response = client.get(members_url(plan))

    assert response.status_code == 200
    assert response.content.decode().count('<tr id="member-') == size


def technical_areas_of(membership: PlanMembership) -> list[str]:
    return sorted(membership.technical_areas.values_list("code", flat=True))


def test_a_technical_lead_is_given_their_technical_areas_when_added_and_changed(secretariat_client, plan, people, moh):
    from planning.models import TechnicalArea

    legal, amr, surveillance = (TechnicalArea.objects.get(framework=plan.framework, code=c) for c in ("P1", "P4", "D2"))
    colleague = make_user("area_lead")
    response = secretariat_client.post(
        members_url(plan),
        {"email": colleague.email, "role": "technical_lead", "technical_areas": [legal.pk, amr.pk]},
    )
    assert response.status_code == 302
    membership = membership_of(plan, colleague)
    assert technical_areas_of(membership) == ["P1", "P4"]
    assert AuditEvent.objects.get(action="added", target_id=membership.pk).changes["technical_areas"] == [
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
    assert technical_areas_of(membership_of(plan, viewer)) == []
