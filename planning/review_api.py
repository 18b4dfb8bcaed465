"""API endpoints of review rounds: a plan's rounds, opening one, a round with its invitations and verdicts,
closing it, and the caller's own verdict."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from naphs.api import Serializer, VersionField, related_queryset
from naphs.permissions import Permission
from planning.models import COMMENT_MAX_CHARS, PlanVersion, ReviewInvitation, ReviewRound
from planning.reviews import (
    review_invitation_of,
    review_round_close,
    review_round_get,
    review_round_open,
    review_rounds_for_plan,
    review_verdict_give,
)
from stakeholders.access import PlanScopedMixin
from stakeholders.models import User


class ReviewInvitationSerializer(serializers.ModelSerializer):
    """A reviewer invited to the round and their verdict (blank until given); `version` is what a change of one's
    own verdict sends back."""

    class Meta:
        model = ReviewInvitation
        fields = ["id", "reviewer", "verdict", "summary", "verdict_at", "reminded_at", "version"]
        read_only_fields = fields


class ReviewRoundSerializer(serializers.ModelSerializer):
    """A review round: what it reviews (`snapshot`, a stored version of the plan), its due date and message, its
    state and outcome, and its invitations with their verdicts."""

    invitations = ReviewInvitationSerializer(many=True, read_only=True)

    class Meta:
        model = ReviewRound
        fields = [
            "id",
            "number",
            "snapshot",
            "due_on",
            "message",
            "state",
            "outcome",
            "closing_note",
            "opened_by",
            "opened_at",
            "closed_by",
            "closed_at",
            "version",
            "invitations",
        ]
        read_only_fields = fields


class ReviewRoundOpenSerializer(Serializer):
    reviewers = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=User.objects.none(),
        allow_empty=False,
        help_text=_(
            "User ids of the plan's members who review (any member but viewers; a viewer is refused by name). "
            "Someone who is not a member is refused."
        ),
    )
    due_on = serializers.DateField(help_text=_("The day by which reviewers give their verdict: today or later."))
    message = serializers.CharField(required=False, allow_blank=True, max_length=COMMENT_MAX_CHARS, default="")
    plan_version = serializers.PrimaryKeyRelatedField(
        queryset=PlanVersion.objects.none(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            "The id of a stored version of the plan (named or endorsed) to review; leave it out to review the draft "
            "as it is now."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan_version"].error_messages["does_not_exist"] = _(
            "Version {pk_value} is not a stored version of this plan."
        )
        child = self.fields["reviewers"].child_relation  # type: ignore[attr-defined]
        child.error_messages["does_not_exist"] = _("User {pk_value} is not a member of this plan: invite members only.")
        self.fields["reviewers"].error_messages["empty"] = _("Choose at least one reviewer.")


class ReviewRoundCloseSerializer(Serializer):
    outcome = serializers.ChoiceField(
        choices=ReviewRound.Outcome.choices,
        help_text=_("draft: the plan goes back to draft; endorsement: on to endorsement (awaiting it)."),
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=COMMENT_MAX_CHARS, default="")


class ReviewVerdictSerializer(Serializer):
    verdict = serializers.ChoiceField(choices=ReviewInvitation.Verdict.choices)
    summary = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=COMMENT_MAX_CHARS,
        default="",
        help_text=_("Required with changes_requested: which changes."),
    )
    version = VersionField(help_text=_("The version of your invitation you last read (409 when it changed since)."))


class ReviewRoundViewSet(
    PlanScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Review rounds of one plan. Every member reads them; the secretariat opens and closes them; a member invited
    to a round gives (and changes, until it closes) their own verdict."""

    serializer_class = ReviewRoundSerializer
    lookup_url_kwarg = "round_id"
    lookup_value_regex = r"\d+"
    write_need = Permission.MANAGE

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # A verdict is the invited member's, whatever their role but viewer: the service says who may give it.
        self.write_need = Permission.VIEW if self.action == "verdict" else Permission.MANAGE
        super().initial(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[ReviewRound]:
        if getattr(self, "swagger_fake_view", False):
            return ReviewRound.objects.none()
        return review_rounds_for_plan(plan=self.plan).prefetch_related("invitations")

    def get_object(self) -> ReviewRound:
        return review_round_get(plan=self.plan, round_id=self.kwargs["round_id"])

    def _answer(self, round_id: int, code: int = status.HTTP_200_OK) -> Response:
        return Response(ReviewRoundSerializer(review_round_get(plan=self.plan, round_id=round_id)).data, status=code)

    @extend_schema(
        summary="Open a review round", request=ReviewRoundOpenSerializer, responses={201: ReviewRoundSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = ReviewRoundOpenSerializer(data=request.data)
        related_queryset(body.fields, "reviewers", User.objects.filter(plan_memberships__plan=self.plan))
        versions = PlanVersion.objects.filter(plan=self.plan).exclude(kind=PlanVersion.Kind.REVIEW)
        related_queryset(body.fields, "plan_version", versions)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        review_round = review_round_open(
            plan=self.plan,
            by=self.request.user,
            reviewers=data["reviewers"],
            due_on=data["due_on"],
            message=data["message"],
            plan_version=data["plan_version"],
        )
        return self._answer(review_round.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Close a review round", request=ReviewRoundCloseSerializer, responses={200: ReviewRoundSerializer}
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        review_round = self.get_object()
        body = ReviewRoundCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        review_round_close(review_round=review_round, by=self.request.user, outcome=data["outcome"], note=data["note"])
        return self._answer(review_round.pk)

    @extend_schema(
        summary="Give or change your verdict in a review round",
        request=ReviewVerdictSerializer,
        responses={200: ReviewRoundSerializer},
    )
    @action(detail=True, methods=["post"])
    def verdict(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        review_round = self.get_object()
        review_invitation_of(review_round=review_round, membership=self.membership)  # 403 first, whatever is sent
        body = ReviewVerdictSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        review_verdict_give(
            review_round=review_round,
            membership=self.membership,
            verdict=data["verdict"],
            summary=data["summary"],
            version=data["version"],
        )
        return self._answer(review_round.pk)
