"""Celery tasks of costing: thin wrappers over costing.rollups. They take ids; running one twice is harmless."""

from datetime import timedelta

from celery import shared_task
from django.db.models import F, Q
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
def rollups_sweep_task() -> list[int]:
    """Recompute, in one pass, the rollups left stale for a minute: a lost message or a failed attempt."""
    from costing.models import PlanCosting
    from costing.rollups import plans_rollup

    stale = PlanCosting.objects.exclude(rollup_of=F("changes")).filter(
        Q(rollup_at__isnull=True) | Q(rollup_at__lt=timezone.now() - timedelta(minutes=1))
    )
    return plans_rollup(plan_ids=list(stale.values_list("plan_id", flat=True)))
