"""Monitoring API: quarterly and annual reviews (`/api/plans/{id}/progress-reviews/`), their decisions on single
activities (`.../{review_id}/decisions/`), and an annual review's carrying over into the next operational plan
(`.../{review_id}/carry-over/`).

Every member reads; the secretariat records, also while the plan is endorsed. A change carries the `version` last
read and is refused with 409 when stale. A review's `period` is set when it is recorded; its `snapshot` is the
progress of every activity then, as it was.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring.models import Review, ReviewDecision
from monitoring.reviews import (
    CarryOver,
    carry_over_targets,
    decision_delete,
    decision_get,
    decision_list_for_review,
    decision_save,
    review_carry_over,
    review_create,
    review_get,
    review_list_for_plan,
    review_members,
    review_periods,
    review_update,
    snapshot_counts,
)
from naphs.api import (
    DELETE_VERSION,
    ModelSerializer,
    Serializer,
    VersionField,
    delete_version,
    related_queryset,
    require_version,
)
from naphs.permissions import Permission
from planning.models import Activity, Plan
from stakeholders.access import PlanScopedMixin
from stakeholders.models import User


class SnapshotEntrySerializer(serializers.Serializer):
    """One activity as the review found it."""

    activity = serializers.IntegerField(help_text=_("The activity's id."))
    area = serializers.CharField(help_text=_("Its technical area's code."))
    title = serializers.CharField()
    organization = serializers.CharField(help_text=_("The responsible organization's name; empty when none."))
    activity_status = serializers.CharField(help_text=_("Its status in the plan then."))
    status = serializers.CharField(
        help_text=_("The progress status of its latest report up to and including the review's period; empty: none.")
    )
    percent = serializers.IntegerField(allow_null=True)
    spent_base = serializers.CharField(
        allow_null=True, help_text=_("Spent until then, in the plan's base currency, as a decimal string.")
    )
    period = serializers.IntegerField(allow_null=True, help_text=_("The period of that report."))
    period_label = serializers.CharField()


class StatusCountSerializer(serializers.Serializer):
    status = serializers.CharField(help_text=_("A progress status; empty for the activities never reported on."))
    count = serializers.IntegerField()


class ReviewDecisionSerializer(ModelSerializer):
    """The review's decision on one activity of the plan. `new_start_date` and `new_end_date` go with
    `rescheduled` (both, inside the plan's years, the end not before the start) and are cleared otherwise. New dates
    and a drop reach the activity at once on a draft plan (`applied_at`); on an endorsed plan `pending` stays true
    until it is reopened."""

    activity = serializers.PrimaryKeyRelatedField(queryset=Activity.objects.none())
    pending = serializers.SerializerMethodField(
        help_text=_("Whether the new dates or the drop wait for the plan to be reopened.")
    )
    version = VersionField(required=False)

    class Meta:
        model = ReviewDecision
        fields = [
            "id",
            "review",
            "activity",
            "decision",
            "new_start_date",
            "new_end_date",
            "note",
            "carried_into",
            "applied_at",
            "pending",
            "version",
        ]
        read_only_fields = ["review", "carried_into", "applied_at"]
        create_only_fields = ["activity"]
        validators: list[Any] = []  # the service checks the whole decision

    def get_fields(self):
        fields = super().get_fields()
        view = self.context.get("view")
        plan = getattr(view, "plan", None)
        if plan is not None:
            related_queryset(fields, "activity", Activity.objects.filter(plan=plan))
            fields["activity"].error_messages["does_not_exist"] = gettext(
                "Activity {pk_value} is not an activity of this plan."
            )
        return fields

    @extend_schema_field(serializers.BooleanField())
    def get_pending(self, decision: ReviewDecision) -> bool:
        return decision.decision != ReviewDecision.Decision.CARRIED_OVER and decision.applied_at is None


class ProgressReviewSerializer(ModelSerializer):
    """A quarterly or annual review of one of the plan's reporting periods. `participant_members` are user ids of
    the plan's members who took part; `participants` names the others. `snapshot` and `counts` are the progress of
    every activity when the review was recorded."""

    participant_members = serializers.PrimaryKeyRelatedField(
        many=True, queryset=User.objects.none(), required=False, help_text=_("User ids of members of the plan.")
    )
    snapshot = SnapshotEntrySerializer(many=True, read_only=True)
    counts = serializers.SerializerMethodField(help_text=_("How many activities had each status at the review."))
    activity_decisions = ReviewDecisionSerializer(many=True, read_only=True)
    version = VersionField(required=False)
    # A lazy string, translated when the refusal is raised.
    create_only_hints = {"period": _("A review's period is set when it is recorded; another is another review.")}  # type: ignore[dict-item]

    class Meta:
        model = Review
        fields = [
            "id",
            "plan",
            "kind",
            "period",
            "held_on",
            "participant_members",
            "participants",
            "decisions",
            "counts",
            "snapshot",
            "activity_decisions",
            "recorded_by",
            "recorded_at",
            "version",
        ]
        read_only_fields = ["plan", "recorded_by", "recorded_at"]
        create_only_fields = ["period"]
        validators: list[Any] = []  # the service checks the whole review

    def get_fields(self):
        fields = super().get_fields()
        plan = getattr(self.context.get("view"), "plan", None)
        if plan is not None:
            if not fields["period"].read_only:
                related_queryset(fields, "period", review_periods(plan=plan))
                fields["period"].error_messages["does_not_exist"] = gettext(
                    "Reporting period {pk_value} is not a period of this plan."
                )
            related_queryset(fields, "participant_members", review_members(plan=plan))
            members = fields["participant_members"]
            if isinstance(members, serializers.ManyRelatedField):
                members.child_relation.error_messages["does_not_exist"] = gettext(
                    "User {pk_value} is not a member of this plan."
                )
        return fields

    @extend_schema_field(StatusCountSerializer(many=True))
    def get_counts(self, review: Review) -> list[dict[str, Any]]:
        return [{"status": status, "count": count} for status, _label, count in snapshot_counts(review.snapshot)]


class CarryOverSerializer(Serializer):
    plan = serializers.PrimaryKeyRelatedField(
        queryset=Plan.objects.none(),
        help_text=_(
            "The id of a draft operational plan under the same strategic plan, not ending before the review's "
            "period, whose secretariat you are in."
        ),
    )
    activities = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Activity.objects.none(),
        required=False,
        help_text=_(
            "Ids of the plan's activities to carry over; left out, those unfinished at the review but those it dropped."
        ),
    )


class CarriedSerializer(serializers.Serializer):
    activity = serializers.IntegerField(help_text=_("The review's activity."))
    copy = serializers.IntegerField(help_text=_("Its activity in the operational plan."))


class CarryOverResultSerializer(serializers.Serializer):
    plan = serializers.IntegerField(help_text=_("The operational plan carried into."))
    carried = CarriedSerializer(many=True, help_text=_("Drawn into it now."))
    already = CarriedSerializer(many=True, help_text=_("Already in it: not drawn again."))
    undated = serializers.ListField(
        child=serializers.IntegerField(),
        help_text=_("Drawn without dates: their dates lay outside the operational plan."),
    )
    without_origin = serializers.ListField(
        child=serializers.IntegerField(),
        help_text=_("Not drawn: activities of an operational plan with no activity of the strategic plan behind them."),
    )


def _carried(result: CarryOver) -> dict[str, Any]:
    return {
        "plan": result.target.pk,
        "carried": [{"activity": activity.pk, "copy": copy.pk} for activity, copy in result.carried],
        "already": [{"activity": activity.pk, "copy": copy.pk} for activity, copy in result.already],
        "undated": [activity.pk for activity in result.undated],
        "without_origin": [activity.pk for activity in result.without_origin],
    }


REVIEW_FIELDS = ("kind", "held_on", "participants", "decisions")


class ProgressReviewViewSet(PlanScopedMixin, viewsets.ModelViewSet):
    """Quarterly and annual reviews of one plan: every member reads them; the secretariat records and changes them
    (also while the plan is endorsed)."""

    serializer_class = ProgressReviewSerializer
    lookup_url_kwarg = "review_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    write_need = Permission.MANAGE

    def get_queryset(self) -> QuerySet[Review]:
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        return review_list_for_plan(plan=self.plan).prefetch_related("participant_members", "activity_decisions")

    def get_object(self) -> Review:
        review = self.get_queryset().filter(pk=self.kwargs["review_id"]).first()
        if review is None:
            raise Http404(gettext("No such review in this plan."))
        review.plan = self.plan
        return review

    def perform_create(self, serializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("version", None)
        review = review_create(
            plan=self.plan,
            by=self.request.user,
            period=data["period"],
            participant_members=data.get("participant_members", []),
            **{name: data[name] for name in REVIEW_FIELDS if name in data},
        )
        serializer.instance = self.get_queryset().get(pk=review.pk)

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        data = dict(serializer.validated_data)
        # PUT names every participant (none given: none); PATCH keeps them unless sent.
        members = data.pop("participant_members", None if serializer.partial else [])
        review = review_update(
            review=serializer.instance,
            by=self.request.user,
            version=version,
            participant_members=members,
            **{name: data[name] for name in REVIEW_FIELDS if name in data},
        )
        serializer.instance = self.get_queryset().get(pk=review.pk)

    @extend_schema(
        summary="Carry an annual review's unfinished activities into the next operational plan",
        request=CarryOverSerializer,
        responses={200: CarryOverResultSerializer},
    )
    @action(detail=True, methods=["post"], url_path="carry-over")
    def carry_over(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        review = self.get_object()
        body = CarryOverSerializer(data=request.data)
        related_queryset(body.fields, "plan", carry_over_targets(review=review, user=self.request.user))
        related_queryset(body.fields, "activities", Activity.objects.filter(plan=self.plan))
        body.fields["plan"].error_messages["does_not_exist"] = gettext(
            "Plan {pk_value} is not a draft operational plan under the same strategic plan that you manage."
        )
        activities = body.fields["activities"]
        if isinstance(activities, serializers.ManyRelatedField):
            activities.child_relation.error_messages["does_not_exist"] = gettext(
                "Activity {pk_value} is not an activity of this plan."
            )
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = review_carry_over(
            review=review, by=self.request.user, target=data["plan"], activities=data.get("activities")
        )
        return Response(CarryOverResultSerializer(_carried(result)).data, status=status.HTTP_200_OK)


@extend_schema_view(destroy=extend_schema(parameters=[DELETE_VERSION]))
class ReviewDecisionViewSet(PlanScopedMixin, viewsets.ModelViewSet):
    """A review's decisions on single activities: every member reads them; the secretariat records, changes and
    removes them. Removing one leaves what it applied to the activity as it is."""

    serializer_class = ReviewDecisionSerializer
    lookup_url_kwarg = "decision_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    write_need = Permission.MANAGE
    review: Review

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not getattr(self, "swagger_fake_view", False):
            self.review = review_get(plan=self.plan, review_id=kwargs["review_id"])

    def get_queryset(self) -> QuerySet[ReviewDecision]:
        if getattr(self, "swagger_fake_view", False):
            return ReviewDecision.objects.none()
        return decision_list_for_review(review=self.review)

    def get_object(self) -> ReviewDecision:
        return decision_get(review=self.review, decision_id=self.kwargs["decision_id"])

    def perform_create(self, serializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("version", None)
        activity = data["activity"]
        existing = ReviewDecision.objects.filter(review=self.review, activity=activity).first()
        if existing is not None:
            raise serializers.ValidationError(
                {
                    "activity": [
                        gettext("This review already has a decision on this activity (%(id)d): change that one.")
                        % {"id": existing.pk}
                    ]
                }
            )
        activity.plan = self.plan
        decision, _applied = decision_save(
            review=self.review,
            activity=activity,
            by=self.request.user,
            version=0,
            **_decision_fields(data),
        )
        serializer.instance = self.get_queryset().get(pk=decision.pk)

    def perform_update(self, serializer) -> None:
        version = require_version(serializer)
        instance: ReviewDecision = serializer.instance
        data = dict(serializer.validated_data)
        values: dict[str, Any] = {
            "decision": instance.decision,
            "new_start_date": instance.new_start_date,
            "new_end_date": instance.new_end_date,
            "note": instance.note,
        }
        if not serializer.partial:
            values.update(new_start_date=None, new_end_date=None, note="")
        values.update(_decision_fields(data))
        activity = instance.activity
        activity.plan = self.plan
        decision, _applied = decision_save(
            review=self.review, activity=activity, by=self.request.user, version=version, **values
        )
        serializer.instance = self.get_queryset().get(pk=decision.pk)

    def perform_destroy(self, instance: ReviewDecision) -> None:
        instance.review = self.review
        decision_delete(decision=instance, by=self.request.user, version=delete_version(self.request))


def _decision_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in ("decision", "new_start_date", "new_end_date", "note") if name in data}


routes = [
    (r"plans/(?P<plan_id>\d+)/progress-reviews", ProgressReviewViewSet, "progress-review"),
    (
        r"plans/(?P<plan_id>\d+)/progress-reviews/(?P<review_id>\d+)/decisions",
        ReviewDecisionViewSet,
        "progress-review-decision",
    ),
]
urlpatterns: list = []
