"""Jurisdictions and plans: where a NAPHS is made, and the plan itself."""

from __future__ import annotations

import re

import pycountry
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property, lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from naphs.choices import Hazard, Sector, validate_choice_list
from naphs.models import ChoiceDisplayMixin, NamedInLanguages

# ISO 3166-1 reserves these alpha-2 codes for user assignment; a demo or training country may use one.
USER_ASSIGNED_CODES = frozenset(
    {"AA", "ZZ"} | {f"Q{c}" for c in "MNOPQRSTUVWXYZ"} | {f"X{c}" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
)

MIN_YEAR = 2000
MAX_YEAR = 2100


def _years_in_range_message() -> str:
    return gettext("Years must lie between %(first)d and %(last)d.") % {"first": MIN_YEAR, "last": MAX_YEAR}


def validate_country_code(code: str) -> None:
    if code in USER_ASSIGNED_CODES or pycountry.countries.get(alpha_2=code) is not None:
        return
    raise ValidationError(
        _("“%(code)s” is not an ISO 3166-1 alpha-2 country code."), code="invalid_country_code", params={"code": code}
    )


class Jurisdiction(models.Model):
    """A country (ISO 3166 code and name), or a province/state or district inside one.

    `country` points at the root of the tree (a country points at itself), so "everything in this
    country" is one indexed filter.
    """

    class Level(models.TextChoices):
        COUNTRY = "country", _("Country")
        PROVINCE = "province", _("Province / state")
        DISTRICT = "district", _("District")

    PARENT_LEVEL: dict[str, Level] = {Level.PROVINCE: Level.COUNTRY, Level.DISTRICT: Level.PROVINCE}

    # Translators: a jurisdiction's level: country, province or state, or district.
    level = models.CharField(max_length=10, choices=Level.choices, verbose_name=_("level"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    code = models.CharField(
        max_length=10,
        blank=True,
        help_text=_("ISO 3166-1 alpha-2 for a country (e.g. KE); optional below (an ISO 3166-2 or national code)."),
        verbose_name=_("code"),
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    country = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, editable=False, related_name="+", verbose_name=_("country")
    )

    class Meta:
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")
        ordering = ["country_id", "level", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level="country", parent__isnull=True) | (~Q(level="country") & Q(parent__isnull=False)),
                name="jurisdiction_country_has_no_parent",
                violation_error_message=_("A country has no parent; a province or district has one."),
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(level="country"),
                name="jurisdiction_unique_country_code",
                violation_error_message=_("A country with this ISO code already exists."),
            ),
            models.UniqueConstraint(
                fields=["parent", "name"],
                name="jurisdiction_unique_name_in_parent",
                violation_error_message=_("This name is already used under the same parent."),
            ),
        ]

    def __str__(self) -> str:
        if self.level == self.Level.COUNTRY:
            return f"{self.name} ({self.code})"
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self.level != self.Level.COUNTRY and self.parent is not None:
            self.country_id = self.parent.country_id
        super().save(*args, **kwargs)
        if self.level == self.Level.COUNTRY and self.country_id != self.pk:
            self.country_id = self.pk
            type(self).objects.filter(pk=self.pk).update(country_id=self.pk)

    def clean(self) -> None:
        self.code = self.code.strip().upper()
        if self.level == self.Level.COUNTRY:
            if self.parent_id is not None:
                raise ValidationError({"parent": gettext("A country has no parent jurisdiction.")})
            if not self.code:
                raise ValidationError({"code": gettext("A country needs its ISO 3166-1 alpha-2 code.")})
            try:
                validate_country_code(self.code)
            except ValidationError as error:
                raise ValidationError({"code": error.messages}) from error
        else:
            expected = self.PARENT_LEVEL.get(self.level)
            if self.parent is None:
                if self.level == self.Level.DISTRICT:
                    raise ValidationError({"parent": gettext("A district needs a parent.")})
                raise ValidationError({"parent": gettext("A province or state needs a parent.")})
            if expected is None or self.parent.level != expected:
                if self.level == self.Level.DISTRICT:
                    raise ValidationError({"parent": gettext("The parent of a district must be a province or state.")})
                raise ValidationError({"parent": gettext("The parent of a province or state must be a country.")})

    def ancestors_and_self_ids(self) -> list[int]:
        """This jurisdiction and those above it, nearest first (at most three, so at most two queries)."""
        ids: list[int] = []
        node: Jurisdiction | None = self
        while node is not None:
            ids.append(node.pk)
            node = node.parent
        return ids

    def is_within(self, other: Jurisdiction) -> bool:
        """True when this jurisdiction is `other` or lies inside it."""
        return other.pk in self.ancestors_and_self_ids()


class CountryGrant(models.Model):
    """An administrator's leave for one person to open national plans of one country, becoming each one's
    secretariat lead (and so the keeper of the country's organizations). It is the only way to open a plan that
    sits under no other: every other plan is opened by the secretariat of the plan it sits under."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="country_grants", verbose_name=_("person")
    )
    country = models.ForeignKey(
        Jurisdiction,
        on_delete=models.CASCADE,
        related_name="grants",
        limit_choices_to={"level": Jurisdiction.Level.COUNTRY},
        verbose_name=_("country"),
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("granted by"),
    )
    granted_at = models.DateTimeField(auto_now_add=True, verbose_name=_("granted at"))

    class Meta:
        ordering = ["country__name", "user__username"]
        verbose_name = _("country grant")
        verbose_name_plural = _("country grants")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "country"],
                name="country_grant_once_per_person",
                violation_error_message=_("This person already holds a grant for this country."),
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(user)s may open national plans of %(country)s") % {
            "user": self.user,
            "country": self.country,
        }

    def clean(self) -> None:
        if self.country_id is not None and self.country.level != Jurisdiction.Level.COUNTRY:
            raise ValidationError({"country": gettext("A grant is given for a country, not a province or district.")})


def validate_disease_tags(value: object) -> None:
    """A list of hazard tags (short words), each once."""
    if (
        not isinstance(value, list)
        or any(not isinstance(tag, str) or not tag.strip() or len(tag) > 80 for tag in value)
        or len(set(value)) < len(value)
    ):
        raise ValidationError(_("Priority diseases must be a list of diseases' tags, each once."))


class Plan(ChoiceDisplayMixin, models.Model):
    """A National (or provincial) Action Plan for Health Security.

    Strategic plans run about five years; operational plans (12 to 24 months) sit inside a strategic plan
    of the same jurisdiction. A provincial plan sits under a plan of a jurisdiction above it in the same
    country. `version` grows with every save, so a stale edit is refused instead of overwriting.
    """

    class Kind(models.TextChoices):
        STRATEGIC = "strategic", _("Strategic")
        OPERATIONAL = "operational", _("Operational")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        AWAITING_ENDORSEMENT = "awaiting", _("Awaiting endorsement")
        ENDORSED = "endorsed", _("Endorsed")

    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="plans", verbose_name=_("jurisdiction")
    )
    title = models.CharField(max_length=250, verbose_name=_("title"))
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.STRATEGIC, verbose_name=_("kind"))
    first_year = models.PositiveSmallIntegerField(verbose_name=_("first year"))
    last_year = models.PositiveSmallIntegerField(verbose_name=_("last year"))
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text=_("The national plan above a provincial plan, or the strategic plan around an operational plan."),
        verbose_name=_("parent plan"),
    )
    framework = models.ForeignKey(
        "Framework",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plans",
        help_text=_("The framework the plan's indicators and targets follow (JEE 3 unless chosen otherwise)."),
        verbose_name=_("framework"),
    )
    priority_diseases = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_disease_tags],
        help_text=_("Diseases whose benchmark actions join the draft, by the hazard tag of their actions."),
        verbose_name=_("priority diseases"),
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.DRAFT, editable=False, verbose_name=_("status")
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))
    edition = models.PositiveIntegerField(
        default=1,
        editable=False,
        help_text=_("The draft being written: endorsing draft N makes version N; reopening it starts draft N+1."),
        verbose_name=_("draft number"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["jurisdiction__country_id", "-first_year", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_year__gte=models.F("first_year")),
                name="plan_last_year_not_before_first",
                violation_error_message=_("The last year cannot precede the first year."),
            ),
            models.CheckConstraint(
                condition=Q(first_year__gte=MIN_YEAR, last_year__lte=MAX_YEAR),
                name="plan_years_in_range",
                violation_error_message=lazy(_years_in_range_message, str)(),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def period(self) -> str:
        return f"{self.first_year}" if self.first_year == self.last_year else f"{self.first_year}–{self.last_year}"

    @property
    def is_frozen(self) -> bool:
        """Endorsed: its content is read-only for everyone until the secretariat lead reopens it."""
        return self.status == self.Status.ENDORSED

    @property
    def endorsed_number(self) -> int | None:
        """The number of the endorsed version the plan stands at, None while it is a draft or in review."""
        return self.edition if self.is_frozen else None

    @cached_property
    def current_endorsement(self) -> Endorsement | None:
        """The endorsement of the version the plan stands at while endorsed (one query), None for a draft: what
        the banner of every page of an endorsed plan and the plan document's cover show."""
        if not self.is_frozen:
            return None
        return Endorsement.objects.filter(plan_id=self.pk, number=self.edition).first()

    @property
    def is_provincial(self) -> bool:
        return self.jurisdiction.level != Jurisdiction.Level.COUNTRY

    def clean(self) -> None:
        errors: dict[str, str] = {}
        years = {"first": MIN_YEAR, "last": MAX_YEAR}
        if self.first_year is not None and not MIN_YEAR <= self.first_year <= MAX_YEAR:
            errors["first_year"] = gettext("Enter a year between %(first)d and %(last)d.") % years
        if self.last_year is not None and not MIN_YEAR <= self.last_year <= MAX_YEAR:
            errors["last_year"] = gettext("Enter a year between %(first)d and %(last)d.") % years
        if not errors and self.first_year is not None and self.last_year is not None:
            if self.last_year < self.first_year:
                errors["last_year"] = gettext("The last year (%(last)d) precedes the first year (%(first)d).") % {
                    "last": self.last_year,
                    "first": self.first_year,
                }
            elif self.kind == self.Kind.OPERATIONAL and self.last_year - self.first_year > 1:
                errors["last_year"] = gettext("An operational plan covers 12 to 24 months: at most two calendar years.")
        if errors:
            raise ValidationError(errors)
        if self.parent_id is not None and self.jurisdiction_id is not None:
            self._clean_parent()

    def _clean_parent(self) -> None:
        parent = self.parent
        if parent is None:
            return
        if self.pk is not None and parent.pk == self.pk:
            raise ValidationError({"parent": gettext("A plan cannot be its own parent.")})
        try:
            validate_plan_placement(jurisdiction=self.jurisdiction, parent=parent)
        except ValidationError as error:  # a plan's own check names the parent: its jurisdiction is set for good
            raise ValidationError({"parent": error.message_dict["parent"]}) from None
        if parent.jurisdiction_id == self.jurisdiction_id:
            # Same jurisdiction: only an operational plan inside a strategic one.
            if self.kind != self.Kind.OPERATIONAL or parent.kind != self.Kind.STRATEGIC:
                raise ValidationError(
                    {
                        "parent": gettext(
                            "Within one jurisdiction, only an operational plan can sit inside a strategic plan."
                        )
                    }
                )
            if self.first_year < parent.first_year or self.last_year > parent.last_year:
                raise ValidationError(
                    {
                        "parent": gettext(
                            "An operational plan must lie inside its strategic plan's period (%(period)s)."
                        )
                        % {"period": parent.period}
                    }
                )
        elif parent.kind != self.Kind.STRATEGIC:
            raise ValidationError(
                {"parent": gettext("A provincial plan sits under a strategic plan of a jurisdiction above it.")}
            )


def validate_plan_placement(*, jurisdiction: Jurisdiction, parent: Plan | None) -> None:
    """A plan sits under a plan of its own jurisdiction or of one above it, in the same country: a ValidationError
    naming both fields otherwise, since either may be the one chosen wrong."""
    if parent is None or jurisdiction.is_within(parent.jurisdiction):
        return
    if parent.jurisdiction.country_id != jurisdiction.country_id:
        other = (parent.jurisdiction.country or parent.jurisdiction).name
        raise ValidationError(
            {
                "parent": gettext("The parent plan “%(parent)s” belongs to another country (%(country)s).")
                % {"parent": parent, "country": other},
                "jurisdiction": gettext("%(jurisdiction)s is not in %(country)s, the country of the parent plan.")
                % {"jurisdiction": jurisdiction.name, "country": other},
            }
        )
    raise ValidationError(
        {
            "parent": gettext("A provincial plan sits under a strategic plan of a jurisdiction above it."),
            "jurisdiction": gettext(
                "%(jurisdiction)s is not %(above)s or a jurisdiction inside it, as a plan under “%(parent)s” must be."
            )
            % {"jurisdiction": jurisdiction.name, "above": parent.jurisdiction.name, "parent": parent},
        }
    )


class CapacityLevel(models.IntegerChoices):
    """The five levels every JEE and SPAR indicator is scored on (planning/reference/capacity_levels.csv)."""

    NONE = 1, _("1 · No capacity")
    LIMITED = 2, _("2 · Limited capacity")
    DEVELOPED = 3, _("3 · Developed capacity")
    DEMONSTRATED = 4, _("4 · Demonstrated capacity")
    SUSTAINABLE = 5, _("5 · Sustainable capacity")


class Pillar(models.TextChoices):
    """The JEE 3 pillars; each label is given, as Django would otherwise humanize the member name ("Hazards Poe")."""

    PREVENT = "Prevent", _("Prevent")
    DETECT = "Detect", _("Detect")
    RESPOND = "Respond", _("Respond")
    HAZARDS_POE = "IHR-related hazards and points of entry", _("IHR-related hazards and points of entry")
    OTHER = "Other", _("Other")


class Framework(NamedInLanguages):
    """An assessment framework: JEE 3rd edition and SPAR 2nd edition come with the product; an administrator
    may load another (a future edition, a national self-assessment tool) from a spreadsheet."""

    code = models.CharField(
        max_length=20, unique=True, help_text=_("Short code, e.g. JEE3 or SPAR2."), verbose_name=_("code")
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))

    class Meta:
        verbose_name = _("framework")
        verbose_name_plural = _("frameworks")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.local_name


