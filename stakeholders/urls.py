from django.urls import path

from stakeholders import advocacy_views, event_views, launch_views, mapping_views, views

urlpatterns = [
    path("plans/<int:plan_id>/members/", views.members, name="members"),
    path("plans/<int:plan_id>/members/<int:membership_id>/", views.member_update, name="member_update"),
    path("plans/<int:plan_id>/members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path(
        "plans/<int:plan_id>/members/invitations/<int:invitation_id>/resend/",
        views.invitation_send_again,
        name="invitation_resend",
    ),
    path(
        "plans/<int:plan_id>/members/invitations/<int:invitation_id>/revoke/",
        views.invitation_withdraw,
        name="invitation_revoke",
    ),
    path("invitations/<int:invitation_id>/answer/", views.invitation_answer, name="invitation_answer"),
    path("invitations/<slug:key>/", views.invitation, name="invitation"),
    path("plans/<int:plan_id>/directory/", views.directory, name="directory"),
    path("plans/<int:plan_id>/directory/export/", views.directory_export, name="directory_export"),
    path("plans/<int:plan_id>/audit/", views.audit_trail, name="audit_trail"),
    path("plans/<int:plan_id>/audit/export/", views.audit_trail_export, name="audit_trail_export"),
    path("plans/<int:plan_id>/organizations/new/", views.organization_new, name="organization_new"),
    path(
        "plans/<int:plan_id>/organizations/<int:organization_id>/edit/",
        views.organization_edit,
        name="organization_edit",
    ),
    *mapping_views.urlpatterns,
    *event_views.urlpatterns,
    *advocacy_views.urlpatterns,
    *launch_views.urlpatterns,
]
