"""Evidence of a progress report: files (checked as every upload is, and for being what their name says) and links.

A file is refused unless its content is of the kind its extension claims: a PDF starts as a PDF does, an image as
its format does, an Office document is a zip holding that document's parts (and no macros, no more data unpacked
than a document holds), a text file is text. It is stored under MEDIA_ROOT with a random name and served only
through a view that checks the person's membership, as an attachment, never sniffed by the browser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import FileResponse, Http404
from django.utils.translation import gettext

from monitoring.models import ProgressEvidence, ProgressUpdate
from monitoring.progress import period_open_check
from naphs.permissions import Role
from naphs.services import audit_record
from naphs.uploads import (
    DOCUMENT_TYPES,
    DOCUMENT_WHAT,
    KINDS,
    Kind,
    document_file_check,
    document_response,
    stored_name,
    upload_quota_check,
)

if TYPE_CHECKING:
    from stakeholders.models import PlanMembership, User

MAX_EVIDENCE_PER_REPORT = 20
# Evidence is any document the core takes (naphs.uploads: a file must be what its name says).
EVIDENCE_TYPES = DOCUMENT_TYPES
EVIDENCE_WHAT = DOCUMENT_WHAT
evidence_file_check = document_file_check
__all__ = ["KINDS", "Kind", "evidence_file_check"]


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
    return document_response(
        evidence.file, file_name=evidence.file_name or "evidence", content_type=evidence.content_type
    )