class TechnicalArea(NamedInLanguages):
    """A technical area (JEE) or capacity (SPAR), under one of the pillars."""

    framework = models.ForeignKey(
        Framework, on_delete=models.CASCADE, related_name="technical_areas", verbose_name=_("framework")
    )
    code = models.CharField(max_length=20, verbose_name=_("code"))
    name = models.CharField(max_length=250, verbose_name=_("name"))
    pillar = models.CharField(max_length=60, choices=Pillar.choices, verbose_name=_("pillar"))
    # Translators: a label: the position in a sorted list.
    order = models.PositiveSmallIntegerField(default=0, verbose_name=_("order"))

    class Meta:
        verbose_name = _("technical area")
        verbose_name_plural = _("technical areas")
        ordering = ["framework_id", "order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "code"],
                name="technical_area_unique_code_in_framework",
                violation_error_message=_("This framework already has a technical area with this code."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.local_name}"


def indicator_code_key(code: object) -> str:
    """The form of an indicator code that matching compares: upper case, no spaces, SPAR's `C.1.1` as `C1.1`."""
    text = re.sub(r"\s+", "", str(code or "")).upper()
    return re.sub(r"^([A-Z]+)\.(?=\d)", r"\1", text)


class Indicator(NamedInLanguages):
    """One scored indicator of a technical area, e.g. JEE 3 P1.1 "Legal instruments"."""

    framework = models.ForeignKey(
        Framework, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("framework")
    )
    technical_area = models.ForeignKey(
        TechnicalArea, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("technical area")
    )
    code = models.CharField(max_length=20, verbose_name=_("code"))
    name = models.CharField(max_length=300, verbose_name=_("name"))
    order = models.PositiveSmallIntegerField(default=0, verbose_name=_("order"))

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["framework_id", "order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "code"],
                name="indicator_unique_code_in_framework",
                violation_error_message=_("This framework already has an indicator with this code."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.local_name}"


class Crosswalk(models.Model):
    """How the indicators of one framework correspond to those of another (e.g. JEE 2 to JEE 3), as a set of links:
    editable data, `approximate` when it was matched by subject rather than published as an official table. Scores
    and library actions of an older framework reach a plan of a current one through it."""

    name = models.CharField(max_length=200, unique=True, verbose_name=_("name"))
    source_framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, related_name="crosswalks_out", verbose_name=_("from framework")
    )
    target_framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, related_name="crosswalks_in", verbose_name=_("to framework")
    )
    approximate = models.BooleanField(
        default=True,
        help_text=_("Matched by subject, not an official table: the product says so wherever it carries a level."),
        verbose_name=_("approximate"),
    )
    note = models.TextField(blank=True, help_text=_("How the crosswalk was made."), verbose_name=_("note"))

    class Meta:
        verbose_name = _("crosswalk")
        verbose_name_plural = _("crosswalks")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_framework", "target_framework"],
                name="crosswalk_unique_frameworks",
                violation_error_message=_("A crosswalk between these two frameworks exists already."),
            ),
            models.CheckConstraint(
                condition=~Q(source_framework=models.F("target_framework")),
                name="crosswalk_between_two_frameworks",
                violation_error_message=_("A crosswalk links two different frameworks."),
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name as pages show it, saying when the crosswalk is approximate."""
        return crosswalk_label(self.name, approximate=self.approximate)


def crosswalk_label(name: str, *, approximate: bool) -> str:
    if approximate:
        # Translators: a crosswalk's name (e.g. "JEE 2 – JEE 3"), said to be matched by subject, not official.
        return gettext("%(name)s (approximate)") % {"name": name}
    return name


class CrosswalkLink(models.Model):
    """One indicator of a crosswalk's first framework that corresponds to one of its second (e.g. JEE 3 P1.1 to
    SPAR 2 C1.1). Several may map to one; when scores are carried over, the lowest counts."""

    crosswalk = models.ForeignKey(
        Crosswalk, on_delete=models.CASCADE, related_name="links", verbose_name=_("crosswalk")
    )
    source = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="crosswalk_out", verbose_name=_("indicator")
    )
    target = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="crosswalk_in", verbose_name=_("corresponding indicator")
    )

    class Meta:
        verbose_name = _("crosswalk link")
        verbose_name_plural = _("crosswalk links")
        ordering = ["crosswalk_id", "source_id", "target_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["crosswalk", "source", "target"],
                name="crosswalk_unique_pair",
                violation_error_message=_("These indicators are already linked in this crosswalk."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source.code} → {self.target.code}"

    def clean(self) -> None:
        """Each end must be an indicator of its side of the crosswalk."""
        try:
            crosswalk = self.crosswalk
        except Crosswalk.DoesNotExist:
            return
        errors = {}
        for name, indicator_id, framework_id in (
            ("source", self.source_id, crosswalk.source_framework_id),
            ("target", self.target_id, crosswalk.target_framework_id),
        ):
            if indicator_id is None or framework_id is None:
                continue
            indicator = getattr(self, name)
            if indicator.framework_id != framework_id:
                framework = Framework.objects.get(pk=framework_id)
                errors[name] = gettext(
                    "%(code)s is an indicator of %(other)s; this side of the crosswalk “%(crosswalk)s” takes "
                    "indicators of %(framework)s."
                ) % {
                    "code": indicator.code,
                    "other": indicator.framework.code,
                    "crosswalk": crosswalk.name,
                    "framework": framework.code,
                }
        if errors:
            raise ValidationError(errors)


class ActionType(models.TextChoices):
    ADVOCACY = "advocacy", _("Advocacy")
    ASSESSMENT = "assessment", _("Assessment and data use")
    COORDINATION = "coordination", _("Coordination")
    DESIGNATION = "designation", _("Designation")
    DISSEMINATION = "dissemination", _("Dissemination")
    FINANCING = "financing", _("Financing")
    MONITORING = "monitoring", _("Monitoring and evaluation")
    PLANNING = "planning", _("Planning and strategy")
    PROCUREMENT = "procurement", _("Procurement")
    PROGRAMME = "programme", _("Programme implementation")
    # WHO's benchmarks call these "SimEx and AAR" and "SOPs": the labels carry WHO's short names beside the full ones.
    SIMULATION = "simulation", _("Simulation exercises and after-action reviews (SimEx and AAR)")
    SOP = "sop", _("Standard operating procedures (SOPs)")
    SURVEILLANCE = "surveillance", _("Surveillance")
    TOOLS = "tools", _("Tool development")
    TRAINING = "training", _("Training")


def validate_action_types(value: object) -> None:
    if not isinstance(value, list) or not value or any(item not in ActionType.values for item in value):
        raise ValidationError(
            gettext("Action types must be a non-empty list drawn from: %(values)s.")
            % {"values": ", ".join(ActionType.values)}
        )


class BenchmarkLibrary(models.Model):
    """A library of benchmark actions for one framework, e.g. the WHO benchmarks for IHR capacities, loaded
    from a spreadsheet or JSON file (format in the README)."""

    framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, related_name="libraries", verbose_name=_("framework")
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    source = models.CharField(
        max_length=250, blank=True, help_text=_("Where the actions come from."), verbose_name=_("source")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("benchmark library")
        ordering = ["name"]
        verbose_name_plural = _("benchmark libraries")
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "name"],
                name="library_unique_name_in_framework",
                violation_error_message=_("A library with this name exists for this framework."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


# The diseases the WHO Benchmarks platform has actions for, by the hazard tag their actions carry. A library may bring
# others: they are shown by their tag.
DISEASE_NAMES = {
    "influenza": _("Influenza"),
    "cholera": _("Cholera"),
    "ebola": _("Ebola disease"),
}


def disease_name(tag: str) -> str:
    """A disease's name for the person, from its hazard tag ("ebola")."""
    name = DISEASE_NAMES.get(tag.lower())
    return str(name) if name is not None else tag


