"""HTML views of comments: the plan's threads (filtered), a thread, starting one on the plan or an activity,
replying, resolving and reopening. Each write answers htmx with the part of the page it changed, and anyone else
with a redirect back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from naphs.errors import EditConflict
from naphs.forms import form_errors_from, form_field, form_refused
from naphs.permissions import Permission
from naphs.views import require_form_methods
from planning.comments import (
    ThreadSubject,
    comment_reply,
    thread_may_resolve,
    thread_start,
    thread_state_set,
    thread_subject_resolve,
)
from planning.forms import ActivityCommentForm, CommentForm, ThreadFilterForm, ThreadForm, ThreadStateForm
from planning.models import Activity, CommentThread, Plan, ReviewRound
from planning.selectors import thread_get, thread_list_for_plan
from stakeholders.access import SignedInRequest, activity_get_for_user, plan_get_for_user
from stakeholders.models import PlanMembership

THREAD_PAGE_SIZE = 50


def thread_rows(*, threads: list[CommentThread], membership: PlanMembership) -> list[CommentThread]:
    """What each thread's fragment shows beside the thread: whether the person may resolve it, and where the
    object it is about lives."""
    for thread in threads:
        thread.may_resolve = thread_may_resolve(thread=thread, membership=membership)  # type: ignore[attr-defined]
    return threads


def _back(request: SignedInRequest, default: str) -> HttpResponse:
    """Back to the page the form was on (a path of this site), else to `default`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


def _thread_context(request: SignedInRequest, plan: Plan, membership: PlanMembership, **extra: Any) -> dict:
    return {
        "plan": plan,
        "membership": membership,
        "may_comment": membership.allows(Permission.COMMENT),
        "next": request.POST.get("next") or request.get_full_path(),
        **extra,
    }


def _thread_fragment(
    request: SignedInRequest, plan: Plan, membership: PlanMembership, thread: CommentThread, status: int = 200, **extra
) -> HttpResponse:
    thread = thread_get(plan=plan, thread_id=thread.pk)  # as the list loads it, with the new comment
    thread_rows(threads=[thread], membership=membership)
    context = _thread_context(request, plan, membership, thread=thread, **extra)
    return render(request, "planning/_thread.html", context, status=status)


def _start(
    request: SignedInRequest,
    plan: Plan,
    membership: PlanMembership,
    form: CommentForm,
    about: Callable[[dict[str, Any]], ThreadSubject],
) -> tuple[CommentThread | None, int]:
    """Start the thread the valid form asks for, about what `about` makes of its data: (the thread, 200), or
    (None, 422) with the refusal on the form."""
    if not form.is_valid():
        return None, 422
    try:
        subject = about(form.cleaned_data)
        thread = thread_start(plan=plan, membership=membership, about=subject, text=form.cleaned_data["body"])
    except ValidationError as error:
        form_errors_from(form, error)
        return None, 422
    return thread, 200


def _new_thread_answer(
    request: SignedInRequest,
    plan: Plan,
    membership: PlanMembership,
    form: CommentForm,
    thread: CommentThread | None,
    status: int,
    action: str,
) -> HttpResponse:
    """htmx: the form again (empty once saved, else with its errors), and the new thread put first in the list."""
    new_thread = None
    if thread is not None:
        new_thread = thread_rows(threads=[thread_get(plan=plan, thread_id=thread.pk)], membership=membership)[0]
        form = (
            ActivityCommentForm(plan=plan, activity=form.activity)
            if isinstance(form, ActivityCommentForm)
            else ThreadForm(plan=plan)
        )
    context = _thread_context(request, plan, membership, form=form, new_thread=new_thread, action=action)
    return render(request, "planning/_thread_new.html", context, status=status)


def activity_comments_context(request: SignedInRequest, *, activity: Activity, membership: PlanMembership) -> dict:
    """What the activity's page shows of its comments: its threads (those on its cost lines too) and the form to
    start one."""
    plan = activity.plan
    threads = thread_rows(threads=list(thread_list_for_plan(plan=plan, activity=activity)), membership=membership)
    form = ActivityCommentForm(plan=plan, activity=activity)
    about = request.GET.get("about", "")
    if about and form_field(form, "about", forms.ChoiceField).valid_value(about):  # "Comment" beside a cost line
        form.initial["about"] = about
    return {
        "threads": threads,
        "comment_form": form,
        "may_comment": membership.allows(Permission.COMMENT),
        "next": request.get_full_path(),
    }


