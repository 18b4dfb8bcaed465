"""People, the organizations they work for, and their roles in plans."""

from __future__ import annotations

import hashlib
import secrets
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from naphs.choices import Hazard, Sector, validate_choice_list
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


# --- Engagement: the stakeholder register, events, advocacy and the launch ---------------------------------------

# What a plan's stakeholder engagement keeps: each kind of row lives under its plan (or its event), and every
# reference it holds (an organization, a person, an area, an activity) is one the plan may use (stakeholders.mapping,
# stakeholders.events, stakeholders.advocacy check them).

MAX_AMOUNT = 10**15  # as a cost line or a funding commitment holds


class NaphsRole(models.TextChoices):
    """What a stakeholder does in the NAPHS."""

    LEAD = "lead", _("Lead")
    COORDINATOR = "coordinator", _("Coordinator")
    IMPLEMENTER = "implementer", _("Implementer")
    FUNDER = "funder", _("Funder")
    TECHNICAL_PARTNER = "technical_partner", _("Technical partner")
    REGULATOR = "regulator", _("Regulator")
    ADVOCATE = "advocate", _("Advocate")
    BENEFICIARY = "beneficiary", _("Beneficiary")
    OTHER = "other", _("Other")


def validate_naphs_roles(value: object) -> None:
    validate_choice_list(value, NaphsRole, _("Roles must be a list drawn from: %(values)s."))


def validate_hazards(value: object) -> None:
    validate_choice_list(value, Hazard, _("Hazards must be a list drawn from: %(values)s."))


class Stakeholder(models.Model):
    """An organization in a plan's stakeholder map: what it cares about (One Health sectors, hazards, technical areas),
    its roles in the NAPHS, its influence on the plan and its interest in it (each 1 to 4; 3 and 4 count as high, which
    places it in one of four quadrants, each with its strategy), and the relationship the secretariat keeps with it,
    owned by one member of the secretariat."""

    class Scale(models.IntegerChoices):
        LOW = 1, _("Low")
        FAIRLY_LOW = 2, _("Fairly low")
        FAIRLY_HIGH = 3, _("Fairly high")
        HIGH = 4, _("High")

    class Relationship(models.TextChoices):
        TO_ENGAGE = "to_engage", _("To engage")
        INFORMED = "informed", _("Informed")
        CONSULTED = "consulted", _("Consulted")
        INVOLVED = "involved", _("Involved")
        COLLABORATING = "collaborating", _("Collaborating")

    # From "consulted" on, the organization takes part in the plan: it counts for the coverage of its areas and sectors.
    ENGAGED = (Relationship.CONSULTED, Relationship.INVOLVED, Relationship.COLLABORATING)
    HIGH_FROM = 3

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="stakeholders", verbose_name=_("plan"))
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="stakeholder_entries", verbose_name=_("organization")
    )
    roles = models.JSONField(
        default=list, blank=True, validators=[validate_naphs_roles], verbose_name=_("roles in the NAPHS")
    )
    sectors = models.JSONField(
        default=list, blank=True, validators=[validate_sectors], verbose_name=_("One Health sectors")
    )
    hazards = models.JSONField(default=list, blank=True, validators=[validate_hazards], verbose_name=_("hazards"))
    technical_areas = models.ManyToManyField(
        "planning.TechnicalArea", blank=True, related_name="+", verbose_name=_("technical areas of interest")
    )
    influence = models.PositiveSmallIntegerField(
        choices=Scale.choices, default=Scale.FAIRLY_LOW, verbose_name=_("influence")
    )
    interest = models.PositiveSmallIntegerField(
        choices=Scale.choices, default=Scale.FAIRLY_LOW, verbose_name=_("interest")
    )
    relationship = models.CharField(
        max_length=16, choices=Relationship.choices, default=Relationship.TO_ENGAGE, verbose_name=_("relationship")
    )
    relationship_owner = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The member of the secretariat who keeps the relationship."),
        verbose_name=_("relationship owner"),
    )
    notes = models.TextField(blank=True, verbose_name=_("notes"))
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("stakeholder")
        verbose_name_plural = _("stakeholders")
        ordering = ["plan_id", "organization__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "organization"],
                name="stakeholder_once_per_plan",
                violation_error_message=_("This organization is already in the plan's stakeholder map."),
            ),
            models.CheckConstraint(
                condition=Q(influence__gte=1, influence__lte=4, interest__gte=1, interest__lte=4),
                name="stakeholder_scales_in_range",
                violation_error_message=_("Influence and interest are each from 1 (low) to 4 (high)."),
            ),
        ]

    def __str__(self) -> str:
        return str(self.organization)

    @property
    def is_engaged(self) -> bool:
        return self.relationship in self.ENGAGED


