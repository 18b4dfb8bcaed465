from costing.views import dashboard, document, funding, lines, settings, who, workbook

urlpatterns = [
    *settings.urlpatterns,
    *lines.urlpatterns,
    *workbook.urlpatterns,
    *who.urlpatterns,
    *funding.urlpatterns,
    *dashboard.urlpatterns,
    *document.urlpatterns,
]
