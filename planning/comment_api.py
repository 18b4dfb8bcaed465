"""API endpoints of comments: a plan's threads (filtered), starting one, replying, resolving and reopening."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from naphs.api import Serializer, VersionField, related_queryset
from naphs.permissions import Permission
from planning.comments import comment_check, comment_reply, thread_start, thread_state_set, thread_subject_resolve
from planning.models import Activity, Comment, CommentThread, TechnicalArea
from planning.selectors import technical_areas_of, thread_get, thread_list_for_plan
from stakeholders.access import PlanScopedMixin
from stakeholders.models import User


class CommentSerializer(serializers.ModelSerializer):
    """A comment: its text as written and as shown (sanitised HTML), and the members it mentions (user ids)."""

    mentions = serializers.PrimaryKeyRelatedField[User](many=True, read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "author", "body", "html", "mentions", "created_at"]
        read_only_fields = fields


class ThreadSerializer(serializers.ModelSerializer):
    """A thread and its comments. `target` is the id of the technical area, activity or cost line it is about
    (none for the plan and the priorities); `review_round` the round it was raised in, if any."""

    target = serializers.SerializerMethodField()
    review_round = serializers.IntegerField(source="review_round_id", read_only=True, allow_null=True)
    comments = CommentSerializer(many=True, read_only=True)

    class Meta:
        model = CommentThread
        fields = [
            "id",
            "subject",
            "target",
            "technical_area",
            "activity",
            "review_round",
            "state",
            "author",
            "resolved_by",
            "resolved_at",
            "created_at",
            "version",
            "comments",
        ]
        read_only_fields = fields

    def get_target(self, thread: CommentThread) -> int | None:
        if thread.subject == CommentThread.Subject.COST_LINE:
            return thread.target_id
        if thread.subject == CommentThread.Subject.ACTIVITY:
            return thread.activity_id
        return thread.technical_area_id


class CommentBodyField(serializers.CharField):
    """A comment's text, checked as the pages check it (empty, too long, HTML, links)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault(
            "help_text",
            _(
                "Plain text, at most 10,000 characters: a blank line starts a paragraph; **bold**, *italic*, "
                "[text](https://...) links and @username mentions of the plan's members (each e-mailed)."
            ),
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> str:
        return comment_check(super().to_internal_value(data))


class ThreadCreateSerializer(Serializer):
    subject = serializers.ChoiceField(choices=CommentThread.Subject.choices)
    target = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**63 - 1,
        help_text=_(
            "The id of the technical area (area; optional for context), activity or cost line the comment is "
            "about; none for the plan and the priorities. An object of another plan is not found (404)."
        ),
    )
    body = CommentBodyField()


class ReplySerializer(Serializer):
    body = CommentBodyField()


class ThreadStateSerializer(Serializer):
    version = VersionField()


class ThreadFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=CommentThread.State.choices, required=False)
    subject = serializers.ChoiceField(choices=CommentThread.Subject.choices, required=False)
    technical_area = serializers.PrimaryKeyRelatedField(queryset=TechnicalArea.objects.none(), required=False)
    author = serializers.PrimaryKeyRelatedField(queryset=User.objects.none(), required=False)
    activity = serializers.PrimaryKeyRelatedField(queryset=Activity.objects.none(), required=False)
    round = serializers.IntegerField(required=False, source="review_round_id")  # none such: no threads


THREAD_FILTERS = [
    OpenApiParameter("state", str, enum=CommentThread.State.values),
    OpenApiParameter("subject", str, enum=CommentThread.Subject.values),
    OpenApiParameter("technical_area", int, description="Threads on this area, its context and its activities."),
    OpenApiParameter("author", int, description="Threads started by this user."),
    OpenApiParameter("activity", int, description="Threads on this activity and its cost lines."),
    OpenApiParameter("round", int, description="Threads raised in this review round."),
]


@extend_schema_view(list=extend_schema(parameters=THREAD_FILTERS))
class ThreadViewSet(
    PlanScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Comment threads of one plan. Every member reads them; every member but viewers starts threads and replies;
    the secretariat, or the person who started a thread, resolves and reopens it."""

    serializer_class = ThreadSerializer
    lookup_url_kwarg = "thread_id"
    lookup_value_regex = r"\d+"
    write_need = Permission.COMMENT

    def get_queryset(self) -> QuerySet[CommentThread]:
        if getattr(self, "swagger_fake_view", False):
            return CommentThread.objects.none()
        return thread_list_for_plan(plan=self.plan)

    def get_object(self) -> CommentThread:
        return thread_get(plan=self.plan, thread_id=self.kwargs["thread_id"])

    def list(self, request: Request, *args, **kwargs) -> Response:
        filters = ThreadFilterSerializer(data=request.query_params)
        related_queryset(filters.fields, "technical_area", technical_areas_of(self.plan))
        related_queryset(filters.fields, "author", User.objects.filter(plan_memberships__plan=self.plan))
        related_queryset(filters.fields, "activity", Activity.objects.filter(plan=self.plan))
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(thread_list_for_plan(plan=self.plan, **filters.validated_data))
        return self.get_paginated_response(ThreadSerializer(page, many=True).data)

    @extend_schema(summary="Start a thread with its first comment", request=ThreadCreateSerializer)
    def create(self, request: Request, *args, **kwargs) -> Response:
        body = ThreadCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        about = thread_subject_resolve(plan=self.plan, subject=data["subject"], target=data.get("target"))
        thread = thread_start(plan=self.plan, membership=self.membership, about=about, text=data["body"])
        return Response(ThreadSerializer(self.get_thread(thread.pk)).data, status=status.HTTP_201_CREATED)

    def get_thread(self, thread_id: int) -> CommentThread:
        return thread_get(plan=self.plan, thread_id=thread_id)

    @extend_schema(summary="Reply to a thread", request=ReplySerializer, responses={201: ThreadSerializer})
    @action(detail=True, methods=["post"])
    def comments(self, request: Request, *args, **kwargs) -> Response:
        thread = self.get_object()
        body = ReplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        comment_reply(thread=thread, membership=self.membership, text=body.validated_data["body"])
        return Response(ThreadSerializer(self.get_thread(thread.pk)).data, status=status.HTTP_201_CREATED)

    def _state(self, request: Request, state: str) -> Response:
        thread = self.get_object()
        body = ThreadStateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        thread_state_set(thread=thread, membership=self.membership, state=state, version=body.validated_data["version"])
        return Response(ThreadSerializer(self.get_thread(thread.pk)).data)

    @extend_schema(summary="Resolve a thread", request=ThreadStateSerializer, responses={200: ThreadSerializer})
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, *args, **kwargs) -> Response:
        return self._state(request, CommentThread.State.RESOLVED)

    @extend_schema(summary="Reopen a resolved thread", request=ThreadStateSerializer, responses={200: ThreadSerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, *args, **kwargs) -> Response:
        return self._state(request, CommentThread.State.OPEN)
