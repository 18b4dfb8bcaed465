"""Writes every app shares: versioned updates, the audit trail and jobs."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Model
from django.utils import timezone

from naphs.errors import EditConflict, JobLimitReached, PlanFrozen
from naphs.job_kinds import job_kind_get
from naphs.models import AuditEvent, Job

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser as User  # the core names no app's model

    Plan = Model  # a plan (planning.Plan), as far as the core needs to know one


def _json_value(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def versioned_update(instance: Any, *, version: int, fields: dict[str, Any]) -> dict[str, list[Any]]:
    """Validate `fields` on `instance` (a model instance with a `version` field), then save them only if nobody
    saved it since `version`.

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
    # QuerySet.update skips auto_now: stamp "updated_at" (and any such field) here, or it keeps its first value and
    # a conflict names the wrong time. Not a change the person made, so it stays out of `changes`.
    now = timezone.now()
    stamps = {
        field.name: now
        for field in model._meta.concrete_fields
        if getattr(field, "auto_now", False) and field.name not in fields
    }
    fields = {**fields, **stamps}
    try:
        with transaction.atomic():  # a rename onto a name someone else took at the same moment: their row stands
            updated = model._default_manager.filter(pk=instance.pk, version=version).update(
                version=F("version") + 1, **fields
            )
    except IntegrityError as error:
        refusal = duplicate_refusal(candidate)
        if refusal is None:
            raise
        raise refusal from error
    if not updated:
        raise EditConflict(instance)
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.version = version + 1
    return changes


def row_lock(instance: models.Model) -> None:
    """Lock one row until the transaction ends, so writes under it (a plan's targets, an assessment's scores)
    take turns: whoever comes second sees what the first saved. A no-op on SQLite, which locks the whole
    database for a write anyway."""
    type(instance)._default_manager.select_for_update().filter(pk=instance.pk).values_list("pk", flat=True).first()


def row_insert[M: models.Model](instance: M, *, refused: Callable[[], Exception | None]) -> M:
    """Insert `instance`, a new row under a unique constraint that the caller found missing.

    When someone saved the same row in the meantime, the database refuses the second insert; that refusal is
    caught inside a savepoint (the caller's transaction goes on) and `refused()` is raised instead: an
    EditConflict for a first write, or the duplicate's ValidationError a moment-later request would have got.
    `refused()` runs after the other save committed, so it reads their row; it returns None when no such row is
    there (the database refused for another reason), and the database's error is raised as it is.
    """
    try:
        with transaction.atomic():
            instance.save(force_insert=True)
    except IntegrityError as error:
        refusal = refused()
        if refusal is None:
            raise
        raise refusal from error
    return instance


def duplicate_refusal(instance: models.Model) -> ValidationError | None:
    """The ValidationError the model's unique constraints give `instance` now (after a refused insert), if any."""
    try:
        instance.validate_unique()
        instance.validate_constraints()
    except ValidationError as error:
        return error
    return None


def versioned_save[M: models.Model](
    model: type[M],
    *,
    key: Mapping[str, Any],
    version: int | None,
    fields: Mapping[str, Any],
    validate: Callable[[M], None] | None = None,
) -> tuple[M, dict[str, list[Any]]]:
    """Create or change the one row of `model` that `key` names (a row under a unique constraint: an
    indicator's score, a plan's target, a currency's rate in a year), as the person last saw it.

    `version` is the row's version as they read it: 0 when they saw none yet ("I believe there is none"). Of two
    people writing the same version exactly one is saved; the other gets EditConflict naming the row as stored:
    version 0 when a row exists or appears while this one is saved, another version when the row moved on or
    was removed. None skips the check (a load by the product itself, never a person's edit). `validate` checks
    the candidate row (full_clean by default). Returns the row and what changed as {field: [old, new]}.
    """
    manager = model._default_manager
    existing = manager.select_for_update().filter(**key).first() if version is None else manager.filter(**key).first()
    if existing is None:
        if version:  # they saw a row that has been removed since
            raise EditConflict(model(**key))
        instance = model(**key, **fields)

        def conflict() -> EditConflict | None:
            current = manager.filter(**key).first()
            return None if current is None else EditConflict(current)

        try:
            (validate or model.full_clean)(instance)
        except ValidationError:
            if refusal := conflict():  # their row appeared between the look and the check
                raise refusal from None
            raise
        row_insert(instance, refused=conflict)
        return instance, {name: [None, _json_value(value)] for name, value in fields.items()}
    if version == 0:  # someone saved it after they opened the page
        raise EditConflict(existing)
    if validate is not None:
        candidate = copy.copy(existing)
        for name, value in fields.items():
            setattr(candidate, name, value)
        validate(candidate)
    stored = existing.serializable_value("version")
    changes = versioned_update(existing, version=stored if version is None else version, fields=dict(fields))
    return existing, changes


