"""Celery tasks of costing: thin wrappers over costing.rollups. They take ids; running one twice is harmless."""

from datetime import timedelta

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from naphs.tasks import TRANSIENT_ERRORS


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def plan_rollup_task(self, plan_id: int) -> bool:
    from costing.models import PlanCosting
    from costing.rollups import plan_rollup

    try:
        return plan_rollup(plan_id=plan_id)
    except TRANSIENT_ERRORS as exc:
        # Queued again so the next attempt is not skipped as "nothing to do".
        PlanCosting.objects.filter(plan_id=plan_id).update(rollup_queued=True)
        raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc


@shared_task(acks_late=True)
def rollups_sweep_task() -> int:
    """Queue the recomputation of rollups left stale for a minute: a lost message or a failed attempt."""
    from costing.models import PlanCosting

    stale = PlanCosting.objects.exclude(rollup_of=F("changes")).filter(
        rollup_at__lt=timezone.now() - timedelta(minutes=1)
    ) | PlanCosting.objects.exclude(rollup_of=F("changes")).filter(rollup_at__isnull=True)
    plan_ids = list(stale.values_list("plan_id", flat=True))
    for plan_id in plan_ids:
        PlanCosting.objects.filter(plan_id=plan_id).update(rollup_queued=True)
        plan_rollup_task.delay(plan_id)
    return len(plan_ids)