class Person(models.Model):
    """Someone in a plan's register: a member of the plan or someone who takes part without an account (a
    participant of a consultation, a messenger of advocacy). Contact details are for the plan's members only; the
    record can be exported and erased on request (stakeholders.personal_data), which leaves `erased_at` and no name.

    One e-mail address is one person in a plan, and so is one name in one organization (ignoring case)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="people", verbose_name=_("plan"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    title = models.CharField(max_length=200, blank=True, verbose_name=_("title"))
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="people",
        verbose_name=_("organization"),
    )
    email = models.EmailField(blank=True, verbose_name=_("e-mail address"))
    phone = models.CharField(max_length=40, blank=True, verbose_name=_("phone"))
    sector = models.CharField(max_length=20, choices=Sector.choices, blank=True, verbose_name=_("sector"))
    level = models.CharField(
        max_length=10,
        choices=Jurisdiction.Level.choices,
        blank=True,
        help_text=_("Where the person works: the country, a province or state, a district."),
        verbose_name=_("level"),
    )
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="register_entries",
        help_text=_("The person's account, when they are a member of the plan."),
        verbose_name=_("account"),
    )
    notes = models.TextField(blank=True, verbose_name=_("notes"))
    erased_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("erased at"))
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["plan_id", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                "plan",
                condition=~Q(email=""),
                name="person_unique_email_in_plan",
                violation_error_message=_("Someone in the plan's register already has this e-mail address."),
            ),
            models.UniqueConstraint(
                Lower("name"),
                "organization",
                "plan",
                condition=Q(erased_at__isnull=True),
                name="person_unique_name_in_organization",
                violation_error_message=_("Someone of this name in this organization is already in the register."),
            ),
            models.UniqueConstraint(
                fields=["plan", "user"],
                condition=Q(user__isnull=False),
                name="person_one_entry_per_account",
                violation_error_message=_("This account is already in the plan's register."),
            ),
        ]

    def __str__(self) -> str:
        if self.erased_at is not None:
            return gettext("Erased person %(number)s") % {"number": self.pk}
        return self.name


class EngagementEvent(models.Model):
    """A consultation, workshop, validation meeting, technical working group or launch event of a plan: when and
    where, who organized it, the technical areas it covered, its agenda and outcomes, its participants (invited, and
    whether they came), its decisions and documents, and what it cost (typed, or from the meeting cost builder)."""

    class Kind(models.TextChoices):
        CONSULTATION = "consultation", _("Consultation")
        WORKSHOP = "workshop", _("Workshop")
        VALIDATION = "validation", _("Validation meeting")
        WORKING_GROUP = "working_group", _("Technical working group")
        LAUNCH = "launch", _("Launch event")
        OTHER = "other", _("Other")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="engagement_events", verbose_name=_("plan"))
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("type"))
    title = models.CharField(max_length=250, verbose_name=_("title"))
    starts_on = models.DateField(verbose_name=_("first day"))
    ends_on = models.DateField(verbose_name=_("last day"))
    place = models.CharField(max_length=250, blank=True, verbose_name=_("place"))
    online = models.BooleanField(default=False, verbose_name=_("online"))
    online_link = models.URLField(max_length=500, blank=True, verbose_name=_("online link"))
    organizers = models.ManyToManyField(Organization, blank=True, related_name="+", verbose_name=_("organizers"))
    technical_areas = models.ManyToManyField(
        "planning.TechnicalArea", blank=True, related_name="+", verbose_name=_("technical areas covered")
    )
    agenda = models.TextField(blank=True, verbose_name=_("agenda"))
    outcomes = models.TextField(blank=True, verbose_name=_("outcomes"))
    activity = models.ForeignKey(
        "planning.Activity",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="engagement_events",
        help_text=_("The plan's activity this event carries out, if any (a consultative workshop, a launch)."),
        verbose_name=_("activity"),
    )
    cost = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(MAX_AMOUNT)],
        help_text=_("In the plan's base currency."),
        verbose_name=_("cost"),
    )
    # The meeting cost builder's answers when the cost came from it (costing.event_cost), so it can be built again.
    cost_answers = models.JSONField(default=dict, blank=True, editable=False, verbose_name=_("cost builder answers"))
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("recorded by")
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("engagement event")
        verbose_name_plural = _("engagement events")
        ordering = ["plan_id", "-starts_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="engagement_event_ends_after_start",
                violation_error_message=_("An event cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1


class Participant(models.Model):
    """A person of the plan's register at an event: invited or not, attended or not (unknown until recorded), and
    the organization and sector they came for, kept as they were then."""

    event = models.ForeignKey(
        EngagementEvent, on_delete=models.CASCADE, related_name="participants", verbose_name=_("event")
    )
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="participations", verbose_name=_("person")
    )
    invited = models.BooleanField(default=True, verbose_name=_("invited"))
    attended = models.BooleanField(null=True, blank=True, verbose_name=_("attended"))
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("organization")
    )
    sector = models.CharField(max_length=20, choices=Sector.choices, blank=True, verbose_name=_("sector"))
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["event_id", "person__name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "person"],
                name="participant_once_per_event",
                violation_error_message=_("This person is already a participant of this event."),
            ),
        ]

    def __str__(self) -> str:
        return str(self.person)


class EventDecision(models.Model):
    """An outcome or decision of an event, linked to what it changed: activities, the priorities of technical areas,
    comment threads."""

    event = models.ForeignKey(
        EngagementEvent, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("event")
    )
    text = models.TextField(verbose_name=_("decision"))
    activities = models.ManyToManyField(
        "planning.Activity", blank=True, related_name="engagement_decisions", verbose_name=_("activities")
    )
    priority_areas = models.ManyToManyField(
        "planning.TechnicalArea",
        blank=True,
        related_name="+",
        help_text=_("Technical areas whose priority the decision changed."),
        verbose_name=_("priorities"),
    )
    threads = models.ManyToManyField(
        "planning.CommentThread", blank=True, related_name="engagement_decisions", verbose_name=_("comments")
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["event_id", "pk"]

    def __str__(self) -> str:
        first = self.text.strip().splitlines()
        return first[0][:120] if first else ""


def event_document_path(document: EventDocument, filename: str) -> str:
    return f"events/{document.event.plan_id}/{document.event_id}/{filename}"


class EventDocument(models.Model):
    """A document of an event (an agenda, a report, a list of participants, a presentation), checked as every upload
    is and served only to the plan's members."""

    event = models.ForeignKey(
        EngagementEvent, on_delete=models.CASCADE, related_name="documents", verbose_name=_("event")
    )
    title = models.CharField(max_length=250, blank=True, verbose_name=_("title"))
    file = models.FileField(upload_to=event_document_path, max_length=300, verbose_name=_("file"))
    file_name = models.CharField(max_length=200, verbose_name=_("file name"))
    content_type = models.CharField(max_length=100, verbose_name=_("kind of file"))
    size = models.PositiveBigIntegerField(default=0, verbose_name=_("size"))
    added_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("added by")
    )
    added_at = models.DateTimeField(auto_now_add=True, verbose_name=_("added at"))

    class Meta:
        verbose_name = _("event document")
        verbose_name_plural = _("event documents")
        ordering = ["event_id", "pk"]

    def __str__(self) -> str:
        return self.title or self.file_name


