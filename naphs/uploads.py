"""Uploaded files for imports: bounded on the way in, kept only until their job has applied or refused them.

The request checks what it can cheaply (name, size, the plan's room for more) and stores the file with a job;
the worker reads it whole, applies it all or nothing, and the file is deleted either way, leaving the record
(`naphs.models.Upload`, or the app's own, like costing's) for the audit. Every job that carries a file names
it in its params (`upload_file`, `upload_bytes`), so the room a plan's pending uploads take is counted the same
way for every import, and the beat clean-up (`uploads_sweep`) finds what a crashed job left behind.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.db import transaction
from django.db.models import Model
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from naphs.errors import JobLimitReached, PlanFrozen
from naphs.jobs import JobFailed, JobResult, Progress, file_slug
from naphs.languages import number_text
from naphs.models import Job, Upload
from naphs.services import audit_record, job_create
from naphs.spreadsheets import (
    MAX_COMPRESSION_RATIO,
    MAX_UNPACKED_BYTES,
    OLE_MAGIC,
    ImportRefused,
    Problem,
    read_spreadsheet,
)
from naphs.xlsx import StreamingWorkbook

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser as User  # the core names no app's model

    Plan = Model  # a plan (planning.Plan), as far as the core needs to know one

UPLOADS_FOLDER = "uploads"
MAX_PROBLEMS_KEPT = 500
MACRO_EXTENSIONS = (".xlsm", ".xltm", ".xlsb")


def megabytes(size: int) -> str:
    """A size for the person: "20.0 MB", "512.0 KB", "70 bytes"."""
    return filesizeformat(size)


class LimitedUploadHandler(TemporaryFileUploadHandler):
    """Writes at most UPLOAD_MAX_BYTES (and one byte more) of an uploaded file to disk, whatever is sent: the
    file keeps its real size, so the form refuses it as too large, but a huge body never fills the disk."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.written = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        room = settings.UPLOAD_MAX_BYTES + 1 - self.written
        if room > 0:
            self.file.write(raw_data[:room])
            self.written += min(len(raw_data), room)


def upload_file_check(file: UploadedFile, *, extensions: Sequence[str], what: str | Promise) -> None:
    """Refuse at once what cannot be imported: a macro-enabled or unexpected type (a macro-enabled type only where
    `extensions` names it), an empty or too large file.
    `what` names the accepted types for the person, e.g. "an Excel workbook (.xlsx) or a CSV file (.csv)"."""
    name = (file.name or "").lower()
    if name.endswith(MACRO_EXTENSIONS) and not name.endswith(tuple(extensions)):
        raise ValidationError(
            _("This is a macro-enabled workbook; save it as a plain Excel workbook (.xlsx) and upload that.")
        )
    if not name.endswith(tuple(extensions)):
        raise ValidationError(_("Upload {what}.").format(what=what))
    if not file.size:
        raise ValidationError(_("The file is empty."))
    if file.size > settings.UPLOAD_MAX_BYTES:
        raise ValidationError(
            _("The file is larger than {limit}; nothing was saved.").format(limit=megabytes(settings.UPLOAD_MAX_BYTES))
        )


class UploadField(forms.FileField):
    """A file input for an import: checked by type and size before the file is kept."""

    def __init__(self, *, extensions: Sequence[str], what: str | Promise, **kwargs: Any) -> None:
        self.extensions, self.what = tuple(extensions), what
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={"accept": ",".join(self.extensions)}))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        file = super().clean(data, initial)
        if file:
            upload_file_check(file, extensions=self.extensions, what=self.what)
        return file


SPREADSHEET_TYPES = (".xlsx", ".csv")
SPREADSHEET_WHAT = gettext_lazy("an Excel workbook (.xlsx) or a CSV file (.csv)")


def pending_upload_bytes(*, plan: Plan) -> int:
    """What the plan's uploads waiting for their job take, in bytes (also those kept for a choice the person has
    still to make, `upload_keep`)."""
    pending = (
        Job.objects.filter(plan_id=plan.pk, params__has_key="upload_bytes")
        .exclude(status__in=Job.FINISHED)
        .values_list("params", flat=True)
    )
    kept = Upload.objects.filter(plan_id=plan.pk, status=Upload.Status.PENDING, job__isnull=True)
    return sum(int(params.get("upload_bytes") or 0) for params in pending) + sum(kept.values_list("size", flat=True))


