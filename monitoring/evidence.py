"""Evidence of a progress report: files (checked as every upload is, and for being what their name says) and links.

A file is refused unless its content is of the kind its extension claims: a PDF starts as a PDF does, an image as
its format does, an Office document is a zip holding that document's parts (and no macros, no more data unpacked
than a document holds), a text file is text. It is stored under MEDIA_ROOT with a random name and served only
through a view that checks the person's membership, as an attachment, never sniffed by the browser.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import FileResponse, Http404
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from monitoring.models import ProgressEvidence, ProgressUpdate
from monitoring.progress import period_open_check
from naphs.permissions import Role
from naphs.services import audit_record
from naphs.spreadsheets import MAX_COMPRESSION_RATIO, MAX_UNPACKED_BYTES, OLE_MAGIC, ImportRefused, read_spreadsheet
from naphs.uploads import stored_name, upload_file_check, upload_quota_check

if TYPE_CHECKING:
    from stakeholders.models import PlanMembership, User

MAX_EVIDENCE_PER_REPORT = 20
MAX_ZIP_ENTRIES = 5_000
ZIP_MAGIC = b"PK\x03\x04"
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Kind:
    """A kind of evidence file: what the person is told it is, and the type it is served as."""

    what: Promise
    content_type: str


KINDS: dict[str, Kind] = {
    ".pdf": Kind(_("a PDF document"), "application/pdf"),
    ".png": Kind(_("a PNG image"), "image/png"),
    ".jpg": Kind(_("a JPEG image"), "image/jpeg"),
    ".jpeg": Kind(_("a JPEG image"), "image/jpeg"),
    ".docx": Kind(_("a Word document"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".xlsx": Kind(_("an Excel workbook"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".pptx": Kind(
        _("a PowerPoint presentation"), "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
    ".csv": Kind(_("a CSV file"), "text/csv"),
    ".txt": Kind(_("a text file"), "text/plain"),
}
EVIDENCE_TYPES = tuple(KINDS)
EVIDENCE_WHAT = _("a PDF, an image (.png, .jpg), a Word, Excel or PowerPoint file (.docx, .xlsx, .pptx) or a text file")
# The folder of each Office document's main part, and what its macros would be.
OFFICE_PARTS = {".docx": "word/", ".xlsx": "xl/", ".pptx": "ppt/"}
MACRO_NAMES = ("vbaproject.bin", "vbadata.xml")
BINARY_STARTS = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", ZIP_MAGIC, OLE_MAGIC, b"\x7fELF", b"MZ", b"GIF8")


def _extension(name: str) -> str:
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _not_what_it_claims(name: str, kind: Kind, why: str = "") -> ValidationError:
    message = gettext("%(name)s is not %(what)s: its content is not what its name says.") % {
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
        raise _not_what_it_claims(name, kind, gettext("The file is damaged.")) from None
    names = [member.filename for member in members]
    if "[Content_Types].xml" not in names or not any(entry.startswith(OFFICE_PARTS[extension]) for entry in names):
        raise _not_what_it_claims(name, kind)
    if any(entry.lower().rsplit("/", 1)[-1] in MACRO_NAMES for entry in names):
        raise ValidationError(
            gettext("%(name)s contains macros; save it without macros and upload that.") % {"name": name},
            code="evidence_macros",
        )
    unpacked = sum(member.file_size for member in members)
    if len(members) > MAX_ZIP_ENTRIES or unpacked > min(MAX_UNPACKED_BYTES, MAX_COMPRESSION_RATIO * len(data)):
        raise ValidationError(
            gettext("%(name)s unpacks to far more data than a document holds; it was not kept.") % {"name": name},
            code="evidence_zip_bomb",
        )
    if any(member.flag_bits & 0x1 for member in members):
        raise ValidationError(
            gettext("%(name)s is protected with a password; remove the password and upload it.") % {"name": name},
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
                gettext("%(name)s: %(problem)s") % {"name": name, "problem": problem.message}
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
            raise _not_what_it_claims(
                name, KINDS[extension], gettext("Save it as UTF-8 text and upload it again.")
            ) from None


def evidence_file_check(file: UploadedFile) -> Kind:
    """The kind of an evidence file, once its name, size and content agree; ValidationError naming the file
    otherwise. The file is left at its start."""
    name = (file.name or "").rsplit("/", 1)[-1]
    upload_file_check(file, extensions=EVIDENCE_TYPES, what=EVIDENCE_WHAT)
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


def evidence_link_check(link: str) -> str:
    """A link is http or https, to a host."""
    link = link.strip()
    parts = urlsplit(link)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            {"link": [gettext("A link starts with http:// or https:// and names a site.")]}, code="evidence_link"
        )
    return link


def evidence_may_add_check(update: ProgressUpdate) -> None:
    """Evidence is added while the report's period is open, up to MAX_EVIDENCE_PER_REPORT per report."""
    period_open_check(update.period)
    if update.evidence.count() >= MAX_EVIDENCE_PER_REPORT:
        raise ValidationError(
            gettext("A report keeps at most %(count)d pieces of evidence; delete one before adding another.")
            % {"count": MAX_EVIDENCE_PER_REPORT},
            code="evidence_too_many",
        )


