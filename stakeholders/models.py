"""People, the organizations they work for, and their roles in plans."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from naphs.choices import Sector, validate_choice_list
from naphs.permissions import FROZEN_WHEN_ENDORSED, ROLE_PERMISSIONS, SECRETARIAT_ROLES, Permission, Role
from planning.models import Jurisdiction, Plan


class User(AbstractUser):
    """A person who signs in. The e-mail address is unique, ignoring case, and is how invitations find people."""

    email = models.EmailField(_("e-mail address"))
    # Chosen in the header's language chooser; blank until then, when the browser's language counts.
    language = models.CharField(_("language"), max_length=10, blank=True, choices=settings.LANGUAGES)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["first_name", "last_name", "username"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="user_unique_email_ignoring_case",
                violation_error_message=_("Another account already uses this e-mail address."),
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


def validate_sectors(value: object) -> None:
    validate_choice_list(value, Sector, _("Sectors must be a list drawn from: %(values)s."))


class Organization(models.Model):
    """A ministry, department, agency, partner, donor or other body that takes part in a country's planning.

    It belongs to the jurisdiction it works in (a national ministry to the country, a provincial health
    department to its province) and is visible to the members of every plan in that country.
    """

    class Kind(models.TextChoices):
        MINISTRY = "ministry", _("Ministry")
        DEPARTMENT = "department", _("Department")
        AGENCY = "agency", _("Agency")
        WHO_UN = "who_un", _("WHO / UN")
        DEVELOPMENT_PARTNER = "development_partner", _("Development partner")
        DONOR = "donor", _("Donor")
        NGO = "ngo", _("NGO")
        ACADEMIC = "academic", _("Academic")
        PRIVATE_SECTOR = "private_sector", _("Private sector")

    name = models.CharField(max_length=250, verbose_name=_("name"))
    acronym = models.CharField(max_length=30, blank=True, verbose_name=_("acronym"))
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    sectors = models.JSONField(default=list, blank=True, validators=[validate_sectors], verbose_name=_("sectors"))
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="organizations", verbose_name=_("jurisdiction")
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "jurisdiction",
                name="organization_unique_name_in_jurisdiction",
                violation_error_message=_("An organization with this name already exists in this jurisdiction."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym else self.name

    def get_sectors_display(self) -> str:
        labels = dict(Sector.choices)
        return ", ".join(str(labels.get(sector, sector)) for sector in self.sectors)


class PlanMembership(models.Model):
    """A person's role in one plan. A person holds one role per plan and may belong to many plans.

    A focal point speaks for one organization; other roles may name theirs.
    """

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("plan"))
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="plan_memberships", verbose_name=_("person"))
    role = models.CharField(max_length=20, choices=Role.choices, verbose_name=_("role"))
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("organization"),
    )
    technical_areas = models.ManyToManyField(
        "planning.TechnicalArea",
        blank=True,
        related_name="+",
        help_text=_("For a technical lead: the technical areas whose activities they edit."),
        verbose_name=_("technical areas"),
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("plan membership")
        verbose_name_plural = _("plan memberships")
        ordering = ["plan", "role", "user__first_name", "user__last_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "user"],
                name="membership_one_per_plan_and_user",
                violation_error_message=_("This person is already a member of this plan."),
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.FOCAL_POINT) | Q(organization__isnull=False),
                name="membership_focal_point_has_organization",
                violation_error_message=_("A focal point must be tied to an organization."),
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(person)s — %(role)s in %(plan)s") % {
            "person": self.user,
            "role": self.get_role_display(),
            "plan": self.plan,
        }

    def role_allows(self, need: Permission) -> bool:
        """Whether the member's role holds `need`, whatever the plan's state."""
        return need in ROLE_PERMISSIONS[self.role]

    def allows(self, need: Permission) -> bool:
        """Whether the member may do `need` now: their role holds it, and the plan is not endorsed when `need`
        writes its content (FROZEN_WHEN_ENDORSED). Pages show a control only when this is true."""
        return self.role_allows(need) and not (need in FROZEN_WHEN_ENDORSED and self.plan.is_frozen)

    @property
    def is_secretariat(self) -> bool:
        return self.role in SECRETARIAT_ROLES

    @property
    def can_manage(self) -> bool:
        return self.allows(Permission.MANAGE)

    @property
    def can_edit_plan(self) -> bool:
        """The secretariat's right to the plan's content, while the plan is not endorsed."""
        return self.allows(Permission.EDIT_PLAN)

    @property
    def can_edit_costs(self) -> bool:
        return self.allows(Permission.EDIT_COSTS)

    @property
    def can_report_progress(self) -> bool:
        """Whether the member reports implementation progress (which activities: stakeholders.access)."""
        return self.allows(Permission.REPORT_PROGRESS)

    def clean(self) -> None:
        if self.role == Role.FOCAL_POINT and self.organization_id is None:
            raise ValidationError({"organization": _("A focal point must be tied to an organization.")})
        if (
            self.organization is not None
            and self.plan_id is not None
            and self.organization.jurisdiction.country_id != self.plan.jurisdiction.country_id
        ):
            raise ValidationError({"organization": _("This organization belongs to another country.")})


def invitation_token_hash(token: str) -> str:
    """What is stored of an invitation link's secret: its SHA-256, so the table never holds a usable link."""
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    """An offer, sent to an e-mail address, to join a plan in a role; nobody joins until they accept it.

    The address is kept as the secretariat typed it and matched ignoring case. Whether it belongs to an account
    is decided only when the invitee opens the link or signs in, never when the secretariat invites, so the
    invitation tells the secretariat nothing about who has an account. A plan holds one pending invitation per
    address; inviting the address again refreshes it. The link carries a secret of which only a hash is stored;
    sending the invitation again replaces the secret, and accepting, declining or revoking it ends the link.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        REVOKED = "revoked", _("Revoked")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("plan"))
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invitations",
        verbose_name=_("organization"),
    )
    technical_areas = models.ManyToManyField(
        "planning.TechnicalArea",
        blank=True,
        related_name="+",
        help_text=_("For a technical lead: the technical areas whose activities they will edit."),
        verbose_name=_("technical areas"),
    )
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("invited by")
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("status"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False, verbose_name=_("token hash"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    sent_at = models.DateTimeField(default=timezone.now, verbose_name=_("sent at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    responded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("responded at"))
    # The account that accepted (none for a declined invitation: declining tells no one whose address it is).
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("accepted by")
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name_plural = _("invitations")
        verbose_name = _("invitation")
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                "plan",
                condition=Q(status="pending"),
                name="invitation_one_pending_per_plan_and_email",
                violation_error_message=_("This address already has a pending invitation to this plan."),
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.FOCAL_POINT) | Q(organization__isnull=False),
                name="invitation_focal_point_has_organization",
                violation_error_message=_("A focal point must be tied to an organization."),
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def issue_token(self) -> str:
        """A new secret for the link (the one sent before stops working); only its hash is kept."""
        token = secrets.token_urlsafe(32)
        self.token_hash = invitation_token_hash(token)
        return token

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_open(self) -> bool:
        """It can still be accepted or declined."""
        return self.is_pending and not self.is_expired

    def is_for(self, user: User) -> bool:
        """The signed-in account is the one invited: its e-mail address is the invited one, ignoring case."""
        return bool(user.is_authenticated and user.email) and user.email.casefold() == self.email.casefold()
