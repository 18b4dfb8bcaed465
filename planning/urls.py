from django.urls import path

from planning import views

urlpatterns = [
    path("", views.home, name="home"),
    path("plans/new/", views.plan_new, name="plan_new"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:plan_id>/settings/", views.plan_settings, name="plan_settings"),
]
