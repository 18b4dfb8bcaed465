from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CostingConfig(AppConfig):
    name = "costing"
    verbose_name = _("Costing and resource mapping")

    def ready(self) -> None:
        from costing import dashboard, document, hooks, launch, open_data, operational, plan_workbook, who, workbook
        from costing.job_kinds import CostingJob
        from naphs.job_kinds import job_kinds_register

        job_kinds_register(
            CostingJob,
            {
                CostingJob.COSTING_WORKBOOK: workbook.costing_workbook_export,
                CostingJob.COSTING_UPLOAD: workbook.costing_upload_apply,
                CostingJob.WHO_COSTING_EXPORT: who.who_costing_export,
                CostingJob.WHO_COSTING_IMPORT: who.who_costing_import,
                CostingJob.COSTING_DASHBOARD_EXPORT: dashboard.costing_dashboard_export,
                CostingJob.PLAN_WORKBOOK: plan_workbook.plan_workbook_export,
                CostingJob.PLAN_DOCUMENT: document.plan_document_build,
                CostingJob.PLAN_OPEN_DATA: open_data.plan_open_data_export,
            },
        )
        hooks.connect()
        operational.connect()
        launch.connect()  # costing's items of the launch checklist
        from costing import engagement

        engagement.connect()