# Changes recorded for a plan are changes to its content, refused once the plan is endorsed (audit_record), except
# those to what goes on against an endorsed plan: its members, its review and endorsement, its jobs, its
# monitoring. Each app names such models (as "app_label.modelname") from its AppConfig.ready, each with a predicate
# where only some rows of the model go on (a follow-up assessment does, a baseline assessment is the plan's
# content; an upload applied to a follow-up assessment, not one applied to cost lines), or None where every row
# does. A row goes on when any registration of its model lets it.
_WRITABLE_WHEN_ENDORSED: dict[str, list[Callable[[Any], bool] | None]] = {}
_ACTIONS_WHEN_ENDORSED = frozenset({"refused upload"})  # recording that nothing was applied


def writable_when_endorsed_register(*labels: str, when: Callable[[Any], bool] | None = None) -> None:
    """Name models whose changes go on while their plan is endorsed (e.g. "stakeholders.planmembership"); with
    `when`, only the rows for which it is true (e.g. `lambda assessment: assessment.is_follow_up`)."""
    for label in labels:
        registered = _WRITABLE_WHEN_ENDORSED.setdefault(label.lower(), [])
        if when not in registered:
            registered.append(when)


def writable_when_endorsed(target: models.Model) -> bool:
    """Whether a change to `target` goes on while its plan is endorsed, as the registrations of its model say."""
    return any(when is None or when(target) for when in _WRITABLE_WHEN_ENDORSED.get(target._meta.label_lower, ()))


def plan_content_lock(plan: Plan) -> None:
    """Inside a write's transaction: hold the plan's row (FOR SHARE on PostgreSQL) until the write commits, and
    raise PlanFrozen, undoing the write, if the plan is endorsed. An endorsement locks the row for update, so it
    waits for the writes under way, and every write after it sees the plan endorsed: no write slips past an
    endorsement, and its stored version holds every write made before it."""
    model = type(plan)
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(str(model._meta.pk.column))
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status, edition FROM {table} WHERE {column} = %s{lock}", [plan.pk])  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        return
    plan.status, plan.edition = row  # type: ignore[attr-defined]
    if plan.is_frozen:  # type: ignore[attr-defined]
        raise PlanFrozen(plan)


def audit_record(
    *,
    plan: Plan | None,
    by: User | None,
    action: str,
    target: models.Model,
    changes: dict[str, Any] | None = None,
    area_id: int | None = None,
) -> AuditEvent:
    """Record one change. `action` is a key of naphs.audit.AUDIT_SENTENCES (English, stored as data); `changes`
    maps each field to [before, after], or to a value (a count, a file name) that describes the change.
    `area_id` is the technical area of the changed object; without it, the target's own `technical_area_id`.

    A change to a plan's content (any target but those writable_when_endorsed_register lets through) takes
    plan_content_lock: refused with PlanFrozen, the whole write undone, when the plan is endorsed."""
    if plan is not None and action not in _ACTIONS_WHEN_ENDORSED and not writable_when_endorsed(target):
        plan_content_lock(plan)
    if area_id is None:
        area_id = getattr(target, "technical_area_id", None)
    return AuditEvent.objects.create(
        plan_id=plan.pk if plan is not None else None,
        actor_id=by.pk if by is not None else None,
        action=action,
        target_type=target._meta.model_name or "",
        target_id=target.pk,
        target_repr=str(target)[:250],
        changes=changes or {},
        technical_area_id=area_id,
    )


