"""The language a person reads the product in: their own choice, kept on their account so it follows them to every
device; before they choose, the browser's (Accept-Language, through Django's LocaleMiddleware).

The chooser in the header posts to `language_set`. Signed in, the choice is saved on the account and applied on
every request by PersonLanguageMiddleware (and for API calls with a token, by naphs.api's authentication); signed
out, it lives in a cookie, which the account's choice then outranks.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework import authentication


def language_codes() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


def person_language(user: Any) -> str | None:
    """The language a person chose, if it is one the product offers; None before they choose."""
    code = getattr(user, "language", "") or ""
    return code if code in language_codes() else None


def language_activate_for(request: HttpRequest, user: Any) -> None:
    """Make the person's chosen language the request's (Django's LocaleMiddleware has chosen from the browser)."""
    if code := person_language(user):
        translation.activate(code)
        request.LANGUAGE_CODE = code


class PersonLanguageMiddleware:
    """After authentication: a signed-in person reads every page in the language they chose."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language_activate_for(request, user)
        return self.get_response(request)


@login_not_required
@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The header's chooser: keep the choice (on the account when signed in, in a cookie always) and go back."""
    code = request.POST.get("language", "")
    if code not in language_codes():
        offered = ", ".join(f"{name} ({language})" for language, name in settings.LANGUAGES)
        message = _("“%(code)s” is not a language this site offers. Choose one of: %(offered)s.") % {
            "code": code[:20],
            "offered": offered,
        }
        return render(request, "naphs/language_refused.html", {"message": message}, status=400)
    user = request.user
    if user.is_authenticated and user.language != code:
        user.language = code
        user.save(update_fields=["language"])
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]  # a setting: the stubs type it str
    )
    return response


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, then the person's language: an API client's error messages are in the language
    its person chose (a session's requests have it from PersonLanguageMiddleware). Values stay locale-free."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            language_activate_for(request._request, result[0])
        return result
