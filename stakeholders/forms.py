"""Forms for the members page and invitations, organizations, signing in and the password-reset request."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, SetPasswordMixin
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from naphs.forms import TextWithoutDirectionControls, form_field
from naphs.languages import person_language
from naphs.limits import client_address, rate_allows
from naphs.permissions import Role
from planning.models import Jurisdiction, Plan, TechnicalArea
from planning.selectors import technical_areas_of
from stakeholders.models import Organization, PlanMembership, Sector, User
from stakeholders.selectors import jurisdiction_ids_within, organization_list_for_plan
from stakeholders.signin import PausedSignInMessageMixin

logger = logging.getLogger(__name__)


class FocalPointOrganizationMixin(forms.BaseForm):
    """A focal point speaks for one organization: say so next to the field before anything is saved."""

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("role") == Role.FOCAL_POINT and not data.get("organization"):
            self.add_error("organization", _("A focal point must be tied to an organization."))
        return data


class InvitationForm(FocalPointOrganizationMixin, forms.Form):
    """Invite someone by e-mail to join in a role: whoever the address belongs to, they join once they accept."""

    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=[("", _("— choose a role —")), *Role.choices])
    organization = forms.ModelChoiceField(
        label=_("Organization"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label=_("— none —"),
        help_text=_("Required for a focal point."),
    )
    technical_areas = forms.ModelMultipleChoiceField(
        label=_("Technical areas"),
        queryset=TechnicalArea.objects.none(),
        required=False,
        help_text=_("For a technical lead: the areas whose activities they edit (Ctrl or ⌘ to choose several)."),
    )

    def __init__(self, *args, plan: Plan, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "organization", forms.ModelChoiceField).queryset = organization_list_for_plan(plan=plan)
        form_field(self, "technical_areas", forms.ModelChoiceField).queryset = technical_areas_of(plan)


class InvitationAccountForm(SetPasswordMixin, forms.Form):
    """An invitee without an account chooses their name and password; the invited address is the account's."""

    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    new_password1, new_password2 = SetPasswordMixin.create_password_fields(
        label1=_("New password"), label2=_("New password confirmation")
    )

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict:
        data = super().clean() or {}
        self.validate_passwords("new_password1", "new_password2")
        # Checked against what the account will hold, so a password like the address or the name is refused.
        candidate = User(username=self.email, email=self.email, first_name=data.get("first_name", ""))
        candidate.last_name = data.get("last_name", "")
        self.validate_password_for_user(candidate, "new_password2")
        return data


