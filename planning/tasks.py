"""Celery tasks of planning: thin wrappers over its services. Running one twice is harmless."""

from celery import shared_task


@shared_task(acks_late=True)
def review_reminders_task() -> int:
    """From beat: remind by e-mail, once a day, each reviewer whose verdict in an open round is overdue."""
    from planning.reviews import review_reminders_send

    return review_reminders_send()
