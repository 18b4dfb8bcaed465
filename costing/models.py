"""What a plan costs and who pays: currencies and rates, the unit-cost catalogue, cost lines, funding, rollups.

Money is Decimal end to end. A cost line's amounts are computed, never typed: its unit cost is converted to
the plan's base currency at the rate of its price year (`unit_cost_base`), and each year of the plan holds
`unit_cost_base × quantity × frequency` (CostLineYear.amount). Rollups are sums over those rows, kept per
plan and recomputed in the background; PlanCosting says whether they are current.
"""

from __future__ import annotations

from decimal import Decimal

import pycountry
from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from planning.models import MAX_YEAR, MIN_YEAR

# Bounds that catch a slipped decimal point or a pasted phone number without refusing any real plan.
MAX_UNIT_COST = Decimal("100000000000")  # 10^11 in any currency
MAX_QUANTITY = Decimal("1000000")
MAX_FREQUENCY = Decimal("366")  # at most daily
MAX_AMOUNT = Decimal("1000000000000000")  # 10^15
MAX_RATE = Decimal("1000000000")


def validate_currency_code(code: str) -> None:
    if not code or pycountry.currencies.get(alpha_3=code) is None:
        raise ValidationError(
            _("“%(code)s” is not an ISO 4217 currency code."), code="invalid_currency", params={"code": code}
        )


def currency_choices() -> list[tuple[str, str]]:
    return sorted((currency.alpha_3, f"{currency.alpha_3} · {currency.name}") for currency in pycountry.currencies)


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=18, decimal_places=2, **kwargs)


year_validators = [MinValueValidator(MIN_YEAR), MaxValueValidator(MAX_YEAR)]


class CostCategory(models.TextChoices):
    MEETINGS = "meetings", _("Meetings and workshops")
    PER_DIEM_TRAVEL = "per_diem_travel", _("Per diem and travel")
    CONSULTANCY = "consultancy", _("Consultancy")
    PERSONNEL = "personnel", _("Personnel")
    TRAINING = "training", _("Training")
    EQUIPMENT = "equipment", _("Equipment")
    SUPPLIES = "supplies", _("Supplies and commodities")
    INFRASTRUCTURE = "infrastructure", _("Infrastructure")
    COMMUNICATION = "communication", _("Communication and printing")
    TRANSPORT = "transport", _("Transport")
    OTHER = "other", _("Other")


class Unit(models.TextChoices):
    """The units a cost is counted in: one list for the catalogue, the browser and the workbook's drop-downs."""

    # Translators: the units a cost is counted in, shown after "per" (e.g. "120.00 USD per person-day").
    PERSON_DAY = "person-day", _("person-day")
    PARTICIPANT = "participant", _("participant")
    DAY = "day", _("day")
    NIGHT = "night", _("night")
    SESSION = "session", _("session")
    TRIP = "trip", _("trip")
    KM = "km", _("km")
    LITRE = "litre", _("litre")
    VEHICLE_DAY = "vehicle-day", _("vehicle-day")
    MONTH = "month", _("month")
    POST_MONTH = "post-month", _("post-month")
    HOUR = "hour", _("hour")
    ITEM = "item", _("item")
    KIT = "kit", _("kit")
    COPY = "copy", _("copy")
    ROOM_DAY = "room-day", _("room-day")
    MEAL = "meal", _("meal")
    LUMP_SUM = "lump sum", _("lump sum")


