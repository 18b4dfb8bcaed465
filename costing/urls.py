from costing import event_cost
from costing.views import (
    dashboard,
    document,
    engagement,
    funding,
    lines,
    open_data,
    plan_workbook,
    settings,
    versions,
    who,
    workbook,
)

urlpatterns = [
    *settings.urlpatterns,
    *lines.urlpatterns,
    *workbook.urlpatterns,
    *who.urlpatterns,
    *funding.urlpatterns,
    *dashboard.urlpatterns,
    *plan_workbook.urlpatterns,
    *open_data.urlpatterns,
    *document.urlpatterns,
    *versions.urlpatterns,
    *engagement.urlpatterns,
    *event_cost.urlpatterns,
]
