"""Monitoring's Celery tasks (beat's reminders and the aggregates' refresh): thin wrappers that take ids; running one
twice is harmless."""

from datetime import timedelta

from celery import shared_task
from django.db.models import F, Q
from django.utils import timezone

from naphs.tasks import TRANSIENT_ERRORS


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def monitoring_refresh_task(self, plan_id: int) -> bool:
    from monitoring.aggregates import plan_refresh
    from monitoring.models import MonitoringState

    try:
        return plan_refresh(plan_id=plan_id)
    except TRANSIENT_ERRORS as exc:
        # Queued again so the next attempt is not skipped as "nothing to do".
        MonitoringState.objects.filter(plan_id=plan_id).update(queued=True)
        raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc


@shared_task(acks_late=True)
def monitoring_sweep_task() -> list[int]:
    """Recompute, in one pass, the aggregates left stale for a minute: a lost message or a failed attempt."""
    from monitoring.aggregates import plans_refresh
    from monitoring.models import MonitoringState
    from planning.models import Plan

    # A plan whose monitoring has begun (it has reporting periods) without any change counted yet: computed once, so
    # its activities show before the first report.
    begun = Plan.objects.filter(reporting_periods__isnull=False, monitoring_state__isnull=True).distinct()
    first = list(begun.values_list("pk", flat=True))
    stale = MonitoringState.objects.exclude(aggregates_of=F("changes")).filter(
        Q(computed_at__isnull=True) | Q(computed_at__lt=timezone.now() - timedelta(minutes=1))
    )
    return plans_refresh(plan_ids=sorted({*first, *stale.values_list("plan_id", flat=True)}))


@shared_task(acks_late=True)
def progress_reminders_task() -> int:
    """From beat: remind by e-mail, at most once a day, each focal point and technical lead whose reports for an
    open period are due soon or overdue."""
    from monitoring.periods import progress_reminders_send

    return progress_reminders_send()
