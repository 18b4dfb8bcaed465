"""Limits on requests: failed sign-ins per account and per address (login page, admin, API token), API throttling
per person and per address, and password-reset mails per e-mail and per address.

The limits are the real ones from the settings (5 failures per account, 20 per address, 3 reset mails per
address an hour), except where a test names its own rate.
"""

from __future__ import annotations

import html
import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.db.models import F
from django.test import RequestFactory
from rest_framework.authtoken.models import Token

from naphs.limits import client_address, rate_parse
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

PAUSED = "Too many failed attempts to sign in to this account or from this address, so signing in is paused"


def alert(response) -> str:
    match = re.search(r'<div class="alert alert-error" role="alert">(.*?)</div>', response.content.decode(), re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split()) if match else ""


def signed_in_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")


def log_in(client, username: str, password: str, address: str = "10.0.0.1", path: str = "/accounts/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def cool_off_passes() -> None:
    """As if the cool-off had passed since every failure recorded so far."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - django_settings.AXES_COOLOFF_TIME)


# Failed sign-ins per account


def test_forty_wrong_passwords_then_the_right_one_is_refused_whichever_name_and_address_is_used(client, lead):
    names = ["secretariat_lead", "secretariat_lead@example.org", "SECRETARIAT_LEAD", "Secretariat_Lead@Example.org"]
    for attempt in range(40):  # a new address each time: only the account's count can stop them
        log_in(client, names[attempt % len(names)], f"guess-{attempt}", address=f"10.1.{attempt // 200}.{attempt}")

    response = log_in(client, "secretariat_lead", PASSWORD, address="10.9.9.9")

    assert response.status_code == 429
    assert PAUSED in alert(response)
    assert "wait 15 minutes" in alert(response)
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert signed_in_user_id(client) is None
    lead.refresh_from_db()
    assert lead.last_login is None


def test_the_account_pauses_at_its_fifth_failure_and_the_page_says_so(client, lead):
    for attempt in range(4):
        response = log_in(client, "secretariat_lead", "wrong", address=f"10.2.0.{attempt}")
        assert response.status_code == 200
        assert "do not match" in alert(response)
    fifth = log_in(client, "secretariat_lead@example.org", "wrong", address="10.2.0.9")
    assert fifth.status_code == 429
    assert PAUSED in alert(fifth)
    assert "do not match" not in alert(fifth)


def test_a_paused_account_does_not_stop_anyone_else_from_the_same_address(client, lead, people):
    for attempt in range(5):
        log_in(client, "secretariat_lead", "wrong", address=f"10.3.0.{attempt}")

    other = log_in(client, "viewer", PASSWORD, address="10.3.0.1")

    assert other.status_code == 302
    assert signed_in_user_id(client) == str(people["viewer"].pk)


def test_once_the_cool_off_has_passed_the_right_password_signs_in(client, lead):
    for attempt in range(5):
        log_in(client, "secretariat_lead", "wrong", address=f"10.4.0.{attempt}")
    assert log_in(client, "secretariat_lead", PASSWORD).status_code == 429
    assert signed_in_user_id(client) is None

    cool_off_passes()

    assert log_in(client, "secretariat_lead", PASSWORD).status_code == 302
    assert signed_in_user_id(client) == str(lead.pk)


def test_trying_again_while_paused_does_not_make_the_pause_longer(client, lead):
    for attempt in range(5):
        log_in(client, "secretariat_lead", "wrong", address=f"10.5.0.{attempt}")
    recorded = list(AccessAttempt.objects.values_list("failures_since_start", "attempt_time"))

    for _ in range(10):
        assert log_in(client, "secretariat_lead", "wrong").status_code == 429

    assert list(AccessAttempt.objects.values_list("failures_since_start", "attempt_time")) == recorded


def test_signing_in_clears_the_accounts_earlier_failures(client, lead):
    for attempt in range(4):
        log_in(client, "secretariat_lead", "wrong", address=f"10.6.0.{attempt}")
    assert log_in(client, "secretariat_lead", PASSWORD).status_code == 302
    client.logout()

    for attempt in range(4):  # four more: nine in all, but only four since signing in
        log_in(client, "secretariat_lead", "wrong", address=f"10.6.1.{attempt}")

    assert log_in(client, "secretariat_lead", PASSWORD).status_code == 302


def test_a_name_without_an_account_is_paused_exactly_like_one_with_an_account(client, lead):
    """No hint of which names exist: the same answers, at the same attempt."""
    answers = {}
    for name in ("secretariat_lead", "nobody-here"):
        answers[name] = [
            (response.status_code, alert(response))
            for response in (log_in(client, name, "wrong", address=f"10.7.{len(answers)}.{i}") for i in range(6))
        ]
    assert answers["secretariat_lead"] == answers["nobody-here"]
    assert [status for status, _ in answers["nobody-here"]] == [200, 200, 200, 200, 429, 429]


# Failed sign-ins per address


def test_forty_wrong_passwords_for_different_names_from_one_address_pause_that_address(client, lead, people):
    for attempt in range(40):
        log_in(client, f"someone-{attempt}", "guess", address="10.8.0.1")

    response = log_in(client, "secretariat_lead", PASSWORD, address="10.8.0.1")

    assert response.status_code == 429
    assert PAUSED in alert(response)
    assert signed_in_user_id(client) is None
    # The accounts themselves are not paused: from elsewhere they sign in.
    assert log_in(client, "secretariat_lead", PASSWORD, address="10.8.0.2").status_code == 302


def test_the_address_pauses_at_its_twentieth_failure(client, lead):
    for attempt in range(19):
        assert log_in(client, f"someone-{attempt}", "guess", address="10.9.0.1").status_code == 200
    assert log_in(client, "someone-19", "guess", address="10.9.0.1").status_code == 429
    assert log_in(client, "secretariat_lead", PASSWORD, address="10.9.0.1").status_code == 429


def test_signing_in_to_ones_own_account_does_not_clear_the_addresss_failures(client, lead, people):
    for attempt in range(19):
        log_in(client, f"victim-{attempt}", "guess", address="10.10.0.1")
    assert log_in(client, "viewer", PASSWORD, address="10.10.0.1").status_code == 302
    client.logout()

    assert log_in(client, "victim-19", "guess", address="10.10.0.1").status_code == 429
    assert log_in(client, "viewer", PASSWORD, address="10.10.0.1").status_code == 429


def test_a_forwarded_for_header_is_ignored_unless_a_proxy_is_configured(client, lead):
    for attempt in range(20):
        client.post(
            "/accounts/login/",
            {"username": f"someone-{attempt}", "password": "guess"},
            REMOTE_ADDR="10.11.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}",  # a different address each time, written by the client
        )
    response = client.post(
        "/accounts/login/",
        {"username": "secretariat_lead", "password": PASSWORD},
        REMOTE_ADDR="10.11.0.1",
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )
    assert response.status_code == 429


def test_behind_a_configured_proxy_the_address_it_wrote_last_counts(settings):
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.12.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7, 198.51.100.4")
    assert client_address(request) == "10.12.0.1"

    settings.CLIENT_ADDRESS_HEADER = "X-Forwarded-For"
    assert client_address(request) == "198.51.100.4"  # what the proxy saw; the client wrote the first one
    assert client_address(factory.get("/", REMOTE_ADDR="10.12.0.1")) == "10.12.0.1"
    assert client_address(factory.get("/", REMOTE_ADDR="10.12.0.1", HTTP_X_FORWARDED_FOR="junk")) == "10.12.0.1"


def test_behind_a_configured_proxy_clients_are_paused_one_by_one(client, settings, lead):
    settings.CLIENT_ADDRESS_HEADER = "X-Forwarded-For"

    def attempt(name: str, password: str, forwarded: str):
        return client.post(
            "/accounts/login/",
            {"username": name, "password": password},
            REMOTE_ADDR="10.13.0.1",  # the proxy
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    for number in range(20):
        attempt(f"someone-{number}", "guess", f"{number}.0.0.1, 198.51.100.66")
    assert attempt("secretariat_lead", PASSWORD, "198.51.100.66").status_code == 429
    assert attempt("secretariat_lead", PASSWORD, "198.51.100.67").status_code == 302


# The admin's login and the API token


def test_the_admin_login_is_paused_too(client, db):
    make_user("root", is_staff=True, is_superuser=True)
    for attempt in range(5):
        client.post(
            "/admin/login/?next=/admin/", {"username": "root", "password": "wrong"}, REMOTE_ADDR=f"10.14.0.{attempt}"
        )

    response = client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})

    assert response.status_code == 429
    assert PAUSED in html.unescape(response.content.decode())
    assert signed_in_user_id(client) is None


def test_the_api_token_is_refused_with_429_while_the_account_is_paused(api_client, lead):
    for attempt in range(5):
        response = api_client.post(
            "/api/auth/token/",
            {"username": "secretariat_lead", "password": "wrong"},
            format="json",
            REMOTE_ADDR=f"10.15.0.{attempt}",
        )
    assert response.status_code == 429  # the fifth failure pauses the account

    response = api_client.post(
        "/api/auth/token/", {"username": "SECRETARIAT_LEAD@example.org", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 429
    assert response.json()["code"] == "signin_paused"
    assert response.json()["detail"].startswith(PAUSED)
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert not Token.objects.exists()


def test_failures_on_the_login_page_and_the_api_count_together(client, api_client, lead):
    for attempt in range(3):
        log_in(client, "secretariat_lead", "wrong", address=f"10.16.0.{attempt}")
    for attempt in range(2):
        api_client.post(
            "/api/auth/token/",
            {"username": "secretariat_lead", "password": "wrong"},
            format="json",
            REMOTE_ADDR=f"10.16.1.{attempt}",
        )
    assert log_in(client, "secretariat_lead", PASSWORD).status_code == 429


# API throttling


def api_rates(settings, **rates: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


def test_a_person_over_the_api_rate_gets_429_with_retry_after_and_others_do_not(api_client, settings, people):
    api_rates(settings, user="5/minute")
    api_client.force_authenticate(people["viewer"])
    for _ in range(5):
        assert api_client.get("/api/plans/").status_code == 200

    refused = api_client.get("/api/plans/")

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "throttled"
    assert "throttled" in refused.json()["detail"].lower()
    assert set(refused.json()) == {"detail", "code"}
    api_client.force_authenticate(people["reviewer"])
    assert api_client.get("/api/plans/").status_code == 200


def test_the_api_rate_counts_a_person_whatever_address_they_call_from(api_client, settings, people):
    api_rates(settings, user="3/minute")
    api_client.force_authenticate(people["viewer"])
    statuses = [api_client.get("/api/plans/", REMOTE_ADDR=f"10.17.0.{n}").status_code for n in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_the_default_api_rate_lets_a_person_work(api_client, people):
    api_client.force_authenticate(people["viewer"])
    statuses = {api_client.get("/api/plans/").status_code for _ in range(30)}
    assert statuses == {200}
    assert rate_parse(django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"])[0] >= 100


def test_anonymous_calls_are_throttled_per_address_and_a_forged_header_does_not_help(api_client, settings, lead):
    api_rates(settings, anon="3/minute")
    statuses = [
        api_client.post(
            "/api/auth/token/",
            {"username": "secretariat_lead", "password": PASSWORD},
            format="json",
            REMOTE_ADDR="10.18.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        ).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    elsewhere = api_client.post(
        "/api/auth/token/",
        {"username": "secretariat_lead", "password": PASSWORD},
        format="json",
        REMOTE_ADDR="10.18.0.2",
    )
    assert elsewhere.status_code == 200


def test_the_counts_live_in_a_cache_every_web_process_shares():
    backend = django_settings.CACHES["default"]["BACKEND"]
    if django_settings.CACHE_URL:
        assert backend == "django.core.cache.backends.redis.RedisCache"
    else:
        assert backend == "django.core.cache.backends.filebased.FileBasedCache"


# Password-reset mails


def ask_reset(client, email: str, address: str = "10.20.0.1"):
    return client.post("/accounts/password/reset/", {"email": email}, REMOTE_ADDR=address)


def test_reset_mails_to_one_address_stop_at_three_an_hour_and_the_page_never_changes(
    client, lead, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        responses = [ask_reset(client, "secretariat_lead@example.org", address=f"10.20.0.{n}") for n in range(8)]

    assert {(response.status_code, response["Location"]) for response in responses} == {
        (302, "/accounts/password/reset/sent/")
    }
    assert [email.to for email in mailoutbox] == [["secretariat_lead@example.org"]] * 3


def test_reset_mails_count_the_address_whatever_its_case(client, lead, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for n, email in enumerate(["secretariat_lead@example.org", "SECRETARIAT_LEAD@example.org"] * 3):
            ask_reset(client, email, address=f"10.21.0.{n}")
    assert len(mailoutbox) == 3


def test_reset_requests_for_an_address_without_an_account_look_the_same_and_send_nothing(
    client, lead, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = [ask_reset(client, "secretariat_lead@example.org", address=f"10.22.0.{n}") for n in range(5)]
        unknown = [ask_reset(client, "nobody@example.org", address=f"10.22.1.{n}") for n in range(5)]

    assert [(r.status_code, r["Location"]) for r in known] == [(r.status_code, r["Location"]) for r in unknown]
    assert len(mailoutbox) == 3
    assert {email.to[0] for email in mailoutbox} == {"secretariat_lead@example.org"}


def test_reset_requests_from_one_client_stop_at_its_limit(client, db, mailoutbox, django_capture_on_commit_callbacks):
    for n in range(12):
        make_user(f"person{n}")
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(12):
            assert ask_reset(client, f"person{n}@example.org", address="10.23.0.1").status_code == 302
    assert len(mailoutbox) == 10  # PASSWORD_RESET_RATE_PER_CLIENT
    with django_capture_on_commit_callbacks(execute=True):
        ask_reset(client, "person11@example.org", address="10.23.0.2")  # another client still gets through
    assert mailoutbox[-1].to == ["person11@example.org"]
    assert len(mailoutbox) == 11


def test_a_reset_slot_frees_up_when_its_hour_has_passed(client, lead, mailoutbox, django_capture_on_commit_callbacks):
    """The window slides: a slot taken an hour ago is free again (the cache forgets it)."""
    from django.core.cache import cache

    with django_capture_on_commit_callbacks(execute=True):
        for n in range(4):
            ask_reset(client, "secretariat_lead@example.org", address=f"10.24.0.{n}")
    assert len(mailoutbox) == 3
    # What the cache does when a slot's hour ends: forget it.
    import hashlib

    digest = hashlib.sha256(b"secretariat_lead@example.org").hexdigest()
    assert cache.delete(f"rate:password-reset-email:{digest}:1")
    with django_capture_on_commit_callbacks(execute=True):
        ask_reset(client, "secretariat_lead@example.org", address="10.24.1.1")
        ask_reset(client, "secretariat_lead@example.org", address="10.24.1.2")
    assert len(mailoutbox) == 4


@pytest.mark.parametrize(("rate", "parsed"), [("5/minute", (5, 60)), ("3/hour", (3, 3600)), ("20/15m", (20, 900))])
def test_rates_read_as_a_number_per_period(rate, parsed):
    assert rate_parse(rate) == parsed


def test_a_rate_that_is_not_one_is_refused_with_its_text():
    with pytest.raises(ValueError, match="'often' is not a rate"):
        rate_parse("often")