class BenchmarkAction(models.Model):
    """One action of a library: what to do on an indicator to reach a capacity level (2 to 5), or, without a level,
    an action about one disease (its hazard tag: influenza, cholera, ebola), which joins a draft when the plan names
    that disease among its priority diseases."""

    library = models.ForeignKey(
        BenchmarkLibrary, on_delete=models.CASCADE, related_name="actions", verbose_name=_("library")
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="benchmark_actions", verbose_name=_("indicator")
    )
    level = models.PositiveSmallIntegerField(
        choices=[(n, label) for n, label in CapacityLevel.choices if n >= 2],
        null=True,
        blank=True,
        help_text=_("Empty only for an action about a disease (its hazard tag names it)."),
        verbose_name=_("capacity level"),
    )
    text = models.TextField(verbose_name=_("text"))
    action_types = models.JSONField(default=list, validators=[validate_action_types], verbose_name=_("action types"))
    hazard = models.CharField(
        max_length=80, blank=True, help_text=_("A disease or hazard tag, e.g. cholera."), verbose_name=_("hazard")
    )
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))
    # Where an action imported from the WHO Benchmarks platform's seed files came from: the platform's own number of
    # the action (its position in the seed files, which the platform's reference library refers to) and of its
    # benchmark indicator ("1.1" ... "18.1"). Empty for actions of other files.
    platform_id = models.PositiveIntegerField(
        null=True, blank=True, editable=False, verbose_name=_("number on the WHO Benchmarks platform")
    )
    benchmark_indicator = models.CharField(
        max_length=10, blank=True, editable=False, verbose_name=_("WHO benchmark indicator")
    )

    class Meta:
        verbose_name = _("benchmark action")
        verbose_name_plural = _("benchmark actions")
        ordering = ["library_id", "indicator_id", "level", "order"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__isnull=False, level__gte=2, level__lte=5) | (Q(level__isnull=True) & ~Q(hazard="")),
                name="benchmark_action_level_or_disease",
                violation_error_message=_(
                    "A benchmark action leads to a level from 2 to 5, or names the disease it is about."
                ),
            ),
        ]

    def __str__(self) -> str:
        step = f"L{self.level}" if self.level is not None else self.hazard
        return f"{self.indicator.code} {step}: {self.text[:60]}"


