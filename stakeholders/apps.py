from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StakeholdersConfig(AppConfig):
    name = "stakeholders"
    verbose_name = _("Stakeholders")

    def ready(self) -> None:
        from naphs.job_kinds import job_kinds_register
        from naphs.services import writable_when_endorsed_register
        from stakeholders import services
        from stakeholders.job_kinds import StakeholdersJob

        job_kinds_register(
            StakeholdersJob,
            {
                StakeholdersJob.DIRECTORY_EXPORT: services.plan_directory_export,
                StakeholdersJob.AUDIT_EXPORT: services.plan_audit_export,
            },
        )
        # An endorsed plan keeps its team: members, invitations and the country's organizations change as people do.
        writable_when_endorsed_register(
            "stakeholders.planmembership", "stakeholders.invitation", "stakeholders.organization"
        )
        # Engagement goes on once the plan is endorsed: advocacy for its funding, and its launch, come after.
        writable_when_endorsed_register(
            "stakeholders.stakeholder",
            "stakeholders.person",
            "stakeholders.engagementevent",
            "stakeholders.participant",
            "stakeholders.eventdecision",
            "stakeholders.eventdocument",
            "stakeholders.advocacy",
            "stakeholders.launch",
        )
