"""Implementation monitoring: reporting periods, progress per activity and period, reviews, the results framework
(M&E indicators with baselines, yearly targets and actuals) and 7-1-7 timeliness of health events.

Everything here goes on while the plan is endorsed (MonitoringConfig.ready registers these models with
writable_when_endorsed_register): an endorsed plan is the one being implemented. Money is Decimal: a progress
update keeps the amount as reported, in its currency, and that amount converted to the plan's base currency at the
rate of the period's year (`amount_spent_base`), so sums over spending are sums over one column.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from costing.models import MAX_AMOUNT, money_field, validate_currency_code, year_validators
from planning.models import Activity, Plan, TechnicalArea


class ReportingPeriod(models.Model):
    """A period progress is reported for (a quarter by default), inside the plan's years. It is planned, then opened
    by the secretariat, due on a date, and closed; reports are taken while it is open only."""

    class State(models.TextChoices):
        PLANNED = "planned", _("Planned")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="reporting_periods", verbose_name=_("plan"))
    label = models.CharField(max_length=60, verbose_name=_("name"))
    starts_on = models.DateField(verbose_name=_("first day"))
    ends_on = models.DateField(verbose_name=_("last day"))
    due_on = models.DateField(verbose_name=_("reports due"))
    state = models.CharField(max_length=8, choices=State.choices, default=State.PLANNED, verbose_name=_("state"))
    opened_at = models.DateTimeField(null=True, blank=True, verbose_name=_("opened at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    reminded_on = models.DateField(null=True, blank=True, editable=False, verbose_name=_("last reminded on"))
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("reporting period")
        verbose_name_plural = _("reporting periods")
        ordering = ["plan_id", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="period_ends_after_it_starts",
                violation_error_message=_("A reporting period cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("starts_on")),
                name="period_due_after_it_starts",
                violation_error_message=_("Reports cannot be due before the period starts."),
            ),
            models.UniqueConstraint(
                fields=["plan", "starts_on"],
                name="period_one_per_start",
                violation_error_message=_("The plan already has a reporting period starting on that day."),
            ),
        ]
        indexes = [models.Index(fields=["state", "due_on"], name="period_state_due")]

    def __str__(self) -> str:
        return self.label

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN


class ProgressReminder(models.Model):
    """An e-mail reminding one person of the reports they still owe for an open period: at most one a day per
    person and period, the row being what says one went out."""

    period = models.ForeignKey(
        ReportingPeriod, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("reporting period")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("person")
    )
    sent_on = models.DateField(verbose_name=_("sent on"))
    unreported = models.PositiveIntegerField(default=0, verbose_name=_("activities not reported"))

    class Meta:
        verbose_name = _("progress reminder")
        verbose_name_plural = _("progress reminders")
        ordering = ["period_id", "user_id", "sent_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "user", "sent_on"],
                name="progress_reminder_one_a_day",
                violation_error_message=_("This person was already reminded of this period today."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.period} · {self.sent_on.isoformat()}"


class ProgressStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    ON_TRACK = "on_track", _("On track")
    DELAYED = "delayed", _("Delayed")
    AT_RISK = "at_risk", _("At risk")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class ProgressUpdate(models.Model):
    """What was done on one activity in one period: one report per activity and period, corrected in place while
    the period is open (`version` refuses a stale correction)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="progress_updates", verbose_name=_("plan"))
    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="progress_updates", verbose_name=_("activity")
    )
    period = models.ForeignKey(
        ReportingPeriod, on_delete=models.CASCADE, related_name="updates", verbose_name=_("reporting period")
    )
    status = models.CharField(max_length=12, choices=ProgressStatus.choices, verbose_name=_("status"))
    percent_complete = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(100)], verbose_name=_("percent complete")
    )
    amount_spent = money_field(
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_AMOUNT)],
        verbose_name=_("amount spent"),
    )
    currency = models.CharField(
        max_length=3, blank=True, validators=[validate_currency_code], verbose_name=_("currency")
    )
    amount_spent_base = money_field(
        null=True, blank=True, editable=False, verbose_name=_("amount spent in the base currency")
    )
    narrative = models.TextField(blank=True, max_length=10000, verbose_name=_("narrative"))
    blockers = models.TextField(blank=True, max_length=10000, verbose_name=_("blockers"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("reported by"),
    )
    reported_at = models.DateTimeField(auto_now=True, verbose_name=_("reported at"))
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")
        ordering = ["period_id", "activity_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "period"],
                name="progress_one_per_activity_period",
                violation_error_message=_("This activity already has a report for this period."),
            ),
            models.CheckConstraint(
                condition=Q(percent_complete__lte=100),
                name="progress_percent_at_most_100",
                violation_error_message=_("Percent complete is at most 100."),
            ),
            models.CheckConstraint(
                condition=Q(amount_spent__isnull=True) | ~Q(currency=""),
                name="progress_spending_has_currency",
                violation_error_message=_("An amount spent needs its currency."),
            ),
        ]
        indexes = [models.Index(fields=["plan", "period"], name="progress_plan_period")]

    def __str__(self) -> str:
        return f"{self.activity} · {self.period}"


