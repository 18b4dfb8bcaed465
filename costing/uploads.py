"""One upload lifecycle for the costing layouts (the costing workbook, the WHO costing tool's layout).

upload → check → apply all or nothing → report: the request keeps the file with its digest and queues the job
(`costing_upload_create`); the job (`costing_upload_run`) checks that the person may still do it, reads the file
with the safe reader, lets the layout check every row and apply the whole file inside one transaction, marks the
upload applied in that same transaction (a job delivered again does not apply it twice) and answers with the
layout's report. Anything wrong refuses the whole file: the upload keeps every problem (naphs.spreadsheets.Problem,
by sheet, row and column) and conflict, nothing else is saved, and the file is deleted either way.

A layout is a `Layout`: its name, the reader's limits, and three functions (check and apply, say why it was
refused, write the report). Each layout is described in a module of costing/layouts/ (its columns, headings and
rows); exporting, checking and applying it is costing/workbook.py or costing/who.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Literal

from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from costing.models import CostingUpload
from naphs.errors import JobLimitReached, PlanFrozen
from naphs.jobs import JobFailed, JobResult, Progress
from naphs.models import Job
from naphs.services import job_create
from naphs.spreadsheets import ImportRefused, Problem, Sheet, read_spreadsheet
from naphs.uploads import file_digest, upload_job_params, upload_quota_check

if TYPE_CHECKING:
    from planning.models import Plan
    from stakeholders.models import User

MAX_PROBLEMS_KEPT = 500


class UploadRefused(Exception):
    """The file cannot be applied: every problem (and, for the costing workbook, every line someone else changed
    since the download) found. Nothing was saved. `total` counts problems beyond those kept."""

    def __init__(
        self, problems: Iterable[Problem | Mapping[str, Any] | str], conflicts: list[dict] | None = None,
        total: int | None = None,
    ) -> None:  # fmt: skip
        self.problems = [Problem.from_json(problem) for problem in problems]
        self.conflicts = conflicts or []
        self.total = total if total is not None else len(self.problems)
        super().__init__(f"{self.total} problem(s), {len(self.conflicts)} conflict(s)")

    @classmethod
    def because(cls, message: str) -> UploadRefused:
        """Refused for one reason about the whole file, naming no cell."""
        return cls([Problem(message)])


@dataclass(frozen=True)
class Applied:
    """What applying a file did: the summary the upload keeps, and whatever else the layout's report shows."""

    summary: dict[str, Any]
    details: Any = None


@dataclass(frozen=True)
class Layout:
    """A kind of costing upload. `apply(upload, sheets, progress)` checks every row and saves the whole file
    (it runs inside the transaction), or raises UploadRefused; `refusal(refused)` says why for the job's message;
    `report(upload, details)` is the file the job answers with, as (name, bytes); `details` is None when the
    upload had been applied by an earlier delivery of the job."""

    layout: str  # CostingUpload.Layout
    job_kind: str  # Job.Kind
    limits: str  # the reader's, a name of naphs.spreadsheets.IMPORT_LIMITS
    apply: Callable[[CostingUpload, list[Sheet], Progress], Applied]
    refusal: Callable[[UploadRefused], str]
    report: Callable[[CostingUpload, Any], tuple[str, bytes]]
    # "pass_over": a macro-enabled workbook (.xlsm) is read, its VBA project passed over unread and never run.
    macros: Literal["refuse", "pass_over"] = "refuse"


def costing_upload_create(*, plan: Plan, by: User, file: IO[bytes], filename: str, layout: Layout) -> CostingUpload:
    """Keep an uploaded file and queue the job that checks and applies it; refused (ValidationError) when the
    plan's uploads waiting to be checked have no room for it, JobLimitReached when the person has too many jobs."""
    digest, size = file_digest(file)
    filename = (filename or "upload.xlsx").rsplit("/", 1)[-1][:250]
    with transaction.atomic():
        upload_quota_check(plan=plan, size=size)
        upload = CostingUpload(
            plan=plan, layout=layout.layout, uploaded_by=by, filename=filename, size=size, digest=digest
        )
        upload.file.save(f"costing-{secrets.token_hex(8)}.xlsx", File(file), save=False)
        upload.save()
        params = {"upload": upload.pk, **upload_job_params(name=upload.file.name or "", size=size)}
        try:
            upload.job = job_create(kind=layout.job_kind, by=by, plan=plan, params=params)
        except JobLimitReached:
            upload.file.delete(save=False)  # the row rolls back; the file would stay behind
            raise
        upload.save(update_fields=["job"])
    return upload