def job_request_key(*, kind: str, plan: Plan | None, params: dict[str, Any]) -> str:
    """A digest of what was asked for: the same kind, plan and parameters give the same key."""
    asked = json.dumps([str(kind), plan.pk if plan is not None else None, params], sort_keys=True, default=str)
    return hashlib.sha256(asked.encode()).hexdigest()


@transaction.atomic
def job_create(*, kind: str, by: User, plan: Plan | None = None, params: dict[str, Any] | None = None) -> Job:
    """Record a job and enqueue it once the surrounding transaction commits (never for a rolled-back row).

    Every job starts here. The same request (kind, plan, params) while the person's earlier one is queued or
    running joins it: the earlier job is returned and nothing more is enqueued. A person has at most
    settings.JOBS_PER_PERSON jobs queued or running; one more is refused with JobLimitReached.

    The person's row is locked while counting, so requests arriving at once are counted one after another; the
    constraint job_one_active_per_request keeps one job per request even where that lock does not exist (SQLite).
    """
    from naphs.tasks import job_run_task

    job_kind_get(kind)  # LookupError for a kind no installed app registers
    params = params or {}
    key = job_request_key(kind=kind, plan=plan, params=params)
    list(get_user_model().objects.select_for_update().filter(pk=by.pk).values_list("pk"))
    active = Job.objects.filter(requested_by_id=by.pk, status__in=Job.ACTIVE)
    joined = active.filter(request_key=key).first()
    if joined is not None:
        return joined
    waiting = active.count()
    if waiting >= settings.JOBS_PER_PERSON:
        raise JobLimitReached(waiting)
    try:
        with transaction.atomic():
            job = Job.objects.create(
                kind=kind,
                plan_id=plan.pk if plan is not None else None,
                requested_by_id=by.pk,
                params=params,
                request_key=key,
            )
    except IntegrityError:
        joined = active.filter(request_key=key).first()
        if joined is None:
            raise
        return joined
    job_run_task.delay_on_commit(job.pk)
    return job


UPDATE_BATCH = 1000


def rows_update(model: type[Model], objects: list[Any], field_names: tuple[str, ...]) -> None:
    """Save the fields `field_names` of many rows of `model` at once: one UPDATE ... FROM (VALUES ...) per thousand
    rows on PostgreSQL. Django's bulk_update builds a CASE expression per field and row, which takes most of a minute
    for 10,000 rows; this takes a second. Elsewhere (the embedded SQLite), an UPDATE per row."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    fields: list[tuple[models.Field, str]] = []  # each field with its column, quoted
    for name in field_names:
        found = model._meta.get_field(name)
        if not isinstance(found, models.Field) or found.column is None:
            raise TypeError(f"{model.__name__}.{name} is not a column of its table.")
        fields.append((found, quote(found.column)))
    rows = [[field.get_db_prep_save(getattr(row, field.attname), connection) for field, _ in fields] for row in objects]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            assignments = ", ".join(f"{column} = %s" for _, column in fields)
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608 (names from the model, values bound)
                [[*values, row.pk] for values, row in zip(rows, objects, strict=True)],
            )
            return
        columns = ", ".join(column for _, column in fields)
        assignments = ", ".join(f"{column} = new.{column}" for _, column in fields)
        row_sql = "(" + ", ".join(f"%s::{field.db_type(connection)}" for field, _ in fields) + ", %s::bigint)"
        for start in range(0, len(objects), UPDATE_BATCH):
            batch = range(start, min(start + UPDATE_BATCH, len(objects)))
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row_sql] * len(batch))}) "  # noqa: S608
                f"AS new({columns}, id) WHERE {table}.id = new.id",  # names from the model, values bound
                [value for index in batch for value in (*rows[index], objects[index].pk)],
            )
