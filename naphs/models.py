"""What every app shares: background jobs, the audit trail of plan changes, and names given in several languages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.translation import gettext_lazy as _

from naphs.job_kinds import job_kind_label, job_kind_validate
from naphs.languages import name_in_language


class Job(models.Model):
    """A piece of background work a person asked for: what, for which plan, how far along, and its result.

    The row is the job's truth; the Celery message only carries its id. While an attempt runs, its worker
    writes `heartbeat_at` every few seconds; a running job whose heartbeat stopped has lost its worker and is
    run again from the start, or failed once it has had its attempts. A redelivered message finds a finished
    job, or one still beating, and does nothing.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    FINISHED = (Status.SUCCEEDED, Status.FAILED)
    ACTIVE = (Status.QUEUED, Status.RUNNING)

    # One of the kinds the apps register (naphs.job_kinds), with the function that does the work.
    kind = models.CharField(max_length=40, validators=[job_kind_validate], verbose_name=_("kind"))
    plan = models.ForeignKey(
        "planning.Plan", on_delete=models.CASCADE, null=True, blank=True, related_name="jobs", verbose_name=_("plan")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs", verbose_name=_("requested by")
    )
    params = models.JSONField(default=dict, blank=True, verbose_name=_("parameters"))
    # What was asked for (kind, plan, params) as a digest: the same request while one is active joins it.
    request_key = models.CharField(max_length=64, blank=True, editable=False, verbose_name=_("request key"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status"))
    progress = models.PositiveSmallIntegerField(default=0, verbose_name=_("progress"))
    message = models.CharField(max_length=250, blank=True, verbose_name=_("message"))
    result = models.FileField(upload_to="jobs/%Y/%m/", blank=True, verbose_name=_("result"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    # The last sign of life of the running attempt (the database's clock), written by its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True, verbose_name=_("heartbeat at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "started_at"], name="job_status_started")]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100),
                name="job_progress_at_most_100",
                violation_error_message=_("Progress is a percentage."),
            ),
            models.UniqueConstraint(
                fields=["requested_by", "request_key"],
                condition=Q(status__in=["queued", "running"]) & ~Q(request_key=""),
                name="job_one_active_per_request",
                violation_error_message=_("The same job is already queued or running."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"

    def get_kind_display(self) -> str:
        return job_kind_label(self.kind)

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def result_name(self) -> str:
        return self.result.name.rsplit("/", 1)[-1] if self.result and self.result.name else ""


def upload_path(upload: Upload, filename: str) -> str:
    return f"uploads/{upload.kind}/{filename}"


class Upload(models.Model):
    """A file someone uploaded for an import, and what became of it.

    The file is kept only until its job has applied or refused it (then deleted, and a beat clean-up deletes
    any left behind); the row stays as the record of the import: the file's name, size and SHA-256 digest,
    who uploaded it and when, the outcome and every problem found (by sheet, row and column).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be checked")
        APPLIED = "applied", _("Applied")
        REFUSED = "refused", _("Refused")

    kind = models.CharField(max_length=40, validators=[job_kind_validate], verbose_name=_("kind"))
    plan = models.ForeignKey(
        "planning.Plan",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="import_uploads",
        verbose_name=_("plan"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("uploaded by")
    )
    file = models.FileField(upload_to=upload_path, blank=True, verbose_name=_("file"))
    filename = models.CharField(max_length=250, verbose_name=_("file name"))
    size = models.PositiveBigIntegerField(verbose_name=_("size"))
    digest = models.CharField(max_length=64, verbose_name=_("SHA-256 digest"))
    job = models.OneToOneField(
        Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="import_upload", verbose_name=_("job")
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("status"))
    message = models.CharField(max_length=250, blank=True, verbose_name=_("message"))
    problems = models.JSONField(default=list, blank=True, verbose_name=_("problems"))
    problem_count = models.PositiveIntegerField(default=0, verbose_name=_("number of problems"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("upload")
        verbose_name_plural = _("uploads")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    def get_kind_display(self) -> str:
        return job_kind_label(self.kind)


class AuditEvent(models.Model):
    """One attributable change to a plan: who did what to which object, when, and the fields that changed."""

    plan = models.ForeignKey(
        "planning.Plan",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("plan"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        # Translators: a label: the person who made the change.
        verbose_name=_("actor"),
    )
    action = models.CharField(max_length=60, verbose_name=_("action"))
    target_type = models.CharField(max_length=60, verbose_name=_("target type"))
    target_id = models.BigIntegerField(null=True, verbose_name=_("target ID"))
    # Translators: a label: the object that was changed.
    target_repr = models.CharField(max_length=250, verbose_name=_("target"))
    changes = models.JSONField(default=dict, blank=True, verbose_name=_("changes"))
    # The technical area the changed object belongs to, where it belongs to one (an activity, its cost lines, a
    # target, a score): the audit trail is filtered by it. Kept when the area goes, as the event is history.
    technical_area = models.ForeignKey(
        "planning.TechnicalArea",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("technical area"),
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["plan", "-created_at", "-id"], name="auditevent_plan_newest")]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.target_repr}"


class ChoiceDisplayMixin:
    """A model's get_FOO_display() from a dict of each field's choices built once per process: Django rebuilds that
    dict (and makes every choice hashable) on every call, which made the four labels of each activity row most of
    the activity table's work. The labels stay as declared (lazy ones are translated at each call)."""

    def _get_FIELD_display(self, field: models.Field) -> str:
        choices = _DISPLAY_CHOICES.get(field)
        if choices is None:
            choices = _DISPLAY_CHOICES[field] = dict(make_hashable(field.flatchoices))
        value = getattr(self, field.attname)
        return force_str(choices.get(make_hashable(value), value), strings_only=True)


_DISPLAY_CHOICES: dict[models.Field, dict] = {}


class NamedInLanguages(models.Model):
    """A name written in English (`name`) and in the other languages where it is known (`names`, on the same row, so
    showing it costs no query). Pages show `local_name`: the name in the reader's language, else the English."""

    name: str  # each model declares its own, with its length
    names = models.JSONField(
        _("names in other languages"),
        default=dict,
        blank=True,
        help_text=_('The name in each other language where it is known, by language code: {"fr": "…", "ar": "…"}.'),
    )

    class Meta:
        abstract = True

    @property
    def local_name(self) -> str:
        return name_in_language(self.name, self.names)


def max_length(model: type[models.Model], field: str) -> int:
    """A text field's max_length, for the checks and messages that name it."""
    found = model._meta.get_field(field)
    if not isinstance(found, models.Field) or found.max_length is None:
        raise TypeError(f"{model.__name__}.{field} has no max_length.")
    return found.max_length
