"""The kinds of background job, each registered by the app that does the work.

The core runs jobs (naphs.jobs) without knowing what they do: an app declares its kinds as a TextChoices of its
own (value stored in Job.kind and Upload.kind, label shown to people) and registers them with their handlers
from its AppConfig.ready, so a new kind needs no change, and no migration, of the core.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import TextChoices
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from naphs.jobs import JobResult, Progress
    from naphs.models import Job


class Handler(Protocol):
    """Does a job's work: reports progress, returns the job's file, raises JobFailed with a message."""

    def __call__(self, *, job: Job, progress: Progress) -> JobResult: ...


@dataclass(frozen=True)
class JobKind:
    value: str
    label: str | Promise
    handler: Handler


KINDS: dict[str, JobKind] = {}


def job_kinds_register(kinds: type[TextChoices], handlers: Mapping[str, Handler]) -> None:
    """Register every kind of `kinds` with its handler; called from the app's AppConfig.ready."""
    missing = set(kinds.values) ^ set(handlers)
    if missing:
        raise ImproperlyConfigured(f"{kinds.__name__}: a handler for each kind and a kind for each handler: {missing}")
    for kind in kinds:
        known = KINDS.get(kind.value)
        if known is not None and known.handler is not handlers[kind.value]:
            raise ImproperlyConfigured(f"The job kind {kind.value!r} is registered twice.")
        KINDS[kind.value] = JobKind(value=kind.value, label=kind.label, handler=handlers[kind.value])


def job_kind_get(value: str) -> JobKind:
    """The registered kind; LookupError for a kind no installed app registers."""
    try:
        return KINDS[value]
    except KeyError:
        raise LookupError(f"No installed app registers the job kind {value!r}.") from None


def job_kind_label(value: str) -> str:
    kind = KINDS.get(value)
    return str(kind.label) if kind is not None else value


def job_kind_validate(value: str) -> None:
    """The validator of Job.kind and Upload.kind: a kind some installed app registers."""
    if value not in KINDS:
        raise ValidationError(_("“%(kind)s” is not a kind of job."), code="unknown_kind", params={"kind": value})
