"""The stakeholders' kinds of background job; StakeholdersConfig.ready registers them with their handlers."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StakeholdersJob(models.TextChoices):
    DIRECTORY_EXPORT = "directory_export", _("Directory export (Excel)")
    AUDIT_EXPORT = "audit_export", _("Audit trail export (Excel)")
