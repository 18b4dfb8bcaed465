"""Reads of the progress pages and API: which activities a person sees there, and the reports on them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext

from monitoring.models import ProgressEvidence, ProgressUpdate, ReportingPeriod
from monitoring.progress_forms import NOT_REPORTED
from naphs.permissions import Permission
from planning.models import Activity, Plan
from stakeholders.access import activities_reportable_by
from stakeholders.models import PlanMembership


def period_get(*, plan: Plan, period_id: int) -> ReportingPeriod:
    """A reporting period of this plan: 404 for any other."""
    period = ReportingPeriod.objects.filter(plan=plan, pk=period_id).first()
    if period is None:
        raise Http404(gettext("No such reporting period in this plan."))
    period.plan = plan
    return period


def progress_activities_for(membership: PlanMembership) -> QuerySet[Activity]:
    """The activities a member sees on the progress pages: those they report on (the secretariat every one, a
    technical lead their areas', a focal point their organization's); everyone who only reads sees them all."""
    activities = Activity.objects.filter(plan_id=membership.plan_id)
    if membership.role_allows(Permission.REPORT_PROGRESS):
        activities = activities.filter(activities_reportable_by(membership))
    return activities.select_related("technical_area", "responsible_organization").order_by(
        "technical_area__order", "technical_area__code", "title", "pk"
    )


def progress_activities_filter(
    activities: QuerySet[Activity], *, period: ReportingPeriod, choices: Mapping[str, Any]
) -> QuerySet[Activity]:
    """The activities narrowed to the chosen area, organization and status of their report for the period."""
    if area := choices.get("area"):
        activities = activities.filter(technical_area=area)
    if organization := choices.get("organization"):
        activities = activities.filter(responsible_organization=organization)
    if status := choices.get("status"):
        reports = ProgressUpdate.objects.filter(activity=OuterRef("pk"), period=period)
        if status == NOT_REPORTED:
            activities = activities.filter(~Exists(reports))
        else:
            activities = activities.filter(Exists(reports.filter(status=status)))
    return activities


def progress_reports_for(*, period: ReportingPeriod, activities: Iterable[Activity]) -> dict[int, ProgressUpdate]:
    """The period's reports on these activities by activity id, with their reporter and evidence: one query."""
    ids = [activity.pk for activity in activities]
    reports = (
        ProgressUpdate.objects.filter(period=period, activity_id__in=ids)
        .select_related("reported_by")
        .annotate(evidence_count=Count("evidence"))
    )
    return {report.activity_id: report for report in reports}


def progress_report_get(*, activity: Activity, period: ReportingPeriod) -> ProgressUpdate | None:
    """The report on the activity for the period, with its evidence, or None before the first."""
    report = (
        ProgressUpdate.objects.filter(activity=activity, period=period)
        .select_related("reported_by")
        .prefetch_related(Prefetch("evidence", queryset=ProgressEvidence.objects.select_related("added_by")))
        .first()
    )
    if report is not None:
        report.activity, report.period, report.plan = activity, period, activity.plan
    return report


def progress_history(activity: Activity) -> list[ProgressUpdate]:
    """Every report on the activity, period by period, with its evidence: two queries."""
    reports = list(
        ProgressUpdate.objects.filter(activity=activity)
        .select_related("period", "reported_by")
        .prefetch_related(Prefetch("evidence", queryset=ProgressEvidence.objects.select_related("added_by")))
        .order_by("period__starts_on")
    )
    for report in reports:
        report.activity, report.plan = activity, activity.plan
    return reports


def progress_list_for_plan(plan: Plan) -> QuerySet[ProgressUpdate]:
    """The plan's reports for the API: with what the serializer shows."""
    return (
        ProgressUpdate.objects.filter(plan=plan)
        .select_related("reported_by", "activity", "period")
        .annotate(evidence_count=Count("evidence"))
        .order_by("period__starts_on", "activity_id")
    )


def evidence_get(*, plan: Plan, evidence_id: int) -> ProgressEvidence:
    """A piece of evidence of one of the plan's reports: 404 for any other."""
    evidence = (
        ProgressEvidence.objects.select_related("update__activity__technical_area", "update__period", "added_by")
        .filter(update__plan=plan, pk=evidence_id)
        .first()
    )
    if evidence is None:
        raise Http404(gettext("No such evidence in this plan."))
    evidence.update.plan = evidence.update.activity.plan = evidence.update.period.plan = plan
    return evidence
