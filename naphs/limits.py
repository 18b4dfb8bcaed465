"""Rate limits every app shares: whose address a request comes from, counted uses in the shared cache, and the
API's throttles.

Counters live in the default cache (Redis in production, files under VAR_DIR in the embedded mode), so every
web process counts against the same limit.
"""

from __future__ import annotations

import ipaddress
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])[a-z]*\s*$", re.IGNORECASE)


def rate_parse(rate: str) -> tuple[int, int]:
    """ "5/minute" → (5, 60), "3/hour" → (3, 3600), "20/15m" → (20, 900): how many, in how many seconds."""
    match = RATE.match(rate)
    if match is None:
        raise ValueError(f"{rate!r} is not a rate such as 5/minute, 3/hour or 20/15m")
    number, multiple, unit = match.groups()
    return int(number), int(multiple or 1) * PERIODS[unit.lower()]


def client_address(request: HttpRequest) -> str:
    """The address the request came from: REMOTE_ADDR, or, behind a proxy named in CLIENT_ADDRESS_HEADER, the last
    address that proxy wrote in that header. The addresses before it are whatever the client sent, and without the
    setting the header is ignored altogether: anyone can send an X-Forwarded-For."""
    remote = request.META.get("REMOTE_ADDR", "")
    header = settings.CLIENT_ADDRESS_HEADER
    if header:
        value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        candidates = [part.strip() for part in value.split(",") if part.strip()]
        if candidates and _is_address(candidates[-1]):
            return candidates[-1]
    return remote if _is_address(remote) else "0.0.0.0"  # noqa: S104 (a placeholder, never bound to)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def rate_allows(*, key: str, rate: str) -> bool:
    """Count one use of `key` and say whether it is within `rate`; a use beyond the rate is not counted.

    Each use takes one of the rate's slots for the rate's period, with the cache's atomic add: however many
    processes ask at once, no more than the rate's number of uses pass in any such period.
    """
    number, seconds = rate_parse(rate)
    now = time.time()
    return any(cache.add(f"rate:{key}:{slot}", now, timeout=seconds) for slot in range(number))


class _AddressAndLiveRate:
    """Identify anonymous clients by client_address (DRF's own choice trusts X-Forwarded-For), and read the rate
    from the settings when asked, so a deployment's or a test's REST_FRAMEWORK is the one that counts."""

    scope: str | None

    def get_ident(self, request) -> str:
        return client_address(request)

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return str(rate) if rate is not None else None


class UserThrottle(_AddressAndLiveRate, UserRateThrottle):
    """API calls per signed-in person (rate "user"), whichever way they signed in."""


class AnonThrottle(_AddressAndLiveRate, AnonRateThrottle):
    """API calls per client address of people not signed in (rate "anon"), e.g. asking for a token."""
