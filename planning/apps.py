from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlanningConfig(AppConfig):
    name = "planning"
    verbose_name = _("Planning")

    def ready(self) -> None:
        from naphs.job_kinds import job_kinds_register
        from naphs.services import writable_when_endorsed_register
        from planning import imports
        from planning.job_kinds import PlanningJob

        job_kinds_register(
            PlanningJob,
            {
                PlanningJob.SCORES_IMPORT: imports.scores_import_job,
                PlanningJob.SPAR_IMPORT: imports.spar_import_job,
                PlanningJob.FRAMEWORK_IMPORT: imports.framework_import_job,
                PlanningJob.LIBRARY_IMPORT: imports.library_import_job,
                PlanningJob.CROSSWALK_IMPORT: imports.crosswalk_import_job,
                PlanningJob.MAPPING_IMPORT: imports.mapping_import_job,
            },
        )
        # An endorsed plan is reviewed, endorsed, reopened and saved as versions: none of it is a change to its content.
        writable_when_endorsed_register(
            "planning.reviewround",
            "planning.reviewinvitation",
            "planning.endorsement",
            "planning.planversion",
            "planning.countrygrant",
        )
        # A follow-up assessment re-assesses the capacities of the plan being implemented; a baseline assessment is
        # what the plan starts from, part of its content.
        writable_when_endorsed_register("planning.assessment", when=lambda assessment: assessment.is_follow_up)
        writable_when_endorsed_register("planning.indicatorscore", when=lambda score: score.assessment.is_follow_up)
        writable_when_endorsed_register("naphs.upload", when=imports.upload_into_follow_up)
