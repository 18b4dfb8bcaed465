"""7-1-7 timeliness: each event's three intervals against their targets (exactly 7 and 1 days meet them), every bad
date named by its field with nothing saved, the summary counted in the database, stale edits refused, and a
bottleneck's remedial action made an activity of the plan with its source (refused on an endorsed plan, the
bottleneck kept)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from monitoring.models import Bottleneck, HealthEvent
from monitoring.timeliness import (
    TARGET_DAYS,
    bottleneck_activity_create,
    bottleneck_create,
    event_intervals,
    event_meets_all,
    health_event_create,
    health_event_update,
    timeliness_summary,
)
from naphs.errors import EditConflict, PlanFrozen
from naphs.models import AuditEvent
from planning.models import Activity, Plan, TechnicalArea

pytestmark = pytest.mark.django_db

D = datetime.date


def area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


def dates(emerged: D, detection: int | None = None, notification: int | None = None, response: int | None = None):
    """The four dates from the emergence and each interval in days (None: not known yet)."""
    values = {"emerged_on": emerged, "detected_on": None, "notified_on": None, "responded_on": None}
    current = emerged
    for name, days in (("detected_on", detection), ("notified_on", notification), ("responded_on", response)):
        if days is None:
            break
        current = current + datetime.timedelta(days=days)
        values[name] = current
    return values


def event_fields(**overrides) -> dict:
    values = {"name": "Cholera in the delta", "hazard": "Cholera", "place": "Delta district", "notes": ""}
    values.update(dates(D(2026, 3, 1), 7, 1, 7))
    values.update(overrides)
    return values


def test_the_targets_are_seven_one_seven():
    assert TARGET_DAYS == {"detection": 7, "notification": 1, "response": 7}


def test_exactly_seven_one_and_seven_days_meet_every_target(plan, lead):
    event = health_event_create(plan=plan, by=lead, fields=event_fields())
    results = event_intervals(event)
    assert [(r.key, r.days, r.met) for r in results] == [
        ("detection", 7, True),
        ("notification", 1, True),
        ("response", 7, True),
    ]
    assert event_meets_all(event) is True


def test_a_day_over_misses_that_target_only(plan, lead):
    event = health_event_create(plan=plan, by=lead, fields=event_fields(**dates(D(2026, 3, 1), 8, 2, 0)))
    assert [(r.days, r.met) for r in event_intervals(event)] == [(8, False), (2, False), (0, True)]
    assert event_meets_all(event) is False


def test_a_missing_date_leaves_its_interval_pending(plan, lead):
    event = health_event_create(plan=plan, by=lead, fields=event_fields(**dates(D(2026, 3, 1), 3)))
    results = event_intervals(event)
    assert [(r.days, r.met, r.pending) for r in results] == [(3, True, False), (None, None, True), (None, None, True)]
    assert event_meets_all(event) is None


def test_the_event_is_audited(plan, lead):
    event = health_event_create(plan=plan, by=lead, fields=event_fields())
    audit = AuditEvent.objects.get(target_type="healthevent", target_id=event.pk)
    assert audit.action == "created" and audit.actor == lead


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"detected_on": D(2026, 2, 27)}, "detected_on", "before the date of emergence"),
        ({"notified_on": D(2026, 3, 7)}, "notified_on", "before the date of detection"),
        ({"responded_on": D(2026, 3, 8)}, "responded_on", "before the date of notification"),
        ({"detected_on": None}, "notified_on", "without a date of detection"),
        ({"notified_on": None}, "responded_on", "without a date of notification"),
        ({"emerged_on": None, "detected_on": None, "notified_on": None, "responded_on": None}, "emerged_on", "Enter"),
        ({"responded_on": D(2099, 1, 1)}, "responded_on", "in the future"),
        ({**dates(D(2099, 1, 1))}, "emerged_on", "in the future"),
    ],
)
def test_every_bad_date_is_named_by_its_field_and_nothing_is_saved(plan, lead, overrides, field, words):
    with pytest.raises(ValidationError) as refused:
        health_event_create(plan=plan, by=lead, fields=event_fields(**overrides))
    messages = refused.value.message_dict[field]
    assert any(words in message for message in messages), messages
    assert not HealthEvent.objects.exists()
    assert not AuditEvent.objects.filter(target_type="healthevent").exists()


def test_a_date_message_says_the_dates(plan, lead):
    with pytest.raises(ValidationError) as refused:
        health_event_create(
            plan=plan, by=lead, fields=event_fields(detected_on=D(2026, 2, 27), notified_on=None, responded_on=None)
        )
    assert refused.value.message_dict["detected_on"] == [
        "Date of detection: 27 Feb 2026 is before the date of emergence (1 Mar 2026)."
    ]


def test_a_stale_edit_is_refused_and_the_event_kept(plan, lead, people):
    event = health_event_create(plan=plan, by=lead, fields=event_fields(**dates(D(2026, 3, 1))))
    health_event_update(event=event, by=lead, version=1, fields={"detected_on": D(2026, 3, 4)})
    stale = HealthEvent.objects.get(pk=event.pk)
    stale.version = 1
    with pytest.raises(EditConflict):
        health_event_update(event=stale, by=lead, version=1, fields={"detected_on": D(2026, 3, 5)})
    event.refresh_from_db()
    assert (event.detected_on, event.version) == (D(2026, 3, 4), 2)


def test_the_summary_counts_met_missed_pending_and_medians(plan, lead, provincial_plan):
    for days in ((7, 1, 7), (8, 0, 3), (2, 3, None), (None, None, None)):
        health_event_create(plan=plan, by=lead, fields=event_fields(**dates(D(2026, 3, 1), *days)))
    health_event_create(plan=provincial_plan, by=lead, fields=event_fields(**dates(D(2025, 6, 1), 1, 1, 1)))
    summary = timeliness_summary([plan.pk])
    detection, notification, response = summary.targets
    assert summary.events == 4
    assert (detection.met, detection.missed, detection.pending, detection.median_days) == (2, 1, 1, 7.0)
    assert (notification.met, notification.missed, notification.pending) == (2, 1, 1)
    assert notification.median_days == 1.0
    assert (response.met, response.missed, response.pending, response.median_days) == (2, 0, 2, 5.0)
    assert (summary.all_met, summary.all_known, summary.all_missed, summary.all_pending) == (1, 2, 1, 2)
    assert detection.share_met == pytest.approx(66.7)
    assert summary.share_all_met == 50.0
    both = timeliness_summary([plan.pk, provincial_plan.pk])
    assert both.events == 5 and both.all_met == 2
    assert timeliness_summary([plan.pk, provincial_plan.pk], year=2025).events == 1
    assert timeliness_summary([plan.pk], hazard="cholera").events == 4
    assert timeliness_summary([plan.pk], hazard="Ebola").events == 0


def test_the_summary_of_no_events_has_no_shares(plan):
    summary = timeliness_summary([plan.pk])
    assert summary.events == 0 and summary.share_all_met is None
    assert all(target.share_met is None and target.median_days is None for target in summary.targets)


def test_the_summary_is_one_query(plan, lead, django_assert_num_queries):
    health_event_create(plan=plan, by=lead, fields=event_fields())
    with django_assert_num_queries(1):
        timeliness_summary([plan.pk])


# --- Bottlenecks and their remedial actions ----------------------------------------------------------------------


@pytest.fixture
def event(plan, lead) -> HealthEvent:
    return health_event_create(plan=plan, by=lead, fields=event_fields(**dates(D(2026, 3, 1), 12, 1, 5)))


@pytest.fixture
def bottleneck(event, lead) -> Bottleneck:
    return bottleneck_create(
        event=event,
        by=lead,
        fields={
            "stage": "detection",
            "description": "District laboratories could not confirm cholera.",
            "remedial_action": "Equip four district laboratories for cholera culture",
            "technical_area": area("D1"),
        },
    )


def test_a_bottleneck_of_another_framework_s_area_is_refused(event, lead):
    spar_area = TechnicalArea.objects.filter(framework__code="SPAR2").first()
    with pytest.raises(ValidationError) as refused:
        bottleneck_create(
            event=event, by=lead, fields={"stage": "detection", "description": "Slow", "technical_area": spar_area}
        )
    assert "technical_area" in refused.value.message_dict
    assert not Bottleneck.objects.exists()


def test_a_remedial_action_becomes_an_activity_with_its_source(bottleneck, lead, moh, plan):
    activity = bottleneck_activity_create(
        bottleneck=bottleneck,
        by=lead,
        version=bottleneck.version,
        source=Activity.Source.AFTER_ACTION_REVIEW,
        technical_area=area("D1"),
        responsible_organization=moh,
    )
    assert activity.plan == plan and activity.source == "after_action_review"
    assert activity.title == "Equip four district laboratories for cholera culture"
    assert "Cholera in the delta" in activity.description
    assert activity.responsible_organization == moh and activity.technical_area == area("D1")
    bottleneck.refresh_from_db()
    assert bottleneck.activity == activity and bottleneck.version == 2
    assert AuditEvent.objects.filter(target_type="activity", target_id=activity.pk, action="created").exists()
    assert AuditEvent.objects.filter(target_type="bottleneck", target_id=bottleneck.pk, action="edited").exists()


def test_a_remedial_action_becomes_one_activity_only(bottleneck, lead):
    fields = {"source": "seven_one_seven", "technical_area": area("D1"), "responsible_organization": None}
    bottleneck_activity_create(bottleneck=bottleneck, by=lead, version=1, **fields)
    bottleneck.refresh_from_db()
    with pytest.raises(ValidationError, match="already the activity"):
        bottleneck_activity_create(bottleneck=bottleneck, by=lead, version=bottleneck.version, **fields)
    stale = Bottleneck.objects.get(pk=bottleneck.pk)
    with pytest.raises(EditConflict):
        bottleneck_activity_create(bottleneck=stale, by=lead, version=1, **fields)
    assert Activity.objects.count() == 1


def test_an_activity_source_outside_the_reviews_is_refused(bottleneck, lead):
    with pytest.raises(ValidationError) as refused:
        bottleneck_activity_create(
            bottleneck=bottleneck,
            by=lead,
            version=1,
            source="benchmark",
            technical_area=area("D1"),
            responsible_organization=None,
        )
    assert "source" in refused.value.message_dict
    assert not Activity.objects.exists()


def test_an_endorsed_plan_refuses_the_activity_but_keeps_events_writable(bottleneck, event, lead, plan):
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDORSED)
    plan.refresh_from_db()
    event.plan = plan
    bottleneck.event = event
    with pytest.raises(PlanFrozen):
        bottleneck_activity_create(
            bottleneck=bottleneck,
            by=lead,
            version=1,
            source="seven_one_seven",
            technical_area=area("D1"),
            responsible_organization=None,
        )
    assert not Activity.objects.exists()
    bottleneck.refresh_from_db()
    assert bottleneck.activity is None and bottleneck.version == 1
    # Monitoring goes on: the event and its bottlenecks are still written.
    health_event_update(event=event, by=lead, version=event.version, fields={"notes": "Reviewed in April."})
    bottleneck_create(event=event, by=lead, fields={"stage": "response", "description": "Late supplies"})
    assert event.bottlenecks.count() == 2
