"""Middleware every app shares."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from naphs.errors import JobLimitReached


class JobLimitMiddleware:
    """A page that asks for a job when the person already has as many as allowed answers 429 with the reason:
    the fragment in place of the job's progress for htmx, a page otherwise. (The API answers through
    naphs.api.exception_handler.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, JobLimitReached):
            return None
        template = "naphs/_job_refused.html" if getattr(request, "htmx", False) else "naphs/job_refused.html"
        back = request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = ""
        return render(request, template, {"refusal": exception, "back": back}, status=429)
