"""Planning's file imports as background jobs: a score sheet, a SPAR results table, a framework, a benchmark
library and a crosswalk's links. The request keeps the file and queues the job (`naphs.uploads.upload_create`);
the job checks the person may still import, reads the whole file, and saves all of it or nothing (the services in
assessments.py, frameworks.py, libraries.py and crosswalks.py); the job's page shows every problem, by sheet, row
and column, or the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from naphs.jobs import JobResult, Progress
from naphs.models import Job, Upload
from naphs.spreadsheets import ImportRefused
from naphs.uploads import upload_job_run, upload_kept_get
from planning.assessments import SparCountry, SparImported, scores_import, scores_import_spar_table, spar_table_rows
from planning.benchmark_mapping import benchmark_mapping_import, mapping_import_summary
from planning.benchmark_platform import is_platform_upload, platform_import
from planning.crosswalks import crosswalk_import
from planning.frameworks import framework_import
from planning.job_kinds import PlanningJob
from planning.libraries import library_import_report
from planning.models import Assessment, Crosswalk, Framework, Plan
from stakeholders.access import assessment_write_need, membership_get_for_user, membership_need_check

if TYPE_CHECKING:
    from stakeholders.models import User


def _assessment(job: Job, upload: Upload) -> Assessment:
    """The assessment the job imports into, once the person who uploaded may still record its scores (a baseline
    assessment: the plan's content, refused with PlanFrozen once the plan is endorsed; a follow-up: the
    secretariat's, on an endorsed plan too)."""
    refused = ImportRefused([_("You no longer manage this plan's assessments, so nothing was imported.")])
    try:
        if job.plan_id is None:
            raise Http404
        membership = membership_get_for_user(user=upload.uploaded_by, plan_id=job.plan_id)
    except (Http404, PermissionDenied):
        raise refused from None
    assessment = (
        Assessment.objects.select_related("framework", "plan")
        .filter(pk=job.params.get("assessment"), plan_id=job.plan_id)
        .first()
    )
    if assessment is None:
        raise ImportRefused([_("The assessment is no longer there, so nothing was imported.")])
    try:
        membership_need_check(membership, assessment_write_need(assessment))
    except PermissionDenied:
        raise refused from None
    return assessment


def upload_into_follow_up(upload: Upload) -> bool:
    """Whether an upload is a score sheet or SPAR table imported into a follow-up assessment: what it applies goes on
    while the plan is endorsed (the scores' own audit records are checked one by one, all the same)."""
    if (
        upload.kind not in (PlanningJob.SCORES_IMPORT, PlanningJob.SPAR_IMPORT)
        or upload.job is None
        or upload.plan_id is None
    ):
        return False
    assessment_id = upload.job.params.get("assessment")
    return Assessment.objects.filter(
        pk=assessment_id, plan_id=upload.plan_id, purpose=Assessment.Purpose.FOLLOW_UP
    ).exists()


MAX_SKIPPED_LISTED = 30


def _scores_done(count: int, filename: str, skipped: Sequence[int] = ()) -> str:
    done = ngettext(
        "Imported {file}: {count} score added or changed.", "Imported {file}: {count} scores added or changed.", count
    ).format(file=filename, count=count)
    if not skipped:
        return done
    rows = ", ".join(str(number) for number in skipped[:MAX_SKIPPED_LISTED])
    if len(skipped) > MAX_SKIPPED_LISTED:
        rows = _("{rows} and {count} more").format(rows=rows, count=len(skipped) - MAX_SKIPPED_LISTED)
    blank = ngettext(
        "Row {rows}: blank, skipped ({count} row without a score).",
        "Rows {rows}: blank, skipped ({count} rows without a score).",
        len(skipped),
    ).format(rows=rows, count=len(skipped))
    return _("{done} {skipped}").format(done=done, skipped=blank)


MAX_UNREPORTED_LISTED = 10  # a job's message holds 250 characters


def _spar_done(imported: SparImported, filename: str, country: str) -> str:
    """What a SPAR import did: the scores changed, how many indicators were scored, and which the country did
    not report (empty or 0 in the table)."""
    done = _scores_done(len(imported.changes), filename)
    total = len(imported.scored) + len(imported.unreported)
    scored = ngettext(
        "{country}: {count} of {total} indicator scored.",
        "{country}: {count} of {total} indicators scored.",
        total,
    ).format(country=country.strip(), count=len(imported.scored), total=total)
    if not imported.unreported:
        return _("{done} {scored}").format(done=done, scored=scored)
    codes = ", ".join(imported.unreported[:MAX_UNREPORTED_LISTED])
    if len(imported.unreported) > MAX_UNREPORTED_LISTED:
        more = len(imported.unreported) - MAX_UNREPORTED_LISTED
        codes = ngettext("{codes} and {count} more", "{codes} and {count} more", more).format(codes=codes, count=more)
    unreported = _("Not reported (empty or 0), so not scored: {codes}.").format(codes=codes)
    return _("{done} {scored} {unreported}").format(done=done, scored=scored, unreported=unreported)


def scores_import_job(*, job: Job, progress: Progress) -> JobResult:
    """The job of a score sheet (indicator code, score) uploaded on an assessment's page."""

    def apply(upload: Upload, file: IO[bytes], report: Progress) -> str:
        assessment = _assessment(job, upload)
        report(10, _("Reading the score sheet"))
        imported = scores_import(assessment=assessment, by=upload.uploaded_by, upload=file, filename=upload.filename)
        return _scores_done(len(imported.changes), upload.filename, imported.skipped)

    return upload_job_run(job=job, progress=progress, apply=apply)


def spar_import_job(*, job: Job, progress: Progress) -> JobResult:
    """The job of a SPAR results table uploaded on an assessment's page, for one country's row (`country`, as
    the person picked it from the table's list or named it)."""

    def apply(upload: Upload, file: IO[bytes], report: Progress) -> str:
        assessment = _assessment(job, upload)
        report(10, _("Reading the SPAR results table"))
        country = job.params.get("country", "")
        imported = scores_import_spar_table(
            assessment=assessment, by=upload.uploaded_by, upload=file, filename=upload.filename, country=country
        )
        # What was scored and what was not reported, kept with the job for the assessment's page to list (the
        # message holds 250 characters); in the import's transaction, so a refused import keeps none.
        summary = {"country": country.strip(), "scored": imported.scored, "unreported": imported.unreported}
        Job.objects.filter(pk=job.pk).update(params={**job.params, "summary": summary})
        return _spar_done(imported, upload.filename, country)

    return upload_job_run(job=job, progress=progress, apply=apply)


def spar_table_kept(*, by: User, plan: Plan, upload_id: int) -> tuple[Upload, list[SparCountry]]:
    """A SPAR results table the person uploaded to the plan and has still to pick a country of, with its
    countries; 404 for anyone else's, another plan's, one imported, refused or expired."""
    upload = upload_kept_get(kind=PlanningJob.SPAR_IMPORT, by=by, plan=plan, upload_id=upload_id)
    try:
        if upload is None:
            raise FileNotFoundError
        with upload.file.open("rb") as handle:
            return upload, spar_table_rows(upload=handle, filename=upload.filename)
    except (FileNotFoundError, ValueError, ImportRefused):
        raise Http404(_("This uploaded file is no longer waiting for a choice; upload it again.")) from None


def _administrator_may(upload: Upload, permission: str) -> None:
    if not (upload.uploaded_by.is_active and upload.uploaded_by.has_perm(permission)):
        raise ImportRefused([_("You may no longer import this, so nothing was imported.")])


def framework_import_job(*, job: Job, progress: Progress) -> JobResult:
    """The job of a framework's spreadsheet uploaded in the admin."""

    def apply(upload: Upload, file: IO[bytes], report: Progress) -> str:
        _administrator_may(upload, "planning.add_framework")
        report(10, _("Reading the framework"))
        framework = framework_import(
            code=job.params.get("code", ""), name=job.params.get("name", ""), upload=file, filename=upload.filename
        )
        areas, indicators = framework.technical_areas.count(), framework.indicators.count()
        return _("“{framework}” now has {areas} technical areas and {indicators} indicators.").format(
            framework=framework, areas=areas, indicators=indicators
        )

    return upload_job_run(job=job, progress=progress, apply=apply)


def library_import_job(*, job: Job, progress: Progress) -> JobResult:
    """The job of a benchmark library's file (xlsx, CSV or JSON), or of the WHO Benchmarks platform's seed files (a
    .zip of them), uploaded in the admin."""

    def apply(upload: Upload, file: IO[bytes], report: Progress) -> str:
        _administrator_may(upload, "planning.add_benchmarklibrary")
        framework = Framework.objects.filter(pk=job.params.get("framework")).first()
        if job.params.get("framework") and framework is None:
            raise ImportRefused([_("The framework is no longer there, so nothing was imported.")])
        codes_of = Framework.objects.filter(pk=job.params.get("codes_of")).first()
        if job.params.get("codes_of") and codes_of is None:
            raise ImportRefused([_("The framework is no longer there, so nothing was imported.")])
        report(10, _("Reading the library"))
        if is_platform_upload([upload.filename]):
            platform = platform_import(
                framework=framework or Framework.objects.get(code="JEE3"),
                files=[(upload.filename, file)],
                name=job.params.get("name", ""),
                source=job.params.get("source", ""),
                by=upload.uploaded_by,
            )
            return platform.summary()
        imported = library_import_report(
            framework=framework,
            name=job.params.get("name", ""),
            source=job.params.get("source", ""),
            upload=file,
            filename=upload.filename,
            codes_of=codes_of,
        )
        library = imported.library
        count = library.actions.count()
        done = ngettext(
            "Imported {count} action into “{library}”.", "Imported {count} actions into “{library}”.", count
        ).format(count=count, library=library)
        if not imported.unmapped:
            return done
        codes = ", ".join(imported.unmapped_codes[:MAX_UNREPORTED_LISTED])
        if len(imported.unmapped_codes) > MAX_UNREPORTED_LISTED:
            more = len(imported.unmapped_codes) - MAX_UNREPORTED_LISTED
            codes = ngettext("{codes} and {count} more", "{codes} and {count} more", more).format(
                codes=codes, count=more
            )
        left_out = ngettext(
            "{count} action left out: its indicator corresponds to none of {framework} ({codes}).",
            "{count} actions left out: their indicators correspond to none of {framework} ({codes}).",
            len(imported.unmapped),
        ).format(count=len(imported.unmapped), framework=library.framework.code, codes=codes)
        return _("{done} {left_out}").format(done=done, left_out=left_out)

    return upload_job_run(job=job, progress=progress, apply=apply)


def crosswalk_import_job(*, job: Job, progress: Progress) -> JobResult:
    """The job of a crosswalk's links file (CSV or xlsx) uploaded in the admin: it replaces the crosswalk's links."""

    def apply(upload: Upload, file: IO[bytes], report: Progress) -> str:
        _administrator_may(upload, "planning.change_crosswalk")
        crosswalk = Crosswalk.objects.select_related("source_framework", "target_framework").filter(
            pk=job.params.get("crosswalk")
        )
        if not crosswalk.exists():
            raise ImportRefused([_("The crosswalk is no longer there, so nothing was imported.")])
        report(10, _("Reading the crosswalk"))
        count = crosswalk_import(crosswalk=crosswalk.get(), upload=file, filename=upload.filename)
        return ngettext("“{crosswalk}” now has {count} link.", "“{crosswalk}” now has {count} links.", count).format(
            crosswalk=crosswalk.get(), count=count
        )

    return upload_job_run(job=job, progress=progress, apply=apply)


def mapping_import_job(*, job: Job, progress: Progress) -> JobResult:
    """The job of a benchmark indicator mapping's CSV file uploaded in the admin."""

    def apply(upload: Upload, file: IO[bytes], report: Progress) -> str:
        _administrator_may(upload, "planning.add_benchmarkindicatorlink")
        report(10, _("Reading the mapping"))
        counts = benchmark_mapping_import(upload=file, filename=upload.filename, by=upload.uploaded_by)
        return mapping_import_summary(counts)

    return upload_job_run(job=job, progress=progress, apply=apply)