def upload_applied_before(upload: CostingUpload) -> CostingUpload | None:
    """An earlier upload of the very same file, in the same layout, to this plan that was applied, if any: the
    same file twice changes nothing."""
    return (
        CostingUpload.objects.filter(
            plan_id=upload.plan_id,
            layout=upload.layout,
            digest=upload.digest,
            status=CostingUpload.Status.APPLIED,
            pk__lt=upload.pk,
        )
        .order_by("-pk")
        .first()
    )


def upload_check_and_apply(*, upload: CostingUpload, layout: Layout, progress: Progress | None = None) -> Applied:
    """Read the file, then check and apply it in one transaction that also marks the upload applied; UploadRefused
    (nothing saved) when anything is wrong."""
    report = progress or (lambda percent, message: None)
    report(2, _("Reading the workbook"))
    try:
        with upload.file.open("rb") as handle:
            sheets = read_spreadsheet(
                handle, name=upload.filename, limits=layout.limits, formulas="report", macros=layout.macros
            )
    except ImportRefused as refused:
        raise UploadRefused(refused.problems) from None
    except (FileNotFoundError, ValueError):  # ValueError: the row has no file any more
        raise UploadRefused.because(_("The uploaded file is no longer there; please upload it again.")) from None
    try:
        with transaction.atomic():
            applied = layout.apply(upload, sheets, report)
            upload.status = CostingUpload.Status.APPLIED
            upload.summary = applied.summary
            upload.problems, upload.conflicts = [], []
            upload.finished_at = timezone.now()
            upload.save(update_fields=["status", "summary", "problems", "conflicts", "finished_at"])
    except IntegrityError:  # the same new rows saved meanwhile by another upload of this file
        raise UploadRefused.because(
            _("Another upload of this workbook was applied at the same time; upload it again.")
        ) from None
    except PlanFrozen as frozen:  # endorsed after the file was uploaded: nothing of it is applied
        raise UploadRefused.because(str(frozen)) from None
    upload.file_discard()
    return applied


def upload_refuse(upload: CostingUpload, refused: UploadRefused) -> None:
    """Keep why the file was refused (the first problems, and how many there were); the file goes."""
    upload.status = CostingUpload.Status.REFUSED
    upload.problems = [problem.as_json() for problem in refused.problems[:MAX_PROBLEMS_KEPT]]
    upload.conflicts = refused.conflicts
    upload.summary = {"problem_count": refused.total, "conflict_count": len(refused.conflicts)}
    upload.finished_at = timezone.now()
    upload.save(update_fields=["status", "problems", "conflicts", "summary", "finished_at"])
    upload.file_discard()


def costing_upload_run(
    *, job: Job, progress: Progress, layout: Layout, allowed: Callable[[CostingUpload], str]
) -> JobResult:
    """The job of an upload: `allowed(upload)` says why the person may no longer apply it ("" when they may);
    then check and apply, or refuse the whole file. A job delivered again answers as the first did."""
    upload = CostingUpload.objects.select_related("plan", "uploaded_by").filter(job=job, layout=layout.layout).first()
    if upload is None:
        raise JobFailed(_("The uploaded file is no longer there; please upload it again."))
    upload.plan = job.plan or upload.plan
    details = None
    if upload.status == CostingUpload.Status.REFUSED:  # delivered again after the refusal
        raise JobFailed(layout.refusal(UploadRefused(upload.problems, upload.conflicts)))
    if upload.status != CostingUpload.Status.APPLIED:
        try:
            if upload.plan.is_frozen:
                raise UploadRefused.because(str(PlanFrozen(upload.plan)))
            if why := allowed(upload):
                raise UploadRefused.because(why)
            details = upload_check_and_apply(upload=upload, layout=layout, progress=progress).details
        except UploadRefused as refused:
            upload_refuse(upload, refused)
            raise JobFailed(layout.refusal(refused)[:250]) from None
    progress(95, _("Writing the report"))
    name, content = layout.report(upload, details)
    return JobResult(filename=name, content=content)