def _locked_update(update: ProgressUpdate) -> ProgressUpdate:
    """The report, its row held (evidence of one report is added in turn) and its period read again."""
    held = (
        ProgressUpdate.objects.select_for_update(of=("self",))
        .select_related("period", "activity")
        .filter(pk=update.pk)
        .first()
    )
    if held is None:
        raise ValidationError(gettext("This report has been removed."), code="report_removed")
    held.plan = update.plan
    return held


@transaction.atomic
def evidence_add(
    *, update: ProgressUpdate, by: User, file: UploadedFile | None = None, link: str = "", description: str = ""
) -> ProgressEvidence:
    """Add a file or a link to a report. ValidationError (what and where) and nothing kept otherwise."""
    if bool(file) == bool(link.strip()):
        raise ValidationError(gettext("Give a file or a link, one of the two."), code="evidence_file_or_link")
    update = _locked_update(update)
    evidence_may_add_check(update)
    evidence = ProgressEvidence(update=update, added_by=by, description=description.strip()[:300])
    if file:
        try:
            kind = evidence_file_check(file)
        except ValidationError as error:
            raise ValidationError({"file": error.messages}) from None
        upload_quota_check(plan=update.plan, size=file.size or 0)
        evidence.file_name = (file.name or "evidence").rsplit("/", 1)[-1][:200]
        evidence.content_type, evidence.size = kind.content_type, file.size or 0
        evidence.file.save(stored_name(evidence.file_name), file, save=False)
        stored = evidence.file.name or ""
        try:
            evidence.full_clean()
            evidence.save()
        except Exception:
            evidence.file.storage.delete(stored)
            raise
    else:
        evidence.link = evidence_link_check(link)
        evidence.full_clean()
        evidence.save()
    audit_record(
        plan=update.plan,
        by=by,
        action="added",
        target=evidence,
        changes={"evidence": evidence.file_name or evidence.link, "report": str(update)},
        area_id=update.activity.technical_area_id,
    )
    return evidence


def evidence_deletable_by(*, membership: PlanMembership, evidence: ProgressEvidence) -> bool:
    """The secretariat, or whoever added it (who may still report on the activity)."""
    return membership.role in (Role.SECRETARIAT_LEAD, Role.SECRETARIAT_MEMBER) or (
        evidence.added_by_id == membership.user_id
    )


@transaction.atomic
def evidence_delete(*, evidence: ProgressEvidence, by: User) -> None:
    """Delete a piece of evidence while its report's period is open; its file goes once the deletion commits."""
    update = _locked_update(evidence.update)
    period_open_check(update.period)
    stored = evidence.file.name or ""
    label = evidence.file_name or evidence.link
    audit_record(
        plan=update.plan,
        by=by,
        action="deleted",
        target=evidence,
        changes={"evidence": label, "report": str(update)},
        area_id=update.activity.technical_area_id,
    )
    evidence.delete()
    if stored:
        storage = ProgressEvidence._meta.get_field("file").storage
        transaction.on_commit(lambda: storage.delete(stored))


def evidence_response(evidence: ProgressEvidence) -> FileResponse:
    """The evidence file as a download: an attachment of the type its check gave, never sniffed."""
    if not evidence.file:
        raise Http404(gettext("This evidence is a link, not a file."))
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:
        raise Http404(gettext("The evidence file is no longer stored.")) from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=evidence.file_name or "evidence",
        content_type=evidence.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
