"""E-mail that goes out after the change that caused it is committed, through the worker."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string


def mail_send_on_commit(*, to: str, template: str, context: dict[str, Any]) -> None:
    """Render `<template>_subject.txt` and `<template>.txt` now; send them once the transaction commits."""
    from naphs.tasks import email_send_task

    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    body = render_to_string(f"{template}.txt", context)
    email_send_task.delay_on_commit(subject=subject, body=body, to=[to])