class PlanCosting(models.Model):
    """A plan's costing settings (base currency, price year) and the state of its rollups.

    `changes` grows with every change that moves a total; `rollup_of` is the value of `changes` the stored
    rollups were computed from. They differ while a recomputation is due: pages say so instead of showing
    stale totals as current. `rollup_queued` lets a burst of edits enqueue one recomputation.
    """

    plan = models.OneToOneField(
        "planning.Plan", on_delete=models.CASCADE, related_name="costing", verbose_name=_("plan")
    )
    currency = models.CharField(
        max_length=3,
        validators=[validate_currency_code],
        help_text=_("ISO 4217 code of the base currency every total is shown in."),
        verbose_name=_("base currency"),
    )
    price_year = models.PositiveSmallIntegerField(
        validators=year_validators,
        help_text=_("The year whose prices the plan is costed in."),
        verbose_name=_("price year"),
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))
    changes = models.PositiveBigIntegerField(default=0, editable=False, verbose_name=_("changes"))
    rollup_of = models.PositiveBigIntegerField(default=0, editable=False, verbose_name=_("changes the totals include"))
    rollup_queued = models.BooleanField(default=False, editable=False, verbose_name=_("recomputation queued"))
    rollup_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("totals computed at"))
    rollup_error = models.TextField(blank=True, editable=False, verbose_name=_("recomputation error"))

    class Meta:
        verbose_name = _("plan costing settings")
        verbose_name_plural = _("plan costing settings")

    def __str__(self) -> str:
        # Translators: a plan's costing settings, e.g. "National plan (USD, 2026 prices)".
        return gettext("%(plan)s (%(currency)s, %(year)s prices)") % {
            "plan": self.plan,
            "currency": self.currency,
            "year": self.price_year,
        }

    @property
    def rollup_current(self) -> bool:
        return self.rollup_of == self.changes and self.rollup_at is not None


class ExchangeRate(models.Model):
    """How many units of the plan's base currency one unit of `currency` was worth in `year`."""

    plan = models.ForeignKey(
        "planning.Plan", on_delete=models.CASCADE, related_name="exchange_rates", verbose_name=_("plan")
    )
    currency = models.CharField(max_length=3, validators=[validate_currency_code], verbose_name=_("currency"))
    year = models.PositiveSmallIntegerField(validators=year_validators, verbose_name=_("year"))
    rate = models.DecimalField(
        max_digits=20,
        decimal_places=8,
        validators=[MinValueValidator(Decimal("0.00000001")), MaxValueValidator(MAX_RATE)],
        help_text=_("Units of the base currency for one unit of this currency."),
        verbose_name=_("rate"),
    )
    source = models.CharField(
        max_length=250, blank=True, help_text=_("Where the rate comes from."), verbose_name=_("source")
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "currency", "year"],
                name="exchange_rate_once_per_year",
                violation_error_message=_("This plan already has a rate for this currency and year."),
            ),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate} ({self.year})"


class CatalogueItem(models.Model):
    """A unit cost shared by the plans of a jurisdiction (and those below it), or kept by one plan."""

    jurisdiction = models.ForeignKey(
        "planning.Jurisdiction",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="catalogue_items",
        verbose_name=_("jurisdiction"),
    )
    plan = models.ForeignKey(
        "planning.Plan",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="catalogue_items",
        verbose_name=_("plan"),
    )
    name = models.CharField(max_length=250, verbose_name=_("name"))
    category = models.CharField(max_length=20, choices=CostCategory.choices, verbose_name=_("category"))
    unit = models.CharField(max_length=20, choices=Unit.choices, verbose_name=_("unit"))
    unit_cost = money_field(
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_UNIT_COST)], verbose_name=_("unit cost")
    )
    currency = models.CharField(max_length=3, validators=[validate_currency_code], verbose_name=_("currency"))
    price_year = models.PositiveSmallIntegerField(validators=year_validators, verbose_name=_("price year"))
    source = models.CharField(
        max_length=250, blank=True, help_text=_("Where the price comes from."), verbose_name=_("source")
    )
    notes = models.TextField(blank=True, verbose_name=_("notes"))
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("catalogue item")
        verbose_name_plural = _("catalogue items")
        ordering = ["category", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(jurisdiction__isnull=True) ^ Q(plan__isnull=True),
                name="catalogue_item_one_owner",
                violation_error_message=_("A catalogue item belongs to a jurisdiction or to a plan, not both."),
            ),
        ]

    def __str__(self) -> str:
        # Translators: a catalogue item, e.g. "Per diem, capital (120.00 USD per person-day)".
        return gettext("%(name)s (%(price)s %(currency)s per %(unit)s)") % {
            "name": self.name,
            "price": self.unit_cost,
            "currency": self.currency,
            "unit": self.get_unit_display(),
        }


