"""All URLs: HTML pages of each app, accounts, the API under /api/, and the admin."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from naphs import languages, views
from stakeholders import jobs
from stakeholders.forms import AdminLoginForm, LoginForm, PasswordResetForm

admin.site.login_form = AdminLoginForm  # says so while sign-in is paused after failed attempts

accounts = [
    path(
        "login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", auth_views.PasswordResetView.as_view(form_class=PasswordResetForm), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"
    ),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include(accounts)),
    path("language/", languages.language_set, name="language_set"),
    path("api/", include("naphs.api_urls")),
    path("jobs/<int:job_id>/", jobs.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/download/", jobs.job_download, name="job_download"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("planning.urls")),
    path("", include("costing.urls")),
    path("", include("monitoring.urls")),
    path("", include("stakeholders.urls")),
]
