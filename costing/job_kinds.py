"""Costing's kinds of background job; CostingConfig.ready registers them with their handlers."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CostingJob(models.TextChoices):
    COSTING_WORKBOOK = "costing_workbook", _("Costing workbook (Excel)")
    COSTING_UPLOAD = "costing_upload", _("Costing workbook upload")
    WHO_COSTING_EXPORT = "who_costing_export", _("WHO costing tool layout (Excel)")
    WHO_COSTING_IMPORT = "who_costing_import", _("WHO costing tool layout import")
    COSTING_DASHBOARD_EXPORT = "costing_dashboard_export", _("Costing dashboard (Excel)")
    PLAN_WORKBOOK = "plan_workbook", _("Whole-plan workbook (Excel)")
    PLAN_DOCUMENT = "plan_document", _("Plan document (PDF)")
    PLAN_OPEN_DATA = "plan_open_data", _("Plan as open data (CSV and JSON, zip)")