class CostLine(models.Model):
    """One line of an activity's cost: unit cost × quantity × frequency in each year of the plan.

    A line taken from the catalogue keeps the item's unit, unit cost, currency and price year, and follows a
    deliberate price change of the item; a free line carries its own. `import_key` remembers which workbook
    row created the line, so uploading the same workbook again updates it instead of adding it twice.
    """

    class Recurrence(models.TextChoices):
        ONE_OFF = "one_off", _("One-off")
        RECURRING = "recurring", _("Recurring")

    plan = models.ForeignKey(
        "planning.Plan", on_delete=models.CASCADE, related_name="cost_lines", verbose_name=_("plan")
    )
    activity = models.ForeignKey(
        "planning.Activity", on_delete=models.CASCADE, related_name="cost_lines", verbose_name=_("activity")
    )
    catalogue_item = models.ForeignKey(
        CatalogueItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cost_lines",
        verbose_name=_("catalogue item"),
    )
    description = models.CharField(max_length=300, verbose_name=_("description"))
    category = models.CharField(max_length=20, choices=CostCategory.choices, verbose_name=_("category"))
    secondary_category = models.CharField(
        max_length=20,
        choices=CostCategory.choices,
        blank=True,
        help_text=_("A second category, as the WHO tool has."),
        verbose_name=_("secondary category"),
    )
    unit = models.CharField(max_length=20, choices=Unit.choices, verbose_name=_("unit"))
    unit_cost = money_field(
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_UNIT_COST)], verbose_name=_("unit cost")
    )
    currency = models.CharField(max_length=3, validators=[validate_currency_code], verbose_name=_("currency"))
    price_year = models.PositiveSmallIntegerField(validators=year_validators, verbose_name=_("price year"))
    unit_cost_base = models.DecimalField(
        max_digits=24, decimal_places=6, editable=False, verbose_name=_("unit cost in the base currency")
    )
    quantity = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_QUANTITY)],
        verbose_name=_("quantity"),
    )
    recurrence = models.CharField(
        max_length=10, choices=Recurrence.choices, default=Recurrence.RECURRING, verbose_name=_("recurrence")
    )
    optional = models.BooleanField(
        default=False, help_text=_("Counted only in the scenario with optional costs."), verbose_name=_("optional")
    )
    assumptions = models.TextField(blank=True, verbose_name=_("assumptions"))
    technical_comment = models.TextField(blank=True, verbose_name=_("technical comment"))
    costing_comment = models.TextField(blank=True, verbose_name=_("costing comment"))
    import_key = models.CharField(max_length=80, blank=True, editable=False, verbose_name=_("import key"))
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))
    origin = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="operational_copies",
        help_text=_("The strategic plan's cost line this operational plan's line was drawn from."),
        verbose_name=_("origin"),
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))
    # The comment threads about the line (planning's, which names the line through a generic reference): they
    # go when the line goes.
    comment_threads = GenericRelation(
        "planning.CommentThread", content_type_field="target_type", object_id_field="target_id"
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("cost line")
        verbose_name_plural = _("cost lines")
        ordering = ["activity_id", "order", "pk"]
        indexes = [
            models.Index(fields=["plan", "activity"], name="cost_line_plan_activity"),
            models.Index(fields=["catalogue_item"], name="cost_line_catalogue_item"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "import_key"],
                condition=~Q(import_key=""),
                name="cost_line_import_key_once",
            ),
            models.UniqueConstraint(
                fields=["plan", "origin"],
                condition=Q(origin__isnull=False),
                name="cost_line_drawn_once_per_plan",
                violation_error_message=_("This strategic cost line is already in this operational plan."),
            ),
        ]

    def __str__(self) -> str:
        return self.description


class CostLineYear(models.Model):
    """A cost line in one year of the plan: how often, and what it comes to in the base currency."""

    cost_line = models.ForeignKey(CostLine, on_delete=models.CASCADE, related_name="years", verbose_name=_("cost line"))
    year = models.PositiveSmallIntegerField(validators=year_validators, verbose_name=_("year"))
    frequency = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_FREQUENCY)],
        verbose_name=_("frequency"),
    )
    amount = models.DecimalField(max_digits=24, decimal_places=2, editable=False, verbose_name=_("amount"))

    class Meta:
        verbose_name = _("cost line year")
        verbose_name_plural = _("cost line years")
        ordering = ["cost_line_id", "year"]
        constraints = [
            models.UniqueConstraint(fields=["cost_line", "year"], name="cost_line_year_once"),
        ]

    def __str__(self) -> str:
        return f"{self.year}: {self.frequency} × = {self.amount}"