def evidence_path(instance: ProgressEvidence, filename: str) -> str:
    return f"evidence/{instance.update.plan_id}/{instance.update_id}/{filename}"


class ProgressEvidence(models.Model):
    """Evidence of a progress update: a file (checked as every upload is) or a link."""

    update = models.ForeignKey(
        ProgressUpdate, on_delete=models.CASCADE, related_name="evidence", verbose_name=_("progress update")
    )
    file = models.FileField(upload_to=evidence_path, blank=True, max_length=300, verbose_name=_("file"))
    file_name = models.CharField(max_length=200, blank=True, verbose_name=_("file name"))
    content_type = models.CharField(max_length=100, blank=True, verbose_name=_("kind of file"))
    size = models.PositiveBigIntegerField(default=0, verbose_name=_("size"))
    link = models.URLField(max_length=1000, blank=True, verbose_name=_("link"))
    description = models.CharField(max_length=300, blank=True, verbose_name=_("description"))
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("added by")
    )
    added_at = models.DateTimeField(auto_now_add=True, verbose_name=_("added at"))

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["update_id", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(file="") & ~Q(link="")) | (~Q(file="") & Q(link="")),
                name="evidence_file_or_link",
                violation_error_message=_("Evidence is a file or a link, one of the two."),
            ),
        ]

    def __str__(self) -> str:
        return self.file_name or self.link


