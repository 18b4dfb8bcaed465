"""Writes every app shares: versioned updates, the audit trail and jobs."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, models, transaction
from django.db.models import F

from naphs.errors import EditConflict, JobLimitReached
from naphs.models import AuditEvent, Job

if TYPE_CHECKING:
    from planning.models import Plan
    from stakeholders.models import User


def _json_value(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def versioned_update(instance: models.Model, *, version: int, fields: dict[str, Any]) -> dict[str, list[Any]]:
    """Validate `fields` on `instance`, then save them only if nobody saved it since `version`.

    Returns what changed as {field: [old, new]}. Raises ValidationError for bad values and EditConflict when
    the stored version moved on; in both cases `instance` is left as it was.
    """
    candidate = copy.copy(instance)
    for name, value in fields.items():
        setattr(candidate, name, value)
    candidate.full_clean()
    changes = {
        name: [_json_value(getattr(instance, name)), _json_value(value)]
        for name, value in fields.items()
        if getattr(instance, name) != value
    }
    model = type(instance)
    updated = model.objects.filter(pk=instance.pk, version=version).update(version=F("version") + 1, **fields)
    if not updated:
        raise EditConflict(instance)
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.version = version + 1
    return changes


def audit_record(
    *, plan: Plan | None, by: User | None, action: str, target: models.Model, changes: dict[str, Any] | None = None
) -> AuditEvent:
    return AuditEvent.objects.create(
        plan=plan,
        actor=by,
        action=action,
        target_type=target._meta.model_name,
        target_id=target.pk,
        target_repr=str(target)[:250],
        changes=changes or {},
    )


def job_request_key(*, kind: str, plan: Plan | None, params: dict[str, Any]) -> str:
    """A digest of what was asked for: the same kind, plan and parameters give the same key."""
    asked = json.dumps([str(kind), plan.pk if plan is not None else None, params], sort_keys=True, default=str)
    return hashlib.sha256(asked.encode()).hexdigest()


@transaction.atomic
def job_create(*, kind: Job.Kind, by: User, plan: Plan | None = None, params: dict[str, Any] | None = None) -> Job:
    """Record a job and enqueue it once the surrounding transaction commits (never for a rolled-back row).

    Every job starts here. The same request (kind, plan, params) while the person's earlier one is queued or
    running joins it: the earlier job is returned and nothing more is enqueued. A person has at most
    settings.JOBS_PER_PERSON jobs queued or running; one more is refused with JobLimitReached.

    The person's row is locked while counting, so requests arriving at once are counted one after another; the
    constraint job_one_active_per_request keeps one job per request even where that lock does not exist (SQLite).
    """
    from naphs.tasks import job_run_task

    params = params or {}
    key = job_request_key(kind=kind, plan=plan, params=params)
    list(get_user_model().objects.select_for_update().filter(pk=by.pk).values_list("pk"))
    active = Job.objects.filter(requested_by=by, status__in=Job.ACTIVE)
    joined = active.filter(request_key=key).first()
    if joined is not None:
        return joined
    waiting = active.count()
    if waiting >= settings.JOBS_PER_PERSON:
        raise JobLimitReached(waiting)
    try:
        with transaction.atomic():
            job = Job.objects.create(kind=kind, plan=plan, requested_by=by, params=params, request_key=key)
    except IntegrityError:
        joined = active.filter(request_key=key).first()
        if joined is None:
            raise
        return joined
    job_run_task.delay_on_commit(job.pk)
    return job
