"""Planning's kinds of background job; PlanningConfig.ready registers them with their handlers."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanningJob(models.TextChoices):
    SCORES_IMPORT = "scores_import", _("Score sheet import")
    SPAR_IMPORT = "spar_import", _("SPAR results table import")
    FRAMEWORK_IMPORT = "framework_import", _("Framework import")
    LIBRARY_IMPORT = "library_import", _("Benchmark library import")
    CROSSWALK_IMPORT = "crosswalk_import", _("Crosswalk import")
    MAPPING_IMPORT = "benchmark_mapping_import", _("Benchmark indicator mapping import")