class Review(models.Model):
    """A quarterly or annual review the secretariat holds: the period, who took part, what was decided, and a
    snapshot of every activity's progress at that moment (kept as it was, whatever is reported later)."""

    class Kind(models.TextChoices):
        QUARTERLY = "quarterly", _("Quarterly review")
        ANNUAL = "annual", _("Annual review")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="progress_reviews", verbose_name=_("plan"))
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    period = models.ForeignKey(
        ReportingPeriod, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("reporting period")
    )
    held_on = models.DateField(verbose_name=_("held on"))
    participants = models.TextField(blank=True, max_length=10000, verbose_name=_("participants"))
    participant_members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("members who took part")
    )
    decisions = models.TextField(blank=True, max_length=10000, verbose_name=_("decisions"))
    snapshot = models.JSONField(default=list, editable=False, verbose_name=_("progress at the review"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("recorded at"))
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("progress review")
        verbose_name_plural = _("progress reviews")
        ordering = ["plan_id", "-held_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "kind"],
                name="review_one_per_kind_and_period",
                violation_error_message=_("This period already has a review of this kind."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.period}"


class ReviewDecision(models.Model):
    """What a review decided for one activity: carried over (into the next period, or by an annual review into the
    next operational plan), re-scheduled (new dates) or dropped. New dates and a drop reach the activity through
    planning's activity service while the plan is a draft (`applied_at`); on an endorsed plan they wait for it to be
    reopened. `version` refuses a stale change."""

    class Decision(models.TextChoices):
        CARRIED_OVER = "carried_over", _("Carried over")
        RESCHEDULED = "rescheduled", _("Re-scheduled")
        DROPPED = "dropped", _("Dropped")

    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="activity_decisions", verbose_name=_("review")
    )
    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="review_decisions", verbose_name=_("activity")
    )
    decision = models.CharField(max_length=12, choices=Decision.choices, verbose_name=_("decision"))
    new_start_date = models.DateField(null=True, blank=True, verbose_name=_("new start date"))
    new_end_date = models.DateField(null=True, blank=True, verbose_name=_("new end date"))
    note = models.TextField(blank=True, max_length=5000, verbose_name=_("note"))
    carried_into = models.ForeignKey(
        Activity,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="carried_from",
        verbose_name=_("carried into"),
    )
    applied_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When the new dates or the cancellation reached the activity; empty while the plan is endorsed (they "
            "apply when it is reopened)."
        ),
        verbose_name=_("applied to the activity at"),
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("decision on an activity")
        verbose_name_plural = _("decisions on activities")
        ordering = ["review_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "activity"],
                name="review_one_decision_per_activity",
                violation_error_message=_("This review already has a decision on this activity."),
            ),
            models.CheckConstraint(
                condition=Q(new_end_date__isnull=True)
                | Q(new_start_date__isnull=True)
                | Q(new_end_date__gte=models.F("new_start_date")),
                name="review_decision_ends_after_it_starts",
                violation_error_message=_("An activity cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity}: {self.get_decision_display()}"


class MEIndicator(models.Model):
    """An indicator of the plan's results framework, attached to the plan, a technical area or activities. A
    capacity indicator stands for a JEE/SPAR indicator (`capacity_indicator`): its baseline is the assessment and
    its targets the plan's targets, read from planning, never typed here."""

    class Kind(models.TextChoices):
        OUTPUT = "output", _("Output")
        OUTCOME = "outcome", _("Outcome")
        IMPACT = "impact", _("Impact")
        CAPACITY = "capacity", _("Capacity (JEE/SPAR level)")

    class Frequency(models.TextChoices):
        QUARTERLY = "quarterly", _("Quarterly")
        SEMIANNUAL = "semiannual", _("Every six months")
        ANNUAL = "annual", _("Yearly")
        END_OF_PLAN = "end_of_plan", _("At the end of the plan")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="me_indicators", verbose_name=_("plan"))
    code = models.CharField(max_length=30, verbose_name=_("code"))
    name = models.CharField(max_length=300, verbose_name=_("name"))
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("type"))
    technical_area = models.ForeignKey(
        TechnicalArea,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="me_indicators",
        verbose_name=_("technical area"),
    )
    activities = models.ManyToManyField(
        Activity, blank=True, related_name="me_indicators", verbose_name=_("activities")
    )
    capacity_indicator = models.ForeignKey(
        "planning.Indicator",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="me_indicators",
        verbose_name=_("capacity indicator"),
    )
    definition = models.TextField(blank=True, max_length=5000, verbose_name=_("definition"))
    unit = models.CharField(max_length=60, blank=True, verbose_name=_("unit"))
    data_source = models.CharField(max_length=300, blank=True, verbose_name=_("data source"))
    frequency = models.CharField(
        max_length=12, choices=Frequency.choices, default=Frequency.ANNUAL, verbose_name=_("frequency")
    )
    means_of_verification = models.CharField(max_length=300, blank=True, verbose_name=_("means of verification"))
    baseline_value = models.DecimalField(
        max_digits=18, decimal_places=4, null=True, blank=True, verbose_name=_("baseline value")
    )
    baseline_year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=year_validators, verbose_name=_("baseline year")
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("M&E indicator")
        verbose_name_plural = _("M&E indicators")
        ordering = ["plan_id", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "code"],
                name="me_indicator_code_once_per_plan",
                violation_error_message=_("The plan already has an indicator with this code."),
            ),
            models.UniqueConstraint(
                fields=["plan", "capacity_indicator"],
                condition=Q(capacity_indicator__isnull=False),
                name="me_indicator_capacity_once_per_plan",
                violation_error_message=_("This capacity indicator is already in the results framework."),
            ),
            models.CheckConstraint(
                condition=Q(kind="capacity", capacity_indicator__isnull=False)
                | (~Q(kind="capacity") & Q(capacity_indicator__isnull=True)),
                name="me_indicator_capacity_kind",
                violation_error_message=_("A capacity indicator, and only one, stands for a JEE or SPAR indicator."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class MEIndicatorTarget(models.Model):
    """An indicator's target for one year of the plan."""

    indicator = models.ForeignKey(
        MEIndicator, on_delete=models.CASCADE, related_name="targets", verbose_name=_("indicator")
    )
    year = models.PositiveSmallIntegerField(validators=year_validators, verbose_name=_("year"))
    value = models.DecimalField(max_digits=18, decimal_places=4, verbose_name=pgettext_lazy("value", "target"))

    class Meta:
        verbose_name = _("indicator target")
        verbose_name_plural = _("indicator targets")
        ordering = ["indicator_id", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "year"],
                name="me_target_one_per_year",
                violation_error_message=_("This indicator already has a target for that year."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.year}: {self.value}"


class MEIndicatorActual(models.Model):
    """What an indicator measured in one reporting period, entered or imported."""

    indicator = models.ForeignKey(
        MEIndicator, on_delete=models.CASCADE, related_name="actuals", verbose_name=_("indicator")
    )
    period = models.ForeignKey(
        ReportingPeriod, on_delete=models.CASCADE, related_name="actuals", verbose_name=_("reporting period")
    )
    value = models.DecimalField(max_digits=18, decimal_places=4, verbose_name=_("value"))
    note = models.TextField(blank=True, max_length=5000, verbose_name=_("note"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("entered by")
    )
    entered_at = models.DateTimeField(auto_now=True, verbose_name=_("entered at"))
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("indicator actual")
        verbose_name_plural = _("indicator actuals")
        ordering = ["indicator_id", "period_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "period"],
                name="me_actual_one_per_period",
                violation_error_message=_("This indicator already has a value for this period."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.period}: {self.value}"


class HealthEvent(models.Model):
    """A health event timed against the 7-1-7 target: detected within 7 days of emergence, notified within 1 day of
    detection, early response actions completed within 7 days of notification. Dates may be filled in as they
    become known; each interval is computed once both its dates are."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="health_events", verbose_name=_("plan"))
    name = models.CharField(max_length=250, verbose_name=_("event"))
    hazard = models.CharField(max_length=120, blank=True, verbose_name=_("hazard or disease"))
    place = models.CharField(max_length=200, blank=True, verbose_name=_("place"))
    emerged_on = models.DateField(verbose_name=_("date of emergence"))
    detected_on = models.DateField(null=True, blank=True, verbose_name=_("date of detection"))
    notified_on = models.DateField(null=True, blank=True, verbose_name=_("date of notification"))
    responded_on = models.DateField(null=True, blank=True, verbose_name=_("date early response actions were completed"))
    notes = models.TextField(blank=True, max_length=10000, verbose_name=_("notes"))
    # Blank: an event stays editable once the account of whoever recorded it is gone (SET_NULL).
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("recorded at"))
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("7-1-7 health event")  # "health event" alone is a phrase of framework names too
        verbose_name_plural = _("7-1-7 health events")
        ordering = ["plan_id", "-emerged_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(detected_on__isnull=True) | Q(detected_on__gte=models.F("emerged_on")),
                name="event_detected_after_emergence",
                violation_error_message=_("An event cannot be detected before it emerged."),
            ),
            models.CheckConstraint(
                condition=Q(notified_on__isnull=True)
                | (Q(detected_on__isnull=False) & Q(notified_on__gte=models.F("detected_on"))),
                name="event_notified_after_detection",
                violation_error_message=_("An event cannot be notified before it was detected."),
            ),
            models.CheckConstraint(
                condition=Q(responded_on__isnull=True)
                | (Q(notified_on__isnull=False) & Q(responded_on__gte=models.F("notified_on"))),
                name="event_responded_after_notification",
                violation_error_message=_("Early response cannot be completed before the event was notified."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Bottleneck(models.Model):
    """What slowed an event's detection, notification or response, and the remedial action for it; the action may
    become an activity of the plan (source: 7-1-7 review, after-action review or simulation exercise)."""

    class Stage(models.TextChoices):
        DETECTION = "detection", _("Detection")
        NOTIFICATION = "notification", _("Notification")
        RESPONSE = "response", _("Response")

    event = models.ForeignKey(
        HealthEvent, on_delete=models.CASCADE, related_name="bottlenecks", verbose_name=_("event")
    )
    stage = models.CharField(max_length=12, choices=Stage.choices, verbose_name=_("stage"))
    description = models.TextField(max_length=5000, verbose_name=_("bottleneck"))
    remedial_action = models.TextField(blank=True, max_length=5000, verbose_name=_("remedial action"))
    technical_area = models.ForeignKey(
        TechnicalArea,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bottlenecks",
        verbose_name=_("technical area"),
    )
    activity = models.ForeignKey(
        Activity,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bottlenecks",
        verbose_name=_("activity"),
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("bottleneck")
        verbose_name_plural = _("bottlenecks")
        ordering = ["event_id", "pk"]

    def __str__(self) -> str:
        return self.description[:80]


class ProgressUpload(models.Model):
    """A progress workbook someone uploaded: checked and applied all or nothing by a background job.

    `digest` (SHA-256 of the file) lets the page say a file was applied before; `problems` lists every problem by
    sheet, row and column, `conflicts` the reports someone else changed since the download. The file itself is
    deleted once the upload is applied or refused; the row stays as the record.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        APPLIED = "applied", _("Applied")
        REFUSED = "refused", _("Refused")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="progress_uploads", verbose_name=_("plan"))
    period = models.ForeignKey(
        ReportingPeriod,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="uploads",
        verbose_name=_("reporting period"),
    )  # the workbook's, once it is read
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("uploaded by")
    )
    file = models.FileField(
        upload_to="uploads/progress/%Y/%m/", blank=True, verbose_name=_("file")
    )  # emptied once applied or refused
    filename = models.CharField(max_length=250, verbose_name=_("file name"))
    size = models.PositiveBigIntegerField(default=0, verbose_name=_("size"))
    digest = models.CharField(max_length=64, verbose_name=_("digest"))
    job = models.OneToOneField(
        "naphs.Job",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="progress_upload",
        verbose_name=_("job"),
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status"))
    problems = models.JSONField(default=list, blank=True, verbose_name=_("problems"))
    conflicts = models.JSONField(default=list, blank=True, verbose_name=_("conflicts"))
    summary = models.JSONField(default=dict, blank=True, verbose_name=_("summary"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("progress workbook upload")
        verbose_name_plural = _("progress workbook uploads")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def problem_total(self) -> int:
        """How many problems refused it: more than those kept when there were very many."""
        return max(int(self.summary.get("problem_count") or 0), len(self.problems))

    def file_discard(self) -> None:
        """Delete the uploaded file once the upload is applied or refused (after the transaction commits)."""
        from django.db import transaction

        from naphs.uploads import stored_file_delete

        name = self.file.name
        if name:
            ProgressUpload.objects.filter(pk=self.pk).update(file="")
            self.file.name = ""
            transaction.on_commit(lambda: stored_file_delete(name))


# --- The dashboard's aggregates ----------------------------------------------------------------------------------


class MonitoringState(models.Model):
    """The state of a plan's monitoring aggregates (what its dashboard reads), as PlanCosting keeps its rollups'.

    `changes` grows with every write that moves a figure (monitoring.aggregates.monitoring_changed); `aggregates_of`
    is the value of `changes` the stored aggregates were computed from. They differ while a recomputation is due, and
    the dashboard says so. `queued` lets a burst of writes enqueue one recomputation. `figures` holds the small
    aggregates (indicators, 7-1-7 events, capacity levels per area) computed with the rows below.
    """

    plan = models.OneToOneField(Plan, on_delete=models.CASCADE, related_name="monitoring_state", verbose_name=_("plan"))
    changes = models.PositiveBigIntegerField(default=0, editable=False, verbose_name=_("changes"))
    aggregates_of = models.PositiveBigIntegerField(
        default=0, editable=False, verbose_name=_("changes the figures include")
    )
    queued = models.BooleanField(default=False, editable=False, verbose_name=_("recomputation queued"))
    computed_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("figures computed at"))
    error = models.TextField(blank=True, editable=False, verbose_name=_("recomputation error"))
    figures = models.JSONField(default=dict, editable=False, verbose_name=_("figures"))

    class Meta:
        verbose_name = _("monitoring figures' state")
        verbose_name_plural = _("monitoring figures' states")

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.aggregates_of}/{self.changes}"

    @property
    def current(self) -> bool:
        return self.aggregates_of == self.changes and self.computed_at is not None


class ActivityProgressRollup(models.Model):
    """Stored counts of a plan's activities by technical area, responsible organization, implementation level and
    latest reported status ("" for an activity never reported), with their latest percent complete summed and what
    was spent on them to date (every report's amount in the base currency, summed)."""

    # Derived rows written in one statement from rows whose keys the database already checks: no foreign-key
    # constraints and one index (by plan), as costing's rollups.
    plan = models.ForeignKey(
        Plan, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False, verbose_name=_("plan")
    )
    technical_area = models.ForeignKey(
        TechnicalArea,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("technical area"),
    )
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
    level = models.CharField(max_length=12, choices=Activity.Level.choices, verbose_name=_("implementation level"))
    status = models.CharField(max_length=12, blank=True, verbose_name=_("latest status"))
    activities = models.PositiveIntegerField(default=0, verbose_name=_("activities"))
    percent = models.PositiveBigIntegerField(default=0, verbose_name=_("percent complete, summed"))
    spent = models.DecimalField(max_digits=24, decimal_places=2, default=Decimal("0"), verbose_name=_("spent"))

    class Meta:
        verbose_name = _("activity progress rollup")
        verbose_name_plural = _("activity progress rollups")
        indexes = [models.Index(fields=["plan"], name="progress_rollup_plan")]

    def __str__(self) -> str:
        return f"{self.status or '-'}: {self.activities}"


class PeriodProgressRollup(models.Model):
    """Stored counts per reporting period and responsible organization: the activities expected to report (not
    cancelled in the plan, not reported completed or cancelled in an earlier period), those reported, those expected
    and not reported, and what the period's reports spent in the base currency."""

    plan = models.ForeignKey(
        Plan, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False, verbose_name=_("plan")
    )
    period = models.ForeignKey(
        ReportingPeriod,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("reporting period"),
    )
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
    expected = models.PositiveIntegerField(default=0, verbose_name=_("reports expected"))
    reported = models.PositiveIntegerField(default=0, verbose_name=_("reports made"))
    unreported = models.PositiveIntegerField(default=0, verbose_name=_("reports missing"))
    spent = models.DecimalField(max_digits=24, decimal_places=2, default=Decimal("0"), verbose_name=_("spent"))

    class Meta:
        verbose_name = _("period progress rollup")
        verbose_name_plural = _("period progress rollups")
        indexes = [models.Index(fields=["plan"], name="period_rollup_plan")]

    def __str__(self) -> str:
        return f"{self.period_id}: {self.reported}/{self.expected}"
