"""Monitoring's kinds of background job; MonitoringConfig.ready registers them with their handlers."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MonitoringJob(models.TextChoices):
    """The kinds of background job monitoring runs."""

    CAPACITY_PROGRESS_EXPORT = "capacity_progress_export", _("Capacity progress (Excel)")
    PROGRESS_WORKBOOK = "progress_workbook", _("Progress workbook (Excel)")
    PROGRESS_UPLOAD = "progress_upload", _("Progress workbook upload")
    INDICATOR_ACTUALS_IMPORT = "indicator_actuals_import", _("M&E indicator actuals import")
    MONITORING_DASHBOARD_EXPORT = "monitoring_dashboard_export", _("Monitoring dashboard (Excel)")
