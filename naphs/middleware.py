"""Middleware every app shares."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from naphs.errors import JobLimitReached, PlanFrozen


class RefusalMiddleware:
    """A page refused for the state of things, not for the person's rights, answers with the reason: 429 when
    the person already has as many jobs as allowed, 423 when the plan is endorsed and its content read-only. For
    htmx the reason alone, in place of what was asked; a page otherwise. (The API answers through
    naphs.api.exception_handler.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, JobLimitReached):
            title, code, status = _("Not queued"), "job_limit", 429
        elif isinstance(exception, PlanFrozen):
            title, code, status = _("The plan is endorsed"), "plan_endorsed", 423
        else:
            return None
        template = "naphs/_refused.html" if getattr(request, "htmx", False) else "naphs/refused.html"
        back = request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = ""
        context = {"refusal": exception, "code": code, "title": title, "back": back}
        return render(request, template, context, status=status)
