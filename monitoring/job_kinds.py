"""Monitoring's kinds of background job; MonitoringConfig.ready registers them with their handlers."""

from django.db import models


class MonitoringJob(models.TextChoices):
    """Each part adds its kinds here (e.g. PROGRESS_WORKBOOK = "progress_workbook", _("Progress workbook (Excel)"))."""
