"""Celery tasks: thin wrappers over naphs.jobs. Tasks take ids; running one twice gives one result."""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError

from naphs.jobs import Outcome, job_fail, job_run, jobs_expire, jobs_recover

# Worth another try: the database or the broker went away for a moment.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, BrokerError)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3)
def job_run_task(self, job_id: int, last_look: bool = False) -> None:
    try:
        outcome = job_run(job_id=job_id)
    except TRANSIENT_ERRORS as exc:
        if self.request.retries >= self.max_retries:
            job_fail(job_id=job_id, message=_("A service was unavailable; please try again later."), error=repr(exc))
            return
        raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc
    except Exception as exc:
        job_fail(
            job_id=job_id,
            message=_("The job failed unexpectedly; administrators can see the details."),
            error=repr(exc),
        )
        raise
    if outcome is Outcome.STILL_BEATING and not last_look:
        # Delivered again while an attempt beats: after a pool process was killed its heartbeat stops, and one
        # more look once it would be stale runs the job again at once (beat's sweep would, a little later).
        job_run_task.apply_async(
            (job_id,),
            {"last_look": True},
            countdown=settings.JOB_HEARTBEAT_STALE_SECONDS + settings.JOB_HEARTBEAT_SECONDS,
        )


@shared_task(acks_late=True)
def jobs_recover_task() -> int:
    """Every JOB_RECOVER_SECONDS: run again, or fail with a message, the jobs whose worker stopped beating."""
    return jobs_recover()


@shared_task(acks_late=True)
def jobs_expire_task() -> int:
    return jobs_expire()


@shared_task(acks_late=True)
def uploads_sweep_task() -> int:
    from naphs.uploads import uploads_sweep

    return uploads_sweep()


@shared_task(bind=True, acks_late=True, max_retries=5)
def email_send_task(self, *, subject: str, body: str, to: list[str]) -> None:
    """Send one e-mail; a mail server that is down for a moment gets more tries."""
    import smtplib

    from django.core.mail import send_mail

    try:
        send_mail(subject, body, None, to)
    except (smtplib.SMTPException, OSError) as exc:
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc
