from monitoring.views import dashboard, indicators, periods, progress, reassessment, reviews, timeliness, workbook

urlpatterns = [
    *periods.urlpatterns,
    *progress.urlpatterns,
    *workbook.urlpatterns,
    *reviews.urlpatterns,
    *indicators.urlpatterns,
    *reassessment.urlpatterns,
    *timeliness.urlpatterns,
    *dashboard.urlpatterns,
]