def upload_quota_check(*, plan: Plan | None, size: int) -> None:
    """Refuse an upload that would take the plan's pending uploads past UPLOAD_PENDING_BYTES_PER_PLAN. Call it
    in the transaction that queues the upload's job: the plan's row is locked, so two at once are counted."""
    if plan is None:
        return
    type(plan)._default_manager.select_for_update().filter(pk=plan.pk).first()
    limit = settings.UPLOAD_PENDING_BYTES_PER_PLAN
    pending = pending_upload_bytes(plan=plan)
    if pending + size > limit:
        raise ValidationError(
            _(
                "This plan's uploads waiting to be checked already take {pending} of the {limit} allowed; "
                "wait until they are done and upload again."
            ).format(pending=megabytes(pending), limit=megabytes(limit))
        )


def file_digest(file: IO[bytes]) -> tuple[str, int]:
    """The SHA-256 digest and the size of an uploaded file, read in chunks; the file is left at its start."""
    digest, size = hashlib.sha256(), 0
    chunks = file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(1024 * 1024), b"")
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size


def stored_name(filename: str) -> str:
    """A name to store an upload under: random, keeping only the extension of the person's name."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    extension = "".join(c for c in extension if c.isalnum())[:8]
    return f"{secrets.token_hex(12)}.{extension or 'bin'}"


def upload_job_params(*, name: str, size: int) -> dict[str, Any]:
    """What every job that carries an uploaded file says about it (see the module's docstring)."""
    return {"upload_file": name, "upload_bytes": size}


@transaction.atomic
def upload_create(
    *, kind: str, by: User, plan: Plan | None, file: UploadedFile, params: dict[str, Any] | None = None
) -> Upload:
    """Keep an uploaded file and queue the job that imports it; refused (ValidationError) when the plan's
    pending uploads have no room for it."""
    upload = upload_keep(kind=kind, by=by, plan=plan, file=file)
    try:
        upload_job_start(upload=upload, by=by, params=params)
    except JobLimitReached:
        upload.file.delete(save=False)  # the row rolls back; the file would stay behind until the sweep
        raise
    return upload


@transaction.atomic
def upload_keep(*, kind: str, by: User, plan: Plan | None, file: UploadedFile) -> Upload:
    """Keep an uploaded file for a job the person starts later, once they have chosen what to import of it (a
    SPAR table's country): pending, without a job, it counts in the plan's room for uploads, only its uploader
    reaches it (`upload_kept_get`), and it expires with the sweep's grace (UPLOAD_SWEEP_GRACE_SECONDS)."""
    digest, size = file_digest(file)
    upload_quota_check(plan=plan, size=size)
    filename = (getattr(file, "name", "") or "upload").rsplit("/", 1)[-1][:250]
    upload = Upload(
        kind=kind,
        plan_id=plan.pk if plan is not None else None,
        uploaded_by_id=by.pk,
        filename=filename,
        size=size,
        digest=digest,
    )
    upload.file.save(stored_name(filename), file, save=False)
    upload.save()
    # Should the transaction roll back for another reason, the stored file is an orphan that uploads_sweep deletes.
    return upload


def upload_expired(upload: Upload, *, now: datetime | None = None) -> bool:
    """Whether a kept upload waited longer than the sweep's grace: the sweep deletes it, so it is not offered."""
    return upload.created_at < (now or timezone.now()) - timedelta(seconds=settings.UPLOAD_SWEEP_GRACE_SECONDS)


def upload_kept_get(*, kind: str, by: User, plan: Plan, upload_id: int) -> Upload | None:
    """A file `upload_keep` kept for this person and plan, still waiting for its job and not expired; None for
    anyone else's, another plan's, another kind's, one already imported or refused, or an expired one."""
    upload = (
        Upload.objects.filter(
            pk=upload_id, kind=kind, plan_id=plan.pk, uploaded_by_id=by.pk, status=Upload.Status.PENDING
        )
        .filter(job__isnull=True)
        .first()
    )
    if upload is None or upload_expired(upload):
        return None
    return upload


@transaction.atomic
def upload_job_start(*, upload: Upload, by: User, params: dict[str, Any] | None = None) -> Job:
    """Queue the job that imports a kept upload (its own kind, plan and file). Refused (ValidationError) when
    the upload has its job already or is no longer waiting: two clicks start one import."""
    locked = Upload.objects.select_for_update().filter(pk=upload.pk, status=Upload.Status.PENDING).first()
    if locked is None or locked.job_id is not None:
        raise ValidationError(_("This file has been imported or refused already; upload it again."))
    job = job_create(
        kind=upload.kind,
        by=by,
        plan=upload.plan,
        params={
            **(params or {}),
            "upload": upload.pk,
            **upload_job_params(name=upload.file.name or "", size=upload.size),
        },
    )
    upload.job = job
    upload.save(update_fields=["job"])
    return job


def stored_file_delete(name: str) -> None:
    if name:
        default_storage.delete(name)


def problem_json(problem: Problem) -> dict[str, Any]:
    return {"sheet": problem.sheet, "row": problem.row, "column": problem.column, "message": problem.message}


def _finish(upload: Upload, *, status: str, message: str, problems: Sequence[Problem] = ()) -> None:
    name = upload.file.name or ""
    upload.status, upload.message = status, message[:250]
    upload.problems = [problem_json(problem) for problem in problems[:MAX_PROBLEMS_KEPT]]
    upload.problem_count = len(problems)
    upload.finished_at = timezone.now()
    upload.file = ""
    upload.save(update_fields=["status", "message", "problems", "problem_count", "finished_at", "file"])
    audit_record(
        plan=upload.plan,
        by=upload.uploaded_by,
        action="applied upload" if status == Upload.Status.APPLIED else "refused upload",
        target=upload,
        changes={
            "file": upload.filename,
            "size": upload.size,
            "sha256": upload.digest,
            "outcome": status,
            "problems": [str(problem) for problem in problems[:20]],
            "problem_count": len(problems),
        },
    )
    transaction.on_commit(lambda: stored_file_delete(name))


def refusal_message(problems: Sequence[Problem]) -> str:
    if len(problems) == 1:
        return _("Nothing was saved: {problem}").format(problem=problems[0])
    return _("Nothing was saved: the file has {count} problems, each listed with where it is.").format(
        count=number_text(len(problems))
    )


Apply = Callable[[Upload, IO[bytes], Progress], str]


def upload_job_run(*, job: Job, progress: Progress, apply: Apply) -> JobResult:
    """A job that imports an uploaded file: `apply(upload, file, progress)` checks it whole and saves it, or
    raises ImportRefused with every problem; it returns what it did, for the person. The file is deleted either
    way; the outcome and the problems stay on the upload."""
    upload = Upload.objects.select_related("plan", "uploaded_by").filter(job=job).first()
    if upload is None:
        raise JobFailed(_("The uploaded file is no longer there; please upload it again."))
    if upload.status == Upload.Status.PENDING:
        try:
            try:
                handle = upload.file.open("rb")
            except (FileNotFoundError, ValueError) as missing:  # ValueError: the row has no file any more
                raise ImportRefused([_("The uploaded file is no longer there; please upload it again.")]) from missing
            try:
                with transaction.atomic(), handle:
                    message = apply(upload, handle, progress)
                    _finish(upload, status=Upload.Status.APPLIED, message=message)
            except PlanFrozen as frozen:  # endorsed after the file was uploaded: nothing of it is applied
                raise ImportRefused([str(frozen)]) from None
        except ImportRefused as refused:
            with transaction.atomic():
                _finish(upload, status=Upload.Status.REFUSED, message=refusal_message(refused.problems),
                        problems=refused.problems)  # fmt: skip
            raise JobFailed(refusal_message(refused.problems)) from None
    elif upload.status == Upload.Status.REFUSED:
        raise JobFailed(upload.message)
    return JobResult(filename=f"{file_slug(upload.filename.rsplit('.', 1)[0])}-import.xlsx", content=_report(upload))


def _report(upload: Upload) -> bytes:
    book = StreamingWorkbook(title=upload.get_kind_display())
    bold = book.style(bold=True)
    sheet = book.add_sheet(_("Import"), widths=[24, 80])
    sheet.append([upload.get_kind_display()], bold)
    for label, value in (
        (_("File"), upload.filename),
        (_("Size (bytes)"), upload.size),
        (_("SHA-256"), upload.digest),
        (_("Uploaded by"), upload.uploaded_by.get_full_name() or upload.uploaded_by.get_username()),
        (_("Uploaded"), timezone.localtime(upload.created_at).strftime("%Y-%m-%d %H:%M")),
        (_("Outcome"), upload.message),
    ):
        sheet.append([label, value], [bold, 0])
    return book.to_bytes()


def uploads_sweep(*, now: datetime | None = None) -> int:
    """The beat clean-up: delete uploaded files no job will read any more (their job finished, failed or is
    gone), and mark their uploads refused when a crash left them waiting. Returns the files deleted."""
    now = now or timezone.now()
    # A file kept for the person's choice (upload_keep) waits without a job for the grace period, then expires.
    grace = now - timedelta(seconds=settings.UPLOAD_SWEEP_GRACE_SECONDS)
    for upload in Upload.objects.filter(status=Upload.Status.PENDING).filter(
        job__status__in=Job.FINISHED
    ) | Upload.objects.filter(status=Upload.Status.PENDING, job__isnull=True, created_at__lt=grace):
        message = (upload.job.message if upload.job else "") or _("The import stopped before finishing.")
        with transaction.atomic():
            _finish(upload, status=Upload.Status.REFUSED, message=message)
    waiting = {
        params.get("upload_file")
        for params in Job.objects.filter(params__has_key="upload_file")
        .exclude(status__in=Job.FINISHED)
        .values_list("params", flat=True)
    }
    # A file is left alone for a while after it was written: its job may not be committed yet, or the person is
    # still choosing what to import of it.
    deleted = 0
    for name in _stored_files(UPLOADS_FOLDER):
        if name in waiting:
            continue
        try:
            if default_storage.get_modified_time(name) > grace:
                continue
        except FileNotFoundError:
            continue
        default_storage.delete(name)
        deleted += 1
    return deleted


def _stored_files(folder: str) -> list[str]:
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    found = [f"{folder}/{name}" for name in files]
    for child in folders:
        found.extend(_stored_files(f"{folder}/{child}"))
    return found


# --- Documents: a file is what its name says -------------------------------------------------------------------------
#
# A document kept with the plan (evidence of progress, a document of an engagement event) is refused unless its
# content is of the kind its extension claims: a PDF starts as a PDF does, an image as its format does, an Office
# document is a zip holding that document's parts (and no macros, no more data unpacked than a document holds), a
# text file is text. The caller stores it under MEDIA_ROOT with a random name (stored_name) and serves it only
# through a view that checks the person's membership, as an attachment, never sniffed (document_response).

MAX_ZIP_ENTRIES = 5_000
ZIP_MAGIC = b"PK\x03\x04"
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Kind:
    """A kind of document: what the person is told it is, and the type it is served as."""

    what: Promise
    content_type: str


KINDS: dict[str, Kind] = {
    ".pdf": Kind(gettext_lazy("a PDF document"), "application/pdf"),
    ".png": Kind(gettext_lazy("a PNG image"), "image/png"),
    ".jpg": Kind(gettext_lazy("a JPEG image"), "image/jpeg"),
    ".jpeg": Kind(gettext_lazy("a JPEG image"), "image/jpeg"),
    ".docx": Kind(
        gettext_lazy("a Word document"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    ".xlsx": Kind(
        gettext_lazy("an Excel workbook"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
    ".pptx": Kind(
        gettext_lazy("a PowerPoint presentation"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ".csv": Kind(gettext_lazy("a CSV file"), "text/csv"),
    ".txt": Kind(gettext_lazy("a text file"), "text/plain"),
}
DOCUMENT_TYPES = tuple(KINDS)
DOCUMENT_WHAT = gettext_lazy(
    "a PDF, an image (.png, .jpg), a Word, Excel or PowerPoint file (.docx, .xlsx, .pptx) or a text file"
)
# The folder of each Office document's main part, and what its macros would be.
OFFICE_PARTS = {".docx": "word/", ".xlsx": "xl/", ".pptx": "ppt/"}
MACRO_NAMES = ("vbaproject.bin", "vbadata.xml")
BINARY_STARTS = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", ZIP_MAGIC, OLE_MAGIC, b"\x7fELF", b"MZ", b"GIF8")


def _extension(name: str) -> str:
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _not_what_it_claims(name: str, kind: Kind, why: str = "") -> ValidationError:
    message = _("%(name)s is not %(what)s: its content is not what its name says.") % {
        "name": name,
        "what": kind.what,
    }
    return ValidationError(f"{message} {why}".strip(), code="evidence_type_mismatch")


def _office_check(data: bytes, *, name: str, extension: str) -> None:
    """A Word or PowerPoint file is a zip with the document's parts, no macros and no more data than a document
    holds; an Excel workbook passes every check of the product's spreadsheet imports."""
    kind = KINDS[extension]
    if not data.startswith(ZIP_MAGIC):
        raise _not_what_it_claims(name, kind)
    if extension == ".xlsx":
        _spreadsheet_check(data, name=name)
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _not_what_it_claims(name, kind, _("The file is damaged.")) from None
    names = [member.filename for member in members]
    if "[Content_Types].xml" not in names or not any(entry.startswith(OFFICE_PARTS[extension]) for entry in names):
        raise _not_what_it_claims(name, kind)
    if any(entry.lower().rsplit("/", 1)[-1] in MACRO_NAMES for entry in names):
        raise ValidationError(
            _("%(name)s contains macros; save it without macros and upload that.") % {"name": name},
            code="evidence_macros",
        )
    unpacked = sum(member.file_size for member in members)
    if len(members) > MAX_ZIP_ENTRIES or unpacked > min(MAX_UNPACKED_BYTES, MAX_COMPRESSION_RATIO * len(data)):
        raise ValidationError(
            _("%(name)s unpacks to far more data than a document holds; it was not kept.") % {"name": name},
            code="evidence_zip_bomb",
        )
    if any(member.flag_bits & 0x1 for member in members):
        raise ValidationError(
            _("%(name)s is protected with a password; remove the password and upload it.") % {"name": name},
            code="evidence_encrypted",
        )


def _spreadsheet_check(data: bytes, *, name: str) -> None:
    """A workbook or a CSV file passes every check of the product's spreadsheet imports (zip bombs, entity
    expansion, nesting, counts, macros, links to other workbooks) but may hold formulas: it is kept, never run."""
    try:
        read_spreadsheet(io.BytesIO(data), name=name, limits="evidence", formulas="report")
    except ImportRefused as refused:
        raise ValidationError(
            [
                # Translators: a file's name, then why it was refused.
                _("%(name)s: %(problem)s") % {"name": name, "problem": problem.message}
                for problem in refused.problems
            ],
            code="evidence_refused",
        ) from None


def _text_check(data: bytes, *, name: str, extension: str) -> None:
    """Text is text: no NUL byte, not a known binary format, readable as UTF-8 (with or without its mark)."""
    head = data[:SNIFF_BYTES]
    if head.startswith(BINARY_STARTS) or b"\x00" in head:
        raise _not_what_it_claims(name, KINDS[extension])
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # a character cut at the end of the sniffed bytes is no fault
            raise _not_what_it_claims(name, KINDS[extension], _("Save it as UTF-8 text and upload it again.")) from None


def document_file_check(file: UploadedFile) -> Kind:
    """The kind of an uploaded document (evidence of progress, a document of an event), once its name, size and
    content agree; ValidationError naming the file otherwise. The file is left at its start."""
    name = (file.name or "").rsplit("/", 1)[-1]
    upload_file_check(file, extensions=DOCUMENT_TYPES, what=DOCUMENT_WHAT)
    extension = _extension(name)
    kind = KINDS[extension]
    file.seek(0)
    data = file.read()
    file.seek(0)
    if extension == ".pdf" and not data.startswith(b"%PDF-"):
        raise _not_what_it_claims(name, kind)
    if extension == ".png" and not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise _not_what_it_claims(name, kind)
    if extension in (".jpg", ".jpeg") and not data.startswith(b"\xff\xd8\xff"):
        raise _not_what_it_claims(name, kind)
    if extension in OFFICE_PARTS:
        _office_check(data, name=name, extension=extension)
    if extension in (".csv", ".txt"):
        _text_check(data, name=name, extension=extension)
    if extension == ".csv":
        _spreadsheet_check(data, name=name)
    return kind


def document_response(file: Any, *, file_name: str, content_type: str) -> FileResponse:
    """A stored document as a download: an attachment of the type its check gave, never sniffed."""
    if not file:
        raise Http404(_("This document is not stored."))
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        raise Http404(_("The file is no longer stored.")) from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=file_name or "document",
        content_type=content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