class FundingCommitment(models.Model):
    """Money a source has pledged, committed or disbursed towards a plan: for an area or for activities.

    The amount is spread evenly over its years, each year's share converted at that year's rate.
    """

    class SourceKind(models.TextChoices):
        GOVERNMENT = "government", _("Government budget line")
        DONOR = "donor", _("Donor")
        PARTNER = "partner", _("Partner")

    class Status(models.TextChoices):
        PLEDGED = "pledged", _("Pledged")
        COMMITTED = "committed", _("Committed")
        DISBURSED = "disbursed", _("Disbursed")

    # What counts against the gap: money that is more than a promise.
    FIRM = (Status.COMMITTED, Status.DISBURSED)

    plan = models.ForeignKey(
        "planning.Plan", on_delete=models.CASCADE, related_name="funding_commitments", verbose_name=_("plan")
    )
    source_organization = models.ForeignKey(
        "stakeholders.Organization",
        on_delete=models.PROTECT,
        related_name="funding_commitments",
        verbose_name=_("source organization"),
    )
    source_kind = models.CharField(max_length=12, choices=SourceKind.choices, verbose_name=_("source kind"))
    budget_line = models.CharField(
        max_length=250, blank=True, help_text=_("The budget line or grant reference."), verbose_name=_("budget line")
    )
    amount = money_field(
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_AMOUNT)], verbose_name=_("amount")
    )
    currency = models.CharField(max_length=3, validators=[validate_currency_code], verbose_name=_("currency"))
    first_year = models.PositiveSmallIntegerField(validators=year_validators, verbose_name=_("first year"))
    last_year = models.PositiveSmallIntegerField(validators=year_validators, verbose_name=_("last year"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLEDGED, verbose_name=_("status"))
    technical_area = models.ForeignKey(
        "planning.TechnicalArea",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Funds a whole technical area (leave empty when it funds chosen activities)."),
        verbose_name=_("technical area"),
    )
    activities = models.ManyToManyField(
        "planning.Activity", blank=True, related_name="funding_commitments", verbose_name=_("activities")
    )
    notes = models.TextField(blank=True, verbose_name=_("notes"))
    advocacy = models.ForeignKey(
        "stakeholders.Advocacy",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="funding_commitments",
        help_text=_("The advocacy whose pledge this commitment records."),
        verbose_name=_("advocacy"),
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("funding commitment")
        verbose_name_plural = _("funding commitments")
        ordering = ["plan_id", "first_year", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_year__gte=models.F("first_year")),
                name="funding_last_year_not_before_first",
                violation_error_message=_("The last year cannot precede the first year."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_organization}: {self.amount} {self.currency} ({self.get_status_display()})"


class CostRollup(models.Model):
    """Stored totals of a plan's cost lines by area, category, responsible organization and year."""

    # Derived rows, written in one statement from cost lines whose keys the database already checks. Read by plan
    # only (the index below): no index per foreign key, so a recomputation writes one index; and no foreign-key
    # constraint, whose triggers checked every stored row at commit and took longer than computing the totals.
    # Django still deletes the rows with their plan, area or organization (on_delete).
    plan = models.ForeignKey(
        "planning.Plan",
        on_delete=models.CASCADE,
        related_name="cost_rollups",
        db_index=False,
        db_constraint=False,
        verbose_name=_("plan"),
    )
    technical_area = models.ForeignKey(
        "planning.TechnicalArea",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("technical area"),
    )
    category = models.CharField(max_length=20, choices=CostCategory.choices, verbose_name=_("category"))
    organization = models.ForeignKey(
        "stakeholders.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("organization"),
    )
    year = models.PositiveSmallIntegerField(verbose_name=_("year"))
    required = models.DecimalField(max_digits=24, decimal_places=2, default=Decimal("0"), verbose_name=_("required"))
    optional = models.DecimalField(max_digits=24, decimal_places=2, default=Decimal("0"), verbose_name=_("optional"))

    class Meta:
        verbose_name = _("cost rollup")
        verbose_name_plural = _("cost rollups")
        indexes = [models.Index(fields=["plan", "year"], name="cost_rollup_plan_year")]

    def __str__(self) -> str:
        # Translators: a row of stored totals: year, cost category, required costs and optional costs.
        return gettext("%(year)s %(category)s: %(required)s (+%(optional)s optional)") % {
            "year": self.year,
            "category": self.get_category_display(),
            "required": self.required,
            "optional": self.optional,
        }


class FundingRollup(models.Model):
    """Stored funding of a plan by area, source, status and year, in the base currency."""

    plan = models.ForeignKey(
        "planning.Plan",
        on_delete=models.CASCADE,
        related_name="funding_rollups",
        db_index=False,
        verbose_name=_("plan"),
    )
    technical_area = models.ForeignKey(
        "planning.TechnicalArea",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("technical area"),
    )
    source_organization = models.ForeignKey(
        "stakeholders.Organization",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("source organization"),
    )
    status = models.CharField(max_length=10, choices=FundingCommitment.Status.choices, verbose_name=_("status"))
    year = models.PositiveSmallIntegerField(verbose_name=_("year"))
    amount = models.DecimalField(max_digits=24, decimal_places=2, default=Decimal("0"), verbose_name=_("amount"))

    class Meta:
        verbose_name = _("funding rollup")
        verbose_name_plural = _("funding rollups")
        indexes = [models.Index(fields=["plan", "year"], name="funding_rollup_plan_year")]

    def __str__(self) -> str:
        return f"{self.year} {self.get_status_display()}: {self.amount}"


class CostingUpload(models.Model):
    """A costing workbook someone uploaded: checked and applied all or nothing by a background job.

    `digest` (SHA-256 of the file) lets the page say a file was applied before; `problems` lists every
    problem by sheet, row and column, `conflicts` the lines someone else changed since the download. The file
    itself is deleted once the upload is applied or refused; the row stays as the record.
    """

    class Layout(models.TextChoices):
        WORKBOOK = "workbook", _("Costing workbook")
        WHO = "who", _("WHO costing tool layout")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        APPLIED = "applied", _("Applied")
        REFUSED = "refused", _("Refused")

    plan = models.ForeignKey(
        "planning.Plan", on_delete=models.CASCADE, related_name="costing_uploads", verbose_name=_("plan")
    )
    layout = models.CharField(max_length=10, choices=Layout.choices, default=Layout.WORKBOOK, verbose_name=_("layout"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("uploaded by")
    )
    file = models.FileField(
        upload_to="uploads/costing/%Y/%m/", blank=True, verbose_name=_("file")
    )  # emptied once applied or refused
    filename = models.CharField(max_length=250, verbose_name=_("file name"))
    size = models.PositiveBigIntegerField(default=0, verbose_name=_("size"))
    digest = models.CharField(max_length=64, verbose_name=_("digest"))
    job = models.OneToOneField(
        "naphs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="upload", verbose_name=_("job")
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status"))
    problems = models.JSONField(default=list, blank=True, verbose_name=_("problems"))
    conflicts = models.JSONField(default=list, blank=True, verbose_name=_("conflicts"))
    summary = models.JSONField(default=dict, blank=True, verbose_name=_("summary"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("costing upload")
        verbose_name_plural = _("costing uploads")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def problem_total(self) -> int:
        """How many problems refused it: more than those kept when there were very many."""
        return max(int(self.summary.get("problem_count") or 0), len(self.problems))

    def file_discard(self) -> None:
        """Delete the uploaded file once the upload is applied or refused (after the transaction commits); the
        row keeps its name, size and digest."""
        from naphs.uploads import stored_file_delete

        name = self.file.name
        if name:
            CostingUpload.objects.filter(pk=self.pk).update(file="")
            self.file.name = ""
            transaction.on_commit(lambda: stored_file_delete(name))