@require_form_methods
def comments(request: SignedInRequest, plan_id: int) -> HttpResponse:
    """The plan's comment threads, filtered by state, subject, area, author (and round), and a form to start one
    on the plan, its context, its priorities or a technical area."""
    need = Permission.COMMENT if request.method == "POST" else Permission.VIEW
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=need)
    if request.method == "POST":
        form = ThreadForm(request.POST, plan=plan)
        thread, status = _start(
            request,
            plan,
            membership,
            form,
            lambda data: thread_subject_resolve(
                plan=plan, subject=data["subject"], technical_area=data["technical_area"]
            ),
        )
        if request.htmx:
            return _new_thread_answer(request, plan, membership, form, thread, status, request.path)
        if thread is not None:
            messages.success(request, _("Comment added."))
            return redirect("comment_thread", plan_id=plan.pk, thread_id=thread.pk)
    else:
        form, status = ThreadForm(plan=plan), 200
    rounds = [
        (review_round.pk, str(review_round))
        for review_round in ReviewRound.objects.filter(plan=plan).order_by("number")
    ]
    filter_form = ThreadFilterForm(request.GET or None, plan=plan, rounds=rounds)
    threads = thread_list_for_plan(plan=plan, **filter_form.filters())
    page = Paginator(threads, THREAD_PAGE_SIZE).get_page(request.GET.get("page"))
    thread_rows(threads=list(page.object_list), membership=membership)
    query = request.GET.copy()
    query.pop("page", None)
    context = _thread_context(
        request, plan, membership, form=form, filter_form=filter_form, page=page, query=query.urlencode()
    )
    context["action"] = request.path
    template = "planning/_thread_list.html" if request.htmx and request.method == "GET" else "planning/comments.html"
    response = render(request, template, context, status=status if request.method == "POST" else 200)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
def activity_comments(request: SignedInRequest, plan_id: int, activity_id: int) -> HttpResponse:
    """Start a thread on an activity (from its page)."""
    activity, membership = activity_get_for_user(
        user=request.user, plan_id=plan_id, activity_id=activity_id, need=Permission.COMMENT
    )
    plan = activity.plan
    form = ActivityCommentForm(request.POST, plan=plan, activity=activity)

    def about(data: dict[str, Any]) -> ThreadSubject:
        if not data.get("about"):
            return ThreadSubject(CommentThread.Subject.ACTIVITY, activity=activity)
        subject, _sep, target = data["about"].partition(":")
        return thread_subject_resolve(plan=plan, subject=subject, target=int(target))

    thread, status = _start(request, plan, membership, form, about)
    if request.htmx:
        return _new_thread_answer(request, plan, membership, form, thread, status, request.path)
    if thread is None:
        for error in [*form.errors.get("body", []), *form.non_field_errors()]:
            messages.error(request, str(error))
    else:
        messages.success(request, _("Comment added."))
    return _back(request, reverse("activity_detail", kwargs={"plan_id": plan.pk, "activity_id": activity.pk}))


@require_form_methods
def comment_thread(request: SignedInRequest, plan_id: int, thread_id: int) -> HttpResponse:
    """A thread on a page of its own (where a mention's e-mail leads); POST adds a reply."""
    need = Permission.COMMENT if request.method == "POST" else Permission.VIEW
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=need)
    thread = thread_get(plan=plan, thread_id=thread_id)
    form = CommentForm(request.POST if request.method == "POST" else None, plan=plan)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                comment_reply(thread=thread, membership=membership, text=form.cleaned_data["body"])
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                status = 200
                form = CommentForm(plan=plan)
                if not request.htmx:
                    messages.success(request, _("Reply added."))
                    return _back(request, request.path)
        if request.htmx:
            return _thread_fragment(request, plan, membership, thread, status=status, reply_form=form)
    thread_rows(threads=[thread], membership=membership)
    context = _thread_context(request, plan, membership, thread=thread, reply_form=form)
    return render(request, "planning/comment_thread.html", context, status=status)


def _state_change(request: SignedInRequest, plan_id: int, thread_id: int, state: str) -> HttpResponse:
    plan, membership = plan_get_for_user(user=request.user, plan_id=plan_id, need=Permission.COMMENT)
    thread = thread_get(plan=plan, thread_id=thread_id)
    if not thread_may_resolve(thread=thread, membership=membership):
        raise PermissionDenied(_("Only the secretariat or the person who started this thread resolves or reopens it."))
    form = ThreadStateForm(request.POST)
    status, refused = 200, ""
    if form.is_valid():
        try:
            thread = thread_state_set(
                thread=thread, membership=membership, state=state, version=form.cleaned_data["version"]
            )
        except (EditConflict, ValidationError) as refusal:
            status = form_refused(form, refusal)
    else:
        status = 422
    if status != 200:
        refused = " ".join(str(error) for errors in form.errors.values() for error in errors)
    if request.htmx:
        return _thread_fragment(request, plan, membership, thread, status=status, refused=refused)
    if refused:
        messages.error(request, refused)
    else:
        done = _("Thread resolved.") if state == CommentThread.State.RESOLVED else _("Thread reopened.")
        messages.success(request, done)
    return _back(request, reverse("comments", kwargs={"plan_id": plan.pk}))


@require_POST
def comment_thread_resolve(request: SignedInRequest, plan_id: int, thread_id: int) -> HttpResponse:
    return _state_change(request, plan_id, thread_id, CommentThread.State.RESOLVED)


@require_POST
def comment_thread_reopen(request: SignedInRequest, plan_id: int, thread_id: int) -> HttpResponse:
    return _state_change(request, plan_id, thread_id, CommentThread.State.OPEN)
