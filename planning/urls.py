from django.urls import path

from planning import comment_views, endorsement_views, guidance_views, review_views, views

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
    path(
        "plans/<int:plan_id>/assessments/<int:assessment_id>/import-spar/<int:upload_id>/",
        views.assessment_import_spar_pick,
        name="assessment_import_spar_pick",
    ),
    # Context and priorities
    path("plans/<int:plan_id>/context/", views.plan_context, name="plan_context"),
    path("plans/<int:plan_id>/priorities/", views.plan_priorities, name="plan_priorities"),
    path("plans/<int:plan_id>/groups/", views.functional_groups, name="functional_groups"),
    path("plans/<int:plan_id>/groups/<int:group_id>/", views.functional_group_edit, name="functional_group_edit"),
    path(
        "plans/<int:plan_id>/groups/<int:group_id>/delete/",
        views.functional_group_delete,
        name="functional_group_delete",
    ),
    path(
        "plans/<int:plan_id>/activities/<int:activity_id>/dependencies/",
        views.activity_dependencies,
        name="activity_dependencies",
    ),
    path(
        "plans/<int:plan_id>/activities/<int:activity_id>/dependencies/<int:dependency_id>/remove/",
        views.activity_dependency_remove,
        name="activity_dependency_remove",
    ),
    # Targets and draft generation
    path("plans/<int:plan_id>/targets/", views.targets, name="targets"),
    path("plans/<int:plan_id>/targets/fill/", views.targets_fill, name="targets_fill"),
    path("plans/<int:plan_id>/generate/", views.generate, name="generate"),
    # Activities
    path("plans/<int:plan_id>/activities/", views.activities, name="activities"),
    path("plans/<int:plan_id>/activities/new/", views.activity_new, name="activity_new"),
    path("plans/<int:plan_id>/activities/<int:activity_id>/", views.activity_detail, name="activity_detail"),
    path(
        "plans/<int:plan_id>/activities/<int:activity_id>/delete/",
        views.activity_delete,
        name="activity_delete",
    ),
    # Guidance
    path("plans/<int:plan_id>/guidance/", guidance_views.plan_guidance, name="plan_guidance"),
    path(
        "plans/<int:plan_id>/guidance/<int:guidance_id>/",
        guidance_views.plan_guidance_edit,
        name="plan_guidance_edit",
    ),
    path(
        "plans/<int:plan_id>/guidance/<int:guidance_id>/delete/",
        guidance_views.plan_guidance_delete,
        name="plan_guidance_delete",
    ),
    path("plans/<int:plan_id>/operational/new/", views.operational_new, name="operational_new"),
    # Comments
    path("plans/<int:plan_id>/comments/", comment_views.comments, name="comments"),
    path("plans/<int:plan_id>/comments/<int:thread_id>/", comment_views.comment_thread, name="comment_thread"),
    path(
        "plans/<int:plan_id>/comments/<int:thread_id>/resolve/",
        comment_views.comment_thread_resolve,
        name="comment_thread_resolve",
    ),
    path(
        "plans/<int:plan_id>/comments/<int:thread_id>/reopen/",
        comment_views.comment_thread_reopen,
        name="comment_thread_reopen",
    ),
    # Endorsement
    path("plans/<int:plan_id>/endorsement/", endorsement_views.plan_endorsement, name="plan_endorsement"),
    path("plans/<int:plan_id>/endorsement/reopen/", endorsement_views.plan_reopen_view, name="plan_reopen"),
    path(
        "plans/<int:plan_id>/endorsement/<int:endorsement_id>/document/",
        endorsement_views.endorsement_document,
        name="endorsement_document",
    ),
    path(
        "plans/<int:plan_id>/activities/<int:activity_id>/comments/",
        comment_views.activity_comments,
        name="activity_comments",
    ),
    # Review rounds
    path("plans/<int:plan_id>/reviews/", review_views.review_rounds, name="review_rounds"),
    path("plans/<int:plan_id>/reviews/<int:round_id>/", review_views.review_round, name="review_round"),
    path(
        "plans/<int:plan_id>/reviews/<int:round_id>/verdict/",
        review_views.review_verdict,
        name="review_verdict",
    ),
    path(
        "plans/<int:plan_id>/reviews/<int:round_id>/close/",
        review_views.review_round_close_view,
        name="review_round_close",
    ),
]
