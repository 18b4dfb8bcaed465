from django.urls import path

from planning import views

urlpatterns = [
    path("", views.home, name="home"),
    path("plans/new/", views.plan_new, name="plan_new"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:plan_id>/settings/", views.plan_settings, name="plan_settings"),
    path("plans/<int:plan_id>/assessments/", views.assessments, name="assessments"),
    path(
        "plans/<int:plan_id>/assessments/<int:assessment_id>/",
        views.assessment_detail,
        name="assessment_detail",
    ),
    path(
        "plans/<int:plan_id>/assessments/<int:assessment_id>/import/",
        views.assessment_import,
        name="assessment_import",
    ),
    path(
        "plans/<int:plan_id>/assessments/<int:assessment_id>/import-spar/",
        views.assessment_import_spar,
        name="assessment_import_spar",
    ),
]
