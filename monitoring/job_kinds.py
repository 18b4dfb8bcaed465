"""Monitoring's kinds of background job; MonitoringConfig.ready registers them with their handlers."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MonitoringJob(models.TextChoices):
    """Each part adds its kinds here (e.g. PROGRESS_WORKBOOK = "progress_workbook", _("Progress workbook (Excel)"))."""

    MONITORING_DASHBOARD_EXPORT = "monitoring_dashboard_export", _("Monitoring dashboard (Excel)")
