"""Reads of planning data that the pages and services share."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet, Subquery

from planning.models import Assessment, CrosswalkLink, Indicator, IndicatorScore, Plan


def plan_current_levels(*, plan: Plan) -> dict[int, int]:
    """The current level of each indicator of the plan's framework: {indicator id: level}, from the plan's most
    recent assessment. Scores of an assessment in another framework are carried over through the crosswalk, in
    either direction; where several indicators map to one, the lowest counts. An indicator without a score is
    absent. Two queries at most, however many indicators."""
    latest = Assessment.objects.filter(plan=plan).order_by("-date", "-pk").values("pk")[:1]
    rows = list(
        IndicatorScore.objects.filter(assessment=Subquery(latest)).values_list(
            "indicator_id", "score", "assessment__framework_id"
        )
    )
    if not rows:
        return {}
    scores = {indicator_id: score for indicator_id, score, _framework in rows}
    source_framework = rows[0][2]
    if plan.framework_id is None or plan.framework_id == source_framework:
        return scores
    links = CrosswalkLink.objects.filter(
        Q(source_id__in=scores, target__framework_id=plan.framework_id)
        | Q(target_id__in=scores, source__framework_id=plan.framework_id)
    ).values_list("source_id", "target_id")
    levels: dict[int, int] = {}
    for source_id, target_id in links:
        scored, carried = (source_id, target_id) if source_id in scores else (target_id, source_id)
        level = scores[scored]
        levels[carried] = min(level, levels.get(carried, level))
    return levels


def assessment_list_for_plan(*, plan: Plan) -> QuerySet[Assessment]:
    """The plan's assessments, most recent first, each with its framework and number of scores."""
    return Assessment.objects.filter(plan=plan).select_related("framework").annotate(score_count=Count("scores"))


def assessment_grid(*, assessment: Assessment) -> tuple[list[Indicator], dict[int, IndicatorScore]]:
    """The indicators of the assessment's framework in order (with their technical areas), and the assessment's
    scores by indicator id: two queries."""
    indicators = list(
        Indicator.objects.filter(framework_id=assessment.framework_id)
        .select_related("technical_area")
        .order_by("technical_area__order", "order", "code")
    )
    scores = {score.indicator_id: score for score in IndicatorScore.objects.filter(assessment=assessment)}
    return indicators, scores
