"""A refused request is logged once, in one line, without a traceback; a server error keeps its traceback."""

from __future__ import annotations

import logging

import pytest

from naphs.log_filters import RefusalWithoutTraceback


def consoles_reached(name: str) -> int:
    """How many of the settings' console handlers a record of logger `name` is written by (pytest's own
    capturing handlers are subclasses, not counted)."""
    count, logger = 0, logging.getLogger(name)
    while logger is not None:
        count += sum(type(handler) is logging.StreamHandler for handler in logger.handlers)
        if not logger.propagate:
            break
        logger = logger.parent
    return count


@pytest.mark.parametrize("persona", ["viewer", "outsider"])
def test_a_refused_page_is_logged_once_in_one_line_without_a_traceback(client, plan, people, caplog, persona):
    client.force_login(people[persona])
    with caplog.at_level(logging.INFO):
        response = client.get(f"/plans/{plan.pk}/settings/")

    assert response.status_code == {"viewer": 403, "outsider": 404}[persona]
    records = [record for record in caplog.records if record.name == "django.request"]
    assert len(records) == 1
    (record,) = records
    assert record.levelno == logging.WARNING and record.exc_info is None and not record.exc_text
    assert "\n" not in record.getMessage()
    assert consoles_reached("django.request") == 1


def test_an_api_refusal_is_one_line_too(api_client, plan, people, caplog):
    api_client.force_authenticate(people["viewer"])
    with caplog.at_level(logging.INFO):
        response = api_client.patch(f"/api/plans/{plan.pk}/", {"title": "Mine", "version": 1}, format="json")

    assert response.status_code == 403
    records = [record for record in caplog.records if record.name == "django.request"]
    logged = [(record.getMessage(), record.exc_info) for record in records]
    assert logged == [(f"Forbidden: /api/plans/{plan.pk}/", None)]


def test_a_server_error_keeps_its_traceback():
    try:
        raise RuntimeError("disk on fire")
    except RuntimeError as error:
        exc_info = (type(error), error, error.__traceback__)
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error", (), exc_info)
    record.status_code = 500
    assert RefusalWithoutTraceback().filter(record) and record.exc_info is exc_info