class BenchmarkIndicatorLink(models.Model):
    """Where a benchmark indicator of the WHO Benchmarks platform ("1.1" ... "18.1", numbered after the technical
    areas of the JEE 1st and 2nd editions) goes in a framework: its actions are imported towards this indicator. A
    benchmark indicator may go to several indicators (an action row for each), or to none of a framework (its
    actions are then reported as not mapped). Shipped as planning/reference/benchmark_indicator_mapping.csv, an
    approximate mapping by subject, editable in the admin."""

    benchmark_indicator = models.CharField(
        max_length=10, help_text=_("The platform's number, e.g. 1.1."), verbose_name=_("WHO benchmark indicator")
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="benchmark_links", verbose_name=_("indicator")
    )

    class Meta:
        verbose_name = _("benchmark indicator mapping")
        verbose_name_plural = _("benchmark indicator mappings")
        ordering = ["indicator__framework__code", "benchmark_indicator", "indicator__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["benchmark_indicator", "indicator"],
                name="benchmark_link_once",
                violation_error_message=_("This benchmark indicator is mapped to this indicator already."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.benchmark_indicator} → {self.indicator.code}"


class Assessment(models.Model):
    """An assessment of the plan's capacities (JEE, SPAR, a self-assessment), with a score per indicator.

    A baseline assessment is what the plan starts from: its scores give the baseline (planning.selectors
    plan_baseline), and it is the plan's content, frozen with it once endorsed. A follow-up assessment re-assesses
    the capacities while the plan is implemented (a yearly SPAR, a new JEE): it leaves the baseline as it is, shows
    the progress toward the targets, and is recorded on an endorsed plan too (PlanningConfig.ready registers it as
    writable when endorsed). The purpose is chosen when the assessment is recorded and never changes."""

    class Kind(models.TextChoices):
        JEE = "jee", _("Joint External Evaluation (JEE)")
        SPAR = "spar", _("State Party self-assessment annual report (SPAR)")
        SELF = "self", _("Self-assessment")
        OTHER = "other", _("Other")

    class Purpose(models.TextChoices):
        BASELINE = "baseline", _("Baseline")
        # Translators: an assessment's purpose: a re-assessment made while the plan is implemented.
        FOLLOW_UP = "follow_up", _("Follow-up")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="assessments", verbose_name=_("plan"))
    framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("framework")
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    date = models.DateField(verbose_name=_("date"))
    source = models.CharField(
        max_length=250,
        blank=True,
        help_text=_("Report, mission or file the scores come from."),
        verbose_name=_("source"),
    )
    purpose = models.CharField(
        max_length=10,
        choices=Purpose.choices,
        default=Purpose.BASELINE,
        help_text=_(
            "A baseline assessment gives the plan's starting levels; a follow-up re-assesses them during "
            "implementation and leaves the baseline as it is."
        ),
        verbose_name=_("purpose"),
    )
    origin = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="operational_copies",
        help_text=_("The strategic plan's assessment this operational plan's baseline was drawn from."),
        # Translators: a label: the row of the strategic plan this one was drawn from.
        verbose_name=_("origin"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["plan_id", "-date", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date:%Y-%m-%d}"

    @property
    def is_follow_up(self) -> bool:
        return self.purpose == self.Purpose.FOLLOW_UP


class IndicatorScore(models.Model):
    """An assessment's score of one indicator, 1 to 5. `version` refuses a stale edit."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="scores", verbose_name=_("assessment")
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="scores", verbose_name=_("indicator")
    )
    score = models.PositiveSmallIntegerField(choices=CapacityLevel.choices, verbose_name=_("score"))
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("indicator score")
        verbose_name_plural = _("indicator scores")
        ordering = ["assessment_id", "indicator__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "indicator"],
                name="score_one_per_indicator",
                violation_error_message=_("This indicator already has a score in this assessment."),
            ),
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5),
                name="score_1_to_5",
                violation_error_message=_("A score is a capacity level from 1 to 5."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code}: {self.score}"


class IndicatorTarget(models.Model):
    """The level a plan aims for on one indicator, with why. `version` refuses a stale edit."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="targets", verbose_name=_("plan"))
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="targets", verbose_name=_("indicator")
    )
    level = models.PositiveSmallIntegerField(choices=CapacityLevel.choices, verbose_name=_("target level"))
    justification = models.TextField(blank=True, verbose_name=_("justification"))
    origin = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="operational_copies",
        help_text=_("The strategic plan's target this operational plan's target was drawn from."),
        verbose_name=_("origin"),
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("indicator target")
        verbose_name_plural = _("indicator targets")
        ordering = ["plan_id", "indicator__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "indicator"],
                name="target_one_per_indicator",
                violation_error_message=_("This indicator already has a target in this plan."),
            ),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=5),
                name="target_1_to_5",
                violation_error_message=_("A target is a capacity level from 1 to 5."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} → {self.level}"


