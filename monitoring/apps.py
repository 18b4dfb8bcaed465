from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self) -> None:
        from monitoring import aggregates, dashboard
        from monitoring.job_kinds import MonitoringJob
        from naphs.job_kinds import job_kinds_register
        from naphs.services import writable_when_endorsed_register

        job_kinds_register(
            MonitoringJob, {MonitoringJob.MONITORING_DASHBOARD_EXPORT: dashboard.monitoring_dashboard_export}
        )
        aggregates.connect()
        dashboard.connect()

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
        )
