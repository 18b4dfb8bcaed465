from django.apps import AppConfig


class StakeholdersConfig(AppConfig):
    name = "stakeholders"
    verbose_name = "Stakeholders"

    def ready(self) -> None:
        from naphs.job_kinds import job_kinds_register
        from stakeholders import services
        from stakeholders.job_kinds import StakeholdersJob

        job_kinds_register(StakeholdersJob, {StakeholdersJob.DIRECTORY_EXPORT: services.plan_directory_export})
