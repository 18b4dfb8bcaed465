from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self) -> None:
        from monitoring import (
            aggregates,
            capacity,
            dashboard,
            hooks,
            indicator_jobs,
            launch,
            reviews,
            timeliness_hooks,
            workbook,
        )
        from monitoring.job_kinds import MonitoringJob
        from naphs.job_kinds import job_kinds_register
        from naphs.services import writable_when_endorsed_register

        job_kinds_register(
            MonitoringJob,
            {
                MonitoringJob.CAPACITY_PROGRESS_EXPORT: capacity.capacity_progress_export,
                MonitoringJob.PROGRESS_WORKBOOK: workbook.progress_workbook_export,
                MonitoringJob.PROGRESS_UPLOAD: workbook.progress_upload_apply,
                MonitoringJob.INDICATOR_ACTUALS_IMPORT: indicator_jobs.indicator_actuals_import_job,
                MonitoringJob.MONITORING_DASHBOARD_EXPORT: dashboard.monitoring_dashboard_export,
            },
        )
        hooks.connect()
        timeliness_hooks.connect()
        aggregates.connect()
        dashboard.connect()
        reviews.connect()  # decisions taken while the plan was endorsed apply when it is reopened
        launch.connect()  # launching a plan opens its first reporting period

        # Implementation is monitored on the endorsed plan: none of this is a change to the plan's content.
        writable_when_endorsed_register(
            "monitoring.reportingperiod",
            "monitoring.progressupdate",
            "monitoring.progressevidence",
            "monitoring.review",
            "monitoring.reviewdecision",
            "monitoring.meindicator",
            "monitoring.meindicatortarget",
            "monitoring.meindicatoractual",
            "monitoring.healthevent",
            "monitoring.bottleneck",
            "monitoring.progressupload",
            "monitoring.progressreminder",
            "monitoring.monitoringstate",
            "monitoring.activityprogressrollup",
            "monitoring.periodprogressrollup",
        )
