"""E-mail that goes out after the change that caused it is committed, through the worker."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation


def mail_send_on_commit(*, to: str, template: str, context: dict[str, Any], language: str | None = None) -> None:
    """Render `<template>_subject.txt` and `<template>.txt` now, in the recipient's language (None: the language of
    the request, for a recipient who has not chosen one); send them once the transaction commits."""
    from naphs.tasks import email_send_task

    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language or translation.get_language()):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body = render_to_string(f"{template}.txt", context)
    email_send_task.delay_on_commit(subject=subject, body=body, to=[to])