class MemberUpdateForm(FocalPointOrganizationMixin, forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    organization = forms.ModelChoiceField(
        label=_("Organization"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label=_("— no organization —"),
    )
    technical_areas = forms.ModelMultipleChoiceField(
        label=_("Technical areas"),
        queryset=TechnicalArea.objects.none(),
        required=False,
        help_text=_("For a technical lead."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, membership: PlanMembership, **kwargs) -> None:
        kwargs.setdefault(
            "initial",
            {
                "role": membership.role,
                "organization": membership.organization_id,
                "technical_areas": [area.pk for area in membership.technical_areas.all()],
                "version": membership.version,
            },
        )
        super().__init__(*args, **kwargs)
        form_field(self, "organization", forms.ModelChoiceField).queryset = organization_list_for_plan(
            plan=membership.plan
        )
        form_field(self, "technical_areas", forms.ModelChoiceField).queryset = technical_areas_of(membership.plan)
        self.auto_id = f"id_member_{membership.pk}_%s"


class OrganizationForm(TextWithoutDirectionControls, forms.ModelForm):
    sectors = forms.MultipleChoiceField(
        label=_("One Health sectors"), choices=Sector.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Organization
        fields = ["name", "acronym", "kind", "sectors", "jurisdiction"]

    def __init__(self, *args, plan: Plan, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "jurisdiction", forms.ModelChoiceField).queryset = Jurisdiction.objects.filter(
            pk__in=jurisdiction_ids_within(plan.jurisdiction)
        ).select_related("parent")
        if not self.is_bound:
            self.initial.setdefault("jurisdiction", plan.jurisdiction_id)
            self.initial["version"] = self.instance.version


class PasswordResetForm(DjangoPasswordResetForm):
    """Also reaches invited people who have not set a password yet, so a lost invitation can be replaced.

    At most PASSWORD_RESET_RATE_PER_EMAIL links go to one address, and PASSWORD_RESET_RATE_PER_CLIENT requests
    from one client address are served; beyond that nothing is sent. The page answers the same either way, as it
    does whether an account uses the address or not.
    """

    def get_users(self, email: str):
        return User.objects.filter(email__iexact=email, is_active=True)

    def save(  # type: ignore[override]  # keywords only, as PasswordResetView calls it
        self, *, request: HttpRequest | None = None, **kwargs: Any
    ) -> None:
        email = self.cleaned_data["email"].strip().lower()
        address = client_address(request) if request is not None else ""
        email_key = hashlib.sha256(email.encode()).hexdigest()
        if not rate_allows(key=f"password-reset-client:{address}", rate=settings.PASSWORD_RESET_RATE_PER_CLIENT):
            logger.warning("Password reset not sent: too many requests from %s", address)
            return
        if not rate_allows(key=f"password-reset-email:{email_key}", rate=settings.PASSWORD_RESET_RATE_PER_EMAIL):
            logger.warning("Password reset not sent: too many requests for one address (from %s)", address)
            return
        super().save(request=request, **kwargs)

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        """Send through the worker, like every other e-mail, so a slow mail server never holds up the page."""
        from naphs.tasks import email_send_task

        with translation.override(person_language(context.get("user")) or translation.get_language()):
            subject = "".join(render_to_string(subject_template_name, context).splitlines())
            body = render_to_string(email_template_name, context)
        email_send_task.delay_on_commit(subject=subject, body=body, to=[to_email])


class LoginForm(PausedSignInMessageMixin, AuthenticationForm):
    """Sign in with the user name or the e-mail address of the account."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("User name or e-mail")
        self.error_messages["invalid_login"] = _(
            "That user name or e-mail and password do not match an active account. Passwords are case-sensitive."
        )


class AdminLoginForm(PausedSignInMessageMixin, AdminAuthenticationForm):
    """The admin's login, saying so while sign-in is paused for the account or the address."""


class AuditFilterForm(forms.Form):
    """The audit trail's filters, read from GET parameters (a filtered view is a link): a person, a kind of object,
    a technical area, and a first and last day. A person or an area that is not of this plan, a kind nothing of
    the plan was recorded as, or dates the wrong way round are refused with a message beside the filter."""

    person: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=_("Anyone"), label=_("Person")
    )
    kind = forms.ChoiceField(choices=[], required=False, label=_("Kind of object"))
    area: forms.ModelChoiceField[TechnicalArea] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=_("Any"), label=_("Technical area")
    )
    since = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    until = forms.DateField(
        required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        from naphs.audit import audit_kind_choices
        from stakeholders.selectors import audit_kinds_of, audit_people_of

        super().__init__(*args, **kwargs)
        form_field(self, "person", forms.ModelChoiceField).queryset = audit_people_of(plan=plan)
        form_field(self, "area", forms.ModelChoiceField).queryset = technical_areas_of(plan)
        kinds = form_field(self, "kind", forms.ChoiceField)
        kinds.choices = [("", _("Any")), *audit_kind_choices(audit_kinds_of(plan=plan))]
        kinds.error_messages["invalid_choice"] = _("Nothing of this plan was recorded as “%(value)s”.")
        self.fields["person"].error_messages["invalid_choice"] = _(
            "This person is not a member of this plan and changed nothing in it."
        )
        self.fields["area"].error_messages["invalid_choice"] = _(
            "This is not a technical area of this plan's framework."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The last day is before the first: %(since)s to %(until)s.") % data)
        return data

    def filters(self) -> dict[str, Any]:
        """The keyword arguments of audit_events_for_plan for a valid form (call is_valid first)."""
        data = self.cleaned_data
        return {
            "actor": data.get("person"),
            "target_type": data.get("kind") or None,
            "area": data.get("area"),
            "since": data.get("since"),
            "until": data.get("until"),
        }

    def job_params(self) -> dict[str, str]:
        """The valid filters as an export job keeps them: ids and ISO dates, as this form reads them back."""
        data = self.cleaned_data
        params = {
            "person": data["person"].pk if data.get("person") else "",
            "kind": data.get("kind") or "",
            "area": data["area"].pk if data.get("area") else "",
            "since": data["since"].isoformat() if data.get("since") else "",
            "until": data["until"].isoformat() if data.get("until") else "",
        }
        return {name: str(value) for name, value in params.items() if value != ""}