def validate_channels(value: object) -> None:
    validate_choice_list(value, Advocacy.Channel, _("Channels must be a list drawn from: %(values)s."))


class Advocacy(models.Model):
    """An advocacy plan for one funding gap or policy need: the audience (a stakeholder of the map, or a group
    named in words), the ask (an amount in a currency the plan has rates for, a decision, a policy), key messages,
    messengers from the register, channels, timing and status; linked to the technical areas and activities whose
    gap it addresses. Its outcome is recorded; a pledge becomes a funding commitment in one step (costing)."""

    class Need(models.TextChoices):
        FUNDING_GAP = "funding_gap", _("Funding gap")
        POLICY = "policy", _("Policy need")

    class Ask(models.TextChoices):
        AMOUNT = "amount", _("An amount")
        DECISION = "decision", _("A decision")
        POLICY = "policy", _("A policy")

    class Channel(models.TextChoices):
        MEETING = "meeting", _("Meeting")
        BRIEFING = "briefing", _("Briefing note")
        EVENT = "event", _("Event")
        BUDGET_HEARING = "budget_hearing", _("Budget hearing")
        DONOR_ROUNDTABLE = "donor_roundtable", _("Donor round table")
        MEDIA = "media", _("Media")
        SOCIAL_MEDIA = "social_media", _("Social media")
        LETTER = "letter", _("Letter")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        UNDER_WAY = "under_way", _("Under way")
        ACHIEVED = "achieved", _("Achieved")
        PARTLY_ACHIEVED = "partly_achieved", _("Partly achieved")
        NOT_ACHIEVED = "not_achieved", _("Not achieved")
        DROPPED = "dropped", _("Dropped")

    # An advocacy that still addresses its gap: what the costing dashboard names beside the gap.
    ACTIVE = (Status.PLANNED, Status.UNDER_WAY, Status.ACHIEVED, Status.PARTLY_ACHIEVED)

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="advocacy", verbose_name=_("plan"))
    need = models.CharField(max_length=12, choices=Need.choices, verbose_name=_("need"))
    title = models.CharField(max_length=250, verbose_name=_("title"))
    audience = models.ForeignKey(
        Stakeholder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="advocacy",
        verbose_name=_("audience"),
    )
    audience_group = models.CharField(
        max_length=250,
        blank=True,
        help_text=_("A group the advocacy speaks to, when it is not one stakeholder (a parliamentary committee)."),
        verbose_name=_("audience group"),
    )
    ask = models.CharField(max_length=10, choices=Ask.choices, verbose_name=_("ask"))
    ask_amount = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_AMOUNT)],
        verbose_name=_("amount asked"),
    )
    ask_currency = models.CharField(max_length=3, blank=True, verbose_name=_("currency"))
    # The amount asked in the plan's base currency, at the plan's rate when it was saved (as progress reports keep
    # the amount spent): what lists and the API show beside it without converting row by row.
    ask_amount_base = models.DecimalField(
        max_digits=18, decimal_places=2, null=True, blank=True, editable=False, verbose_name=_("amount asked, base")
    )
    ask_text = models.TextField(blank=True, verbose_name=_("what is asked"))
    key_messages = models.TextField(blank=True, verbose_name=_("key messages"))
    messengers = models.ManyToManyField(Person, blank=True, related_name="advocacy", verbose_name=_("messengers"))
    channels = models.JSONField(default=list, blank=True, validators=[validate_channels], verbose_name=_("channels"))
    starts_on = models.DateField(null=True, blank=True, verbose_name=_("from"))
    ends_on = models.DateField(null=True, blank=True, verbose_name=_("until"))
    timing = models.CharField(
        max_length=250,
        blank=True,
        help_text=_("When it matters, in words (before the budget call, at the donor round table)."),
        verbose_name=_("timing"),
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED, verbose_name=_("status"))
    technical_areas = models.ManyToManyField(
        "planning.TechnicalArea", blank=True, related_name="+", verbose_name=_("technical areas")
    )
    activities = models.ManyToManyField(
        "planning.Activity", blank=True, related_name="advocacy", verbose_name=_("activities")
    )
    owner = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The member of the secretariat who leads it."),
        verbose_name=_("owner"),
    )
    outcome = models.TextField(blank=True, verbose_name=_("outcome"))
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("advocacy")
        verbose_name_plural = _("advocacy")
        ordering = ["plan_id", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(starts_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="advocacy_ends_after_start",
                violation_error_message=_("An advocacy cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Launch(models.Model):
    """The launch of an endorsed version of a plan: the date and the event, the checklist as it stood (each item,
    whether it was met, and what the secretariat confirmed of those not met), and who launched it. Launching opens
    the first reporting period of monitoring."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="launches", verbose_name=_("plan"))
    number = models.PositiveIntegerField(
        help_text=_("The endorsed version launched."), verbose_name=_("version launched")
    )
    launched_on = models.DateField(verbose_name=_("launch date"))
    event = models.ForeignKey(
        EngagementEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("event")
    )
    notes = models.TextField(blank=True, verbose_name=_("notes"))
    # [{"key", "name", "met", "detail", "url", "confirmed", "note"}] as the checklist stood at the launch, in the
    # language of who launched (stakeholders.launch).
    checklist = models.JSONField(default=list, editable=False, verbose_name=_("checklist"))
    # What the apps above did when the plan was launched (stakeholders.hooks.plan_launched): monitoring's reporting
    # period opened, {"period": {"id", "label", "url", "already_open", "generated"}}; empty when nothing was opened.
    opened = models.JSONField(default=dict, editable=False, verbose_name=_("opened at the launch"))
    launched_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("launched by")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("recorded at"))

    class Meta:
        verbose_name = _("launch")
        verbose_name_plural = _("launches")
        ordering = ["plan_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "number"],
                name="launch_once_per_version",
                violation_error_message=_("This version of the plan has been launched already."),
            ),
        ]

    def __str__(self) -> str:
        return gettext("Launch of version %(number)s") % {"number": self.number}
