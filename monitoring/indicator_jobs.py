"""The job that imports M&E indicators' actuals from an uploaded spreadsheet: the request keeps the file
(naphs.uploads.upload_create), the job checks the person may still enter actuals, reads the whole file and saves
all of it or nothing (monitoring.indicator_services.indicator_actuals_import)."""

from __future__ import annotations

from typing import IO

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from monitoring.indicator_services import indicator_actuals_import
from monitoring.indicators import indicators_writer
from naphs.jobs import JobResult, Progress
from naphs.models import Job, Upload
from naphs.spreadsheets import ImportRefused
from naphs.uploads import upload_job_run
from stakeholders.access import membership_get_for_user


def indicator_actuals_import_job(*, job: Job, progress: Progress) -> JobResult:
    def apply(upload: Upload, file: IO[bytes], report: Progress) -> str:
        try:
            if job.plan_id is None:
                raise Http404
            membership = membership_get_for_user(user=upload.uploaded_by, plan_id=job.plan_id)
        except (Http404, PermissionDenied):
            membership = None
        if membership is None or not indicators_writer(membership):
            raise ImportRefused([_("You no longer enter this plan's indicator values, so nothing was imported.")])
        report(10, _("Reading the indicator values"))
        counts = indicator_actuals_import(
            plan=membership.plan, by=upload.uploaded_by, upload=file, filename=upload.filename, membership=membership
        )
        count = counts["added"] + counts["changed"]
        return ngettext(
            "Imported {file}: {count} value added or changed.",
            "Imported {file}: {count} values added or changed.",
            count,
        ).format(file=upload.filename, count=count)

    return upload_job_run(job=job, progress=progress, apply=apply)
