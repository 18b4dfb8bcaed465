"""The language a person reads the product in: their own choice, kept on their account so it follows them to every
device; before they choose, the browser's (Accept-Language, through Django's LocaleMiddleware).

The chooser in the header posts to `language_set`. Signed in, the choice is saved on the account and applied on
every request by PersonLanguageMiddleware (and for API calls with a token, by naphs.api's authentication); signed
out, it lives in a cookie, which the account's choice then outranks.

Reference names (a framework's, its areas' and indicators') are written in English and, where a name is known in
another language, in that one too: `name_in_language` picks the one to show. Text typed in one script into a page
of another reads in its own direction (`dir="auto"` on inputs, naphs.forms); the invisible characters that force
a direction, and so can make a name read as something it is not, are refused (`bidi_controls_refuse`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import formats, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework import authentication


def number_text(value: Any, places: int | None = None) -> str:
    """A number as the reader's language writes it in a sentence, grouped ("12,500" in English, "12 500" in French),
    with `places` decimals if given; for messages and pages, never for the API or a cell's value."""
    return formats.number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)


def language_codes() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


def name_languages() -> tuple[str, ...]:
    """The languages a reference name may be given in besides English, which is its `name`."""
    return tuple(code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE)


def name_language_of(suffix: str) -> str | None:
    """The language a name column's suffix stands for, in any case: a code offered (`fr`, `zh-hans`, `zh_hans`), or
    its first part when only one offered language has it (`zh`); None for any other."""
    key = suffix.strip().lower().replace("_", "-")
    offered = name_languages()
    if key in offered:
        return key
    matching = [code for code in offered if code.split("-")[0] == key]
    return matching[0] if len(matching) == 1 else None


def name_in_language(name: str, names: Mapping[str, str] | None, language: str | None = None) -> str:
    """The name to show in `language` (by default the request's): its own in `names` ({"fr": ...}) when there is
    one, else `name`, the English."""
    code = (language or translation.get_language() or "").lower()
    if names and code and code != settings.LANGUAGE_CODE:
        for key in (code, code.split("-")[0]):
            text = names.get(key)
            if isinstance(text, str) and text.strip():
                return text
    return name


# The characters that set a direction over a stretch of text (embeddings, overrides and isolates: U+202A-U+202E,
# U+2066-U+2069) rather than marking one point as the marks U+200E and U+200F do. Inside a name they can make it
# read as another ("Trojan Source"); a browser and `dir="auto"` write a name in its own direction without them.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def bidi_controls_in(text: str) -> list[str]:
    """The direction-setting characters `text` holds, as U+XXXX, each once, in order."""
    return list(dict.fromkeys(f"U+{ord(character):04X}" for character in BIDI_CONTROLS.findall(text)))


def bidi_controls_refuse(value: Any, *, field: Any = "") -> None:
    """Refuse text holding a character that forces its direction, naming the field (its label) and the characters."""
    if not isinstance(value, str):
        return
    found = bidi_controls_in(value)
    if found:
        raise ValidationError(
            _(
                "%(field)s holds invisible characters that change the direction text is written in (%(characters)s), "
                "which can make it read as something else. Remove them: the page writes Arabic and Latin text each "
                "in its own direction without them."
            )
            % {"field": capfirst(str(field)) if field else _("This text"), "characters": ", ".join(found)},
            code="bidi_control",
        )


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
