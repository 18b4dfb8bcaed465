"""Failed sign-ins, counted per account and per client address (django-axes), and what a paused sign-in answers.

Every way in (the login page, the admin's login, POST /api/auth/token/) goes through django.contrib.auth's
authenticate(), where axes' backend comes first: once an account has had LOGIN_FAILURES_PER_ACCOUNT failures, or
an address LOGIN_FAILURES_PER_ADDRESS, within LOGIN_COOLOFF_MINUTES, even the right password is refused until the
cool-off has passed. The account is what the person typed resolved as the backend resolves it, so a user name and
the e-mail of the same account count together; a name that matches no account counts as typed, so a lockout says
nothing about whether an account exists.
"""

from __future__ import annotations

import math
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework import status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import APIException
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.settings import api_settings

from naphs.api import StrictFieldsMixin
from stakeholders.backends import account_for_name


def signin_account_key(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """What failures are counted under (AXES_USERNAME_CALLABLE): the account's user name, whichever of its names
    was typed; else the typed name in lower case."""
    name = (credentials or {}).get("username")
    if name is None and request is not None:
        name = getattr(request, "data", request.POST).get("username")
    if not isinstance(name, str) or not name.strip():
        return None
    name = name.strip()
    keys = request.__dict__.setdefault("_signin_keys", {}) if request is not None else {}
    if name not in keys:
        account = account_for_name(name)
        keys[name] = account.get_username() if account is not None else name.lower()[:255]
    return keys[name]


class SignInAttempts(AxesDatabaseHandler):
    """axes' database handler with two limits instead of one: failures per account and failures per address.

    axes itself locks when the larger count reaches AXES_FAILURE_LIMIT (the larger of the two limits, which
    never locks anyone these rules would not); this handler adds the smaller limit of each parameter.
    """

    def lockout_remaining(self, request, credentials: dict | None = None) -> timedelta | None:
        """How much longer signing in stays paused for this account or address; None when it is not paused."""
        AxesProxyHandler.update_request(request)
        now = request.axes_attempt_time
        cool_off = get_cool_off(request)
        recent = AccessAttempt.objects.filter(attempt_time__gte=now - cool_off)
        checks = [(recent.filter(ip_address=request.axes_ip_address), settings.LOGIN_FAILURES_PER_ADDRESS)]
        username = get_client_username(request, credentials)
        if username:
            checks.append((recent.filter(username=username), settings.LOGIN_FAILURES_PER_ACCOUNT))
        ends = None
        for attempts, limit in checks:
            # A row holds a client's failures and the time of its last one; the pause ends when enough rows
            # have aged out of the cool-off that fewer than `limit` failures remain.
            total = 0
            rows = attempts.order_by("-attempt_time").values_list("failures_since_start", "attempt_time")[:limit]
            for failures, when in rows:
                total += failures
                if total >= limit:
                    end = when + cool_off
                    ends = end if ends is None else max(ends, end)
                    break
        return ends - now if ends is not None and ends > now else None

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        lock_out = getattr(settings, "AXES_LOCK_OUT_AT_FAILURE", True)  # django-axes' setting, its default
        return lock_out and self.lockout_remaining(request, credentials) is not None

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or request.axes_locked_out or self.is_whitelisted(request, credentials):
            return
        if self.is_locked(request, credentials):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            username = get_client_username(request, credentials)
            user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """A successful sign-in clears the failures on that account only. Clearing the address's too, as axes
        would, would let someone sign in to their own account between guesses at others to start again."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def signin_wait(request, username: str | None = None) -> timedelta | None:
    """How long signing in stays paused for this request's address, or for the account it names."""
    credentials = {"username": username} if username is not None else None
    return AxesProxyHandler.get_implementation().lockout_remaining(request, credentials)


def signin_paused_message(wait: timedelta | None) -> str:
    minutes = max(1, math.ceil((wait or get_cool_off()).total_seconds() / 60))
    return ngettext(
        "Too many failed attempts to sign in to this account or from this address, so signing in is paused: "
        "wait %(minutes)d minute, then try again.",
        "Too many failed attempts to sign in to this account or from this address, so signing in is paused: "
        "wait %(minutes)d minutes, then try again.",
        minutes,
    ) % {"minutes": minutes}


def retry_after(wait: timedelta | None) -> int:
    return max(1, math.ceil((wait or get_cool_off()).total_seconds()))


class PausedSignInMessageMixin(AuthenticationForm):
    """For an AuthenticationForm: while sign-in is paused, say so and how long to wait, instead of "wrong
    password" (the password may well be right)."""

    def get_invalid_login_error(self) -> ValidationError:
        if getattr(self.request, "axes_locked_out", False):
            wait = signin_wait(self.request, self.cleaned_data.get("username"))
            return ValidationError(signin_paused_message(wait), code="signin_paused")
        return super().get_invalid_login_error()


def signin_paused_response(request, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page as it was rendered (with the form saying why), answered with 429 and
    a Retry-After; anything else that authenticated gets the message alone."""
    wait = signin_wait(request, (credentials or {}).get("username"))
    response = original_response
    if response is None or response.status_code != status.HTTP_200_OK:
        response = HttpResponse(signin_paused_message(wait), content_type="text/plain; charset=utf-8")
    response.status_code = status.HTTP_429_TOO_MANY_REQUESTS
    response["Retry-After"] = str(retry_after(wait))
    return response


class SignInPaused(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "signin_paused"
    default_detail = _("Too many failed attempts to sign in. Wait, then try again.")

    def __init__(self, wait: timedelta | None) -> None:
        super().__init__(signin_paused_message(wait))
        self.wait = retry_after(wait)  # DRF's exception handler sends it as Retry-After


class TokenRequestSerializer(StrictFieldsMixin, AuthTokenSerializer):
    """A user name and password, and nothing else: any other field is refused, naming it."""


class TokenObtainView(ObtainAuthToken):
    """Exchange a user name (or e-mail) and password for an API token. While sign-in is paused for the account or
    the address, even the right password gets 429 with Retry-After."""

    throttle_classes = api_settings.DEFAULT_THROTTLE_CLASSES  # type: ignore[assignment]  # classes at run time; the stubs say str
    serializer_class = TokenRequestSerializer

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except ApiValidationError:
            if getattr(request, "axes_locked_out", False):
                username = request.data.get("username") if hasattr(request.data, "get") else None
                raise SignInPaused(signin_wait(request, username)) from None
            raise