def validate_sectors(value: object) -> None:
    validate_choice_list(value, Sector, _("Sectors must be a list drawn from: %(values)s."))


def validate_hazards(value: object) -> None:
    validate_choice_list(value, Hazard, _("Hazards must be a list drawn from: %(values)s."))


class Activity(ChoiceDisplayMixin, models.Model):
    """One thing the plan will do: in a technical area, towards one or more indicators, by an organization.

    A draft activity generated from a benchmark action keeps the link to it; an activity of an operational plan
    drawn from a strategic plan keeps the link to its strategic origin. `version` refuses a stale edit.
    """

    class Source(models.TextChoices):
        BENCHMARK = "benchmark", _("Benchmark action")
        RECOMMENDATION = "recommendation", _("Assessment recommendation")
        AFTER_ACTION_REVIEW = "after_action_review", _("After-action review")
        SIMULATION = "simulation", _("Simulation exercise")
        SEVEN_ONE_SEVEN = "seven_one_seven", _("7-1-7 review")
        CUSTOM = "custom", _("Custom")

    class Level(models.TextChoices):
        NATIONAL = "national", _("National")
        PROVINCIAL = "provincial", _("Provincial")
        DISTRICT = "district", _("District")

    class Rating(models.TextChoices):
        HIGH = "high", _("High")
        MEDIUM = "medium", _("Medium")
        LOW = "low", _("Low")

    class Feasibility(models.TextChoices):
        EASY = "easy", _("Easy")
        MEDIUM = "medium", _("Medium")
        DIFFICULT = "difficult", _("Difficult")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        DELAYED = "delayed", _("Delayed")
        CANCELLED = "cancelled", _("Cancelled")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="activities", verbose_name=_("plan"))
    technical_area = models.ForeignKey(
        TechnicalArea, on_delete=models.PROTECT, related_name="activities", verbose_name=_("technical area")
    )
    indicators = models.ManyToManyField(Indicator, blank=True, related_name="activities", verbose_name=_("indicators"))
    title = models.CharField(max_length=300, verbose_name=_("title"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    source = models.CharField(max_length=24, choices=Source.choices, default=Source.CUSTOM, verbose_name=_("source"))
    benchmark_action = models.ForeignKey(
        BenchmarkAction,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name=_("benchmark action"),
    )
    action_type = models.CharField(max_length=20, choices=ActionType.choices, blank=True, verbose_name=_("action type"))
    responsible_organization = models.ForeignKey(
        "stakeholders.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="responsible_for",
        verbose_name=_("responsible organization"),
    )
    supporting_organizations = models.ManyToManyField(
        "stakeholders.Organization", blank=True, related_name="supporting", verbose_name=_("supporting organizations")
    )
    implementation_level = models.CharField(
        max_length=12, choices=Level.choices, default=Level.NATIONAL, verbose_name=_("implementation level")
    )
    start_date = models.DateField(null=True, blank=True, verbose_name=_("start date"))
    end_date = models.DateField(null=True, blank=True, verbose_name=_("end date"))
    impact = models.CharField(max_length=8, choices=Rating.choices, blank=True, verbose_name=_("impact"))
    feasibility = models.CharField(
        max_length=10, choices=Feasibility.choices, blank=True, verbose_name=_("feasibility")
    )
    priority = models.CharField(max_length=8, choices=Rating.choices, blank=True, verbose_name=_("priority"))
    sectors = models.JSONField(default=list, blank=True, validators=[validate_sectors], verbose_name=_("sectors"))
    hazards = models.JSONField(default=list, blank=True, validators=[validate_hazards], verbose_name=_("hazards"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT, verbose_name=_("status"))
    related_programme = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("An existing plan or programme this activity belongs to or builds on."),
        verbose_name=_("related programme"),
    )
    existing_budget = models.BooleanField(
        null=True,
        blank=True,
        help_text=_("Whether an existing budget already covers this activity."),
        verbose_name=_("existing budget"),
    )
    existing_budget_source = models.CharField(max_length=300, blank=True, verbose_name=_("existing budget source"))
    origin = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="operational_copies",
        help_text=_("The strategic plan's activity this operational activity was drawn from."),
        verbose_name=_("origin"),
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["plan_id", "technical_area__order", "pk"]
        indexes = [models.Index(fields=["plan", "technical_area"], name="activity_plan_area")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="activity_ends_after_it_starts",
                violation_error_message=_("An activity cannot end before it starts."),
            ),
            models.UniqueConstraint(
                fields=["plan", "origin"],
                condition=Q(origin__isnull=False),
                name="activity_drawn_once_per_plan",
                violation_error_message=_("This strategic activity is already in this operational plan."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors: dict[str, str] = {}
        plan = self.plan if self.plan_id else None
        if plan is not None:
            for name in ("start_date", "end_date"):
                value = getattr(self, name)
                if value is not None and not plan.first_year <= value.year <= plan.last_year:
                    errors[name] = gettext("Must lie within the plan's period (%(period)s).") % {"period": plan.period}
            if self.technical_area_id and plan.framework_id and self.technical_area.framework_id != plan.framework_id:
                errors["technical_area"] = gettext("This technical area belongs to another framework than the plan's.")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = gettext("An activity cannot end before it starts.")
        if errors:
            raise ValidationError(errors)


class GeneratedAction(models.Model):
    """A benchmark action once turned into a draft activity of a plan: regenerating never brings it back, even
    if people edited or deleted the activity."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="generated_actions", verbose_name=_("plan"))
    benchmark_action = models.ForeignKey(
        BenchmarkAction, on_delete=models.CASCADE, related_name="+", verbose_name=_("benchmark action")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("generated action")
        verbose_name_plural = _("generated actions")
        constraints = [
            models.UniqueConstraint(fields=["plan", "benchmark_action"], name="generated_action_once_per_plan"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.benchmark_action_id}"


class ActivityDependency(models.Model):
    """`activity` cannot be done before `depends_on`. The service refuses cycles."""

    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="dependencies", verbose_name=_("activity")
    )
    depends_on = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="dependents", verbose_name=_("depends on")
    )

    class Meta:
        verbose_name = _("activity dependency")
        verbose_name_plural = _("activity dependencies")
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "depends_on"],
                name="dependency_once",
                violation_error_message=_("This dependency exists already."),
            ),
            models.CheckConstraint(
                condition=~Q(activity=models.F("depends_on")),
                name="dependency_not_on_itself",
                violation_error_message=_("An activity cannot depend on itself."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id} after {self.depends_on_id}"


class PlanContext(models.Model):
    """The country context narrative of a plan (no technical area) or of one technical area in it."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="contexts", verbose_name=_("plan"))
    technical_area = models.ForeignKey(
        TechnicalArea,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("technical area"),
    )
    narrative = models.TextField(blank=True, verbose_name=_("narrative"))
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("plan context")
        verbose_name_plural = _("plan contexts")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "technical_area"],
                condition=Q(technical_area__isnull=False),
                name="context_once_per_area",
            ),
            models.UniqueConstraint(
                fields=["plan"], condition=Q(technical_area__isnull=True), name="context_once_per_plan"
            ),
        ]

    def __str__(self) -> str:
        return gettext("Context of %(subject)s") % {"subject": self.technical_area or self.plan}


class AreaPriority(models.Model):
    """A technical area's place in the plan's ranked list of priorities, with the rationale."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="priorities", verbose_name=_("plan"))
    technical_area = models.ForeignKey(
        TechnicalArea, on_delete=models.PROTECT, related_name="+", verbose_name=_("technical area")
    )
    rank = models.PositiveSmallIntegerField(verbose_name=_("rank"))
    rationale = models.TextField(blank=True, verbose_name=_("rationale"))

    class Meta:
        verbose_name = _("area priority")
        verbose_name_plural = _("area priorities")
        ordering = ["plan_id", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "technical_area"],
                name="priority_once_per_area",
                violation_error_message=_("This technical area is already ranked."),
            ),
            models.UniqueConstraint(
                fields=["plan", "rank"],
                name="priority_rank_unique",
                violation_error_message=_("Another technical area holds this rank."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.technical_area}"


class FunctionalGroup(models.Model):
    """Technical areas that work together (Prevent, Detect, Respond by default, or a custom group)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="functional_groups", verbose_name=_("plan"))
    name = models.CharField(max_length=120, verbose_name=_("name"))
    technical_areas = models.ManyToManyField(
        TechnicalArea, blank=True, related_name="+", verbose_name=_("technical areas")
    )
    order = models.PositiveSmallIntegerField(default=0, verbose_name=_("order"))
    version = models.PositiveIntegerField(default=0, verbose_name=_("version"))

    class Meta:
        verbose_name = _("functional group")
        verbose_name_plural = _("functional groups")
        ordering = ["plan_id", "order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "name"],
                name="functional_group_unique_name",
                violation_error_message=_("This plan already has a group with this name."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


# Guidance ------------------------------------------------------------------------------------------------------


class GuidanceType(models.TextChoices):
    """WHO's kinds of reference documents, as the Benchmarks platform's reference library names them."""

    BRIEFING_NOTE = "briefing_note", _("Briefing note")
    CASE_STUDY = "case_study", _("Case study")
    # Translators: a kind of guidance document: a worked example.
    EXAMPLE = "example", pgettext_lazy("kind of guidance document", "Example")
    GUIDELINE = "guideline", _("Guideline")
    MANUAL = "manual", _("Manual")
    # Translators: a kind of guidance document: a form or outline to fill in.
    TEMPLATE = "template", pgettext_lazy("kind of guidance document", "Template")
    # Translators: a kind of guidance document: a tool (a checklist, a calculator, an assessment tool).
    TOOL = "tool", pgettext_lazy("kind of guidance document", "Tool")
    TRAINING_PACKAGE = "training_package", _("Training package")


class GuidanceKind(models.TextChoices):
    """Whose a guidance document is: WHO's reference library, or a plan's national guidance."""

    WHO = "who", "WHO"
    # Translators: guidance added by the country (its secretariat), beside WHO's.
    NATIONAL = "national", pgettext_lazy("guidance added by the country", "National")


# What a planner looks for first: the tools and guidelines, then the rest in the platform's order.
GUIDANCE_TYPE_RANK: dict[str, int] = {GuidanceType.TOOL: 0, GuidanceType.GUIDELINE: 1}

GUIDANCE_LINK_SCHEMES = ("http", "https")


def validate_guidance_link(value: str) -> None:
    """A link opens a document on the web: http or https only (never javascript:, data:, file: or ftp:)."""
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if scheme not in GUIDANCE_LINK_SCHEMES:
        raise ValidationError(
            _("A link must start with http:// or https://."), code="invalid_link_scheme", params={"value": value}
        )
    URLValidator(schemes=list(GUIDANCE_LINK_SCHEMES))(value)


class GuidanceDocument(ChoiceDisplayMixin, models.Model):
    """A guidance document or tool beside the actions: either one of WHO's reference library, imported with a
    benchmark library (`library`, tied to its actions), or national guidance the secretariat of a plan added
    (`plan`, tied to technical areas and activities of that plan, and possibly to benchmark actions).
    `version` refuses a stale edit."""

    library = models.ForeignKey(
        BenchmarkLibrary,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="guidance_documents",
        verbose_name=_("benchmark library"),
    )
    plan = models.ForeignKey(
        Plan,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="guidance_documents",
        verbose_name=_("plan"),
    )
    platform_id = models.PositiveIntegerField(
        null=True, blank=True, editable=False, verbose_name=_("number on the WHO Benchmarks platform")
    )
    title = models.CharField(max_length=300, verbose_name=_("title"))
    reference_type = models.CharField(max_length=20, choices=GuidanceType.choices, verbose_name=_("type"))
    link = models.CharField(max_length=1000, validators=[validate_guidance_link], verbose_name=_("link"))
    description = models.TextField(blank=True, max_length=5000, verbose_name=_("description"))
    author = models.CharField(max_length=250, blank=True, verbose_name=_("author"))
    # Translators: the date of a guidance document, as published (often a year).
    date = models.CharField(max_length=40, blank=True, verbose_name=_("date"))
    relevant_pages = models.CharField(max_length=200, blank=True, verbose_name=_("relevant pages"))
    technical_area_name = models.CharField(
        max_length=200, blank=True, editable=False, verbose_name=_("technical area as published")
    )
    actions = models.ManyToManyField(
        BenchmarkAction, blank=True, related_name="guidance_documents", verbose_name=_("benchmark actions")
    )
    technical_areas = models.ManyToManyField(
        TechnicalArea, blank=True, related_name="guidance_documents", verbose_name=_("technical areas")
    )
    activities = models.ManyToManyField(
        Activity, blank=True, related_name="guidance_documents", verbose_name=_("activities")
    )
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("guidance document")
        verbose_name_plural = _("guidance documents")
        ordering = ["library_id", "plan_id", "order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(library__isnull=False, plan__isnull=True) | Q(library__isnull=True, plan__isnull=False),
                name="guidance_of_a_library_or_a_plan",
                violation_error_message=_("A guidance document belongs either to a benchmark library or to a plan."),
            ),
        ]

    def __str__(self) -> str:
        return " ".join(self.title.split())

    @property
    def is_national(self) -> bool:
        return self.plan_id is not None

    @property
    def kind_code(self) -> str:
        """The API's `kind`: “national” for a plan's guidance, “who” for WHO's reference library."""
        return GuidanceKind.NATIONAL if self.is_national else GuidanceKind.WHO

    @property
    def year(self) -> str:
        """The year of its date as published ("2018", "2020-02-12", "March 2019"), or the date as it is."""
        found = re.search(r"\b(19|20)\d{2}\b", self.date)
        return found.group(0) if found else self.date

    @property
    def rank(self) -> tuple[int, int, int, int]:
        """Where it goes in a list: WHO's first, tools then guidelines then the rest, each in the library's order."""
        return (
            1 if self.is_national else 0,
            GUIDANCE_TYPE_RANK.get(self.reference_type, 2),
            self.order,
            self.pk or 0,
        )


# Comments ----------------------------------------------------------------------------------------------------

COMMENT_MAX_CHARS = 10_000  # a long review note fits; a pasted document does not


class CommentThread(models.Model):
    """A conversation about one part of a plan: the plan as a whole, a technical area, an activity, a cost line,
    the context or the priorities. Its first comment opens it, replies follow; the secretariat or the person who
    started it resolves and reopens it.

    A cost line belongs to costing, above planning: the thread names it through a generic reference
    (`target_type`, `target_id`) that costing resolves (planning.hooks.comment_target), and keeps the line's
    activity in `activity`, so that counts per activity and area need no costing table. `review_round` is the
    round open when the thread was started (None outside a round).
    """

    class Subject(models.TextChoices):
        PLAN = "plan", _("The plan")
        AREA = "area", _("A technical area")
        ACTIVITY = "activity", _("An activity")
        COST_LINE = "cost_line", _("A cost line")
        CONTEXT = "context", _("The context")
        PRIORITIES = "priorities", _("The priorities")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="comment_threads", verbose_name=_("plan"))
    subject = models.CharField(max_length=12, choices=Subject.choices, verbose_name=_("subject"))
    technical_area = models.ForeignKey(
        TechnicalArea,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("technical area"),
    )
    activity = models.ForeignKey(
        Activity,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="comment_threads",
        verbose_name=_("activity"),
    )
    target_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("kind of object"),
    )
    target_id = models.PositiveBigIntegerField(null=True, blank=True, verbose_name=_("object ID"))
    target = GenericForeignKey("target_type", "target_id")
    review_round = models.ForeignKey(
        "ReviewRound",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="threads",
        verbose_name=_("review round"),
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN, verbose_name=_("state"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("comment thread")
        verbose_name_plural = _("comment threads")
        ordering = ["plan_id", "-created_at", "-pk"]
        indexes = [
            models.Index(fields=["plan", "state"], name="thread_plan_state"),
            models.Index(fields=["activity", "state"], name="thread_activity_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(subject="area", technical_area__isnull=False) | ~Q(subject="area"),
                name="thread_area_names_its_area",
                violation_error_message=_("Choose the technical area the comment is about."),
            ),
            models.CheckConstraint(
                condition=Q(subject__in=["activity", "cost_line"], activity__isnull=False)
                | (~Q(subject__in=["activity", "cost_line"]) & Q(activity__isnull=True)),
                name="thread_activity_only_for_activities",
                violation_error_message=_("Only a comment on an activity or a cost line names an activity."),
            ),
            models.CheckConstraint(
                condition=Q(subject="cost_line", target_type__isnull=False, target_id__isnull=False)
                | (~Q(subject="cost_line") & Q(target_type__isnull=True, target_id__isnull=True)),
                name="thread_target_only_for_cost_lines",
                violation_error_message=_("Only a comment on a cost line names a cost line."),
            ),
        ]

    def __str__(self) -> str:
        return gettext("Thread %(number)s on %(subject)s") % {"number": self.pk, "subject": self.get_subject_display()}

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN


class Comment(models.Model):
    """One comment of a thread: the text as its author wrote it (plain text with light formatting), the HTML it
    renders to, sanitised when it was saved, and the members it mentions (each e-mailed once)."""

    thread = models.ForeignKey(
        CommentThread, on_delete=models.CASCADE, related_name="comments", verbose_name=_("thread")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("author")
    )
    body = models.TextField(max_length=COMMENT_MAX_CHARS, verbose_name=_("comment"))
    html = models.TextField(editable=False, verbose_name=_("comment as shown"))
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("mentioned members")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["thread_id", "created_at", "pk"]

    def __str__(self) -> str:
        return self.body[:80]


# Versions, review rounds and endorsement ---------------------------------------------------------------------


class PlanVersion(models.Model):
    """A complete, immutable copy of a plan's content at one moment: scores, targets, activities with all their
    fields, cost lines, funding, priorities and context, as plain values (`content`, written by
    costing.versions). Each endorsement stores one (version N); each review round one of what it reviews; the
    secretariat saves named ones ("before the validation workshop"). A stored version is never changed."""

    class Kind(models.TextChoices):
        ENDORSED = "endorsed", pgettext_lazy("kind of stored version", "Endorsed")
        REVIEW = "review", _("Reviewed")
        NAMED = "named", _("Saved by the secretariat")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="versions", verbose_name=_("plan"))
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    edition = models.PositiveIntegerField(
        help_text=_("The draft the version was taken from; an endorsed version carries its number."),
        verbose_name=_("draft number"),
    )
    label = models.CharField(max_length=200, verbose_name=_("name"))
    content = models.JSONField(encoder=DjangoJSONEncoder, editable=False, verbose_name=_("content"))
    digest = models.CharField(max_length=64, editable=False, verbose_name=_("digest of the content"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("saved by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("saved at"))

    class Meta:
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        ordering = ["plan_id", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "edition"],
                condition=Q(kind="endorsed"),
                name="version_one_endorsement_per_draft",
                violation_error_message=_("This draft has already been endorsed."),
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("A stored version of a plan is never changed.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class ReviewRound(models.Model):
    """A round of review by WHO and partners: what is reviewed (a stored version, taken of the draft when the round
    opens), who reviews it, by when, and how it ended. One round is open at a time; while it is, the plan is
    in review."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("state of a review round", "Open")
        CLOSED = "closed", pgettext_lazy("state of a review round", "Closed")

    class Outcome(models.TextChoices):
        DRAFT = "draft", _("Back to draft")
        ENDORSEMENT = "endorsement", _("On to endorsement")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="review_rounds", verbose_name=_("plan"))
    number = models.PositiveSmallIntegerField(verbose_name=_("number"))
    snapshot = models.ForeignKey(
        PlanVersion, on_delete=models.PROTECT, related_name="review_rounds", verbose_name=_("version reviewed")
    )
    due_on = models.DateField(verbose_name=_("due date"))
    message = models.TextField(blank=True, max_length=COMMENT_MAX_CHARS, verbose_name=_("message to reviewers"))
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN, verbose_name=_("state"))
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True, verbose_name=_("outcome"))
    closing_note = models.TextField(blank=True, max_length=COMMENT_MAX_CHARS, verbose_name=_("closing note"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("opened by")
    )
    opened_at = models.DateTimeField(auto_now_add=True, verbose_name=_("opened at"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("review round")
        verbose_name_plural = _("review rounds")
        ordering = ["plan_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="review_round_number_unique"),
            models.UniqueConstraint(
                fields=["plan"],
                condition=Q(state="open"),
                name="review_round_one_open",
                violation_error_message=_("A review round is already open for this plan."),
            ),
        ]

    def __str__(self) -> str:
        return gettext("Review round %(number)d") % {"number": self.number}

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN


class ReviewInvitation(models.Model):
    """A member invited to review in a round, and their verdict: no objection, or changes requested, with a
    summary. `reminded_at` is when the beat last reminded them of an overdue verdict."""

    class Verdict(models.TextChoices):
        NO_OBJECTION = "no_objection", _("No objection")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")

    review_round = models.ForeignKey(
        ReviewRound, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("review round")
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="review_invitations",
        verbose_name=_("reviewer"),
    )
    verdict = models.CharField(max_length=20, choices=Verdict.choices, blank=True, verbose_name=_("verdict"))
    summary = models.TextField(blank=True, max_length=COMMENT_MAX_CHARS, verbose_name=_("summary"))
    verdict_at = models.DateTimeField(null=True, blank=True, verbose_name=_("verdict given at"))
    reminded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last reminded at"))
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("review invitation")
        verbose_name_plural = _("review invitations")
        ordering = ["review_round_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["review_round", "reviewer"],
                name="review_invitation_once_per_reviewer",
                violation_error_message=_("This person is already invited to review in this round."),
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(reviewer)s in %(round)s") % {"reviewer": self.reviewer, "round": self.review_round}


def endorsement_path(endorsement: Endorsement, filename: str) -> str:
    return f"endorsements/{endorsement.plan_id}/{filename}"


class Endorsement(models.Model):
    """The government's endorsement of draft N, which became version N: when, by which authority, the signed
    document if any, who recorded it; and, once the secretariat lead reopened the plan, when, by whom and why."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="endorsements", verbose_name=_("plan"))
    plan_version = models.OneToOneField(
        PlanVersion, on_delete=models.PROTECT, related_name="endorsement", verbose_name=_("version")
    )
    number = models.PositiveIntegerField(verbose_name=_("version number"))
    endorsed_on = models.DateField(verbose_name=_("date of endorsement"))
    authority = models.CharField(
        max_length=300,
        help_text=_("Who endorsed the plan, e.g. the Minister of Health or the Council of Ministers."),
        verbose_name=_("endorsing authority"),
    )
    signed_document = models.FileField(
        upload_to=endorsement_path, blank=True, max_length=300, verbose_name=_("signed document")
    )
    endorsed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("recorded at"))
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reopened by"),
    )
    reopened_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reopened at"))
    reopen_reason = models.TextField(blank=True, max_length=COMMENT_MAX_CHARS, verbose_name=_("reason for reopening"))

    class Meta:
        verbose_name = _("endorsement")
        verbose_name_plural = _("endorsements")
        ordering = ["plan_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="endorsement_number_unique"),
        ]

    def __str__(self) -> str:
        return gettext("Version %(number)d, endorsed by %(authority)s") % {
            "number": self.number,
            "authority": self.authority,
        }
