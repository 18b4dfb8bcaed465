"""Monitoring's Celery tasks (beat's reminders and the aggregates' refresh)."""

from celery import shared_task


@shared_task(acks_late=True)
def progress_reminders_task() -> int:
    """From beat: remind by e-mail, at most once a day, each focal point and technical lead whose reports for an
    open period are due soon or overdue."""
    from monitoring.periods import progress_reminders_send

    return progress_reminders_send()
