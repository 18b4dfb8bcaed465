"""E-mail that goes out after the change that caused it is committed, through the worker."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends import console
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


class ConsoleEmailBackend(console.EmailBackend):
    """The embedded mode's mail, printed readable: the headers, then each text part decoded.

    Django's console backend prints the message as it would travel, and a text body travels
    quoted-printable: `=3D` stands for `=` and a long line is cut with `=` at its end, so a link
    copied from the console is broken. What goes to a mail server is unchanged."""

    def write_message(self, message: EmailMessage) -> None:
        mime = message.message()
        lines = [f"{name}: {value}" for name, value in mime.items() if name.lower() != "content-transfer-encoding"]
        for part in mime.walk():
            if part.get_content_maintype() == "text" and not part.is_attachment():
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    lines += ["", payload.decode(part.get_content_charset() or "utf-8", errors="replace")]
        self.stream.write("\n".join(lines) + "\n" + "-" * 79 + "\n")
