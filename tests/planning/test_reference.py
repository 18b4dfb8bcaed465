"""The reference frameworks the product carries, as the migration loads them."""

import pytest

from planning.models import Crosswalk, CrosswalkLink, Framework, Indicator, TechnicalArea
from planning.reference import reference_load

pytestmark = pytest.mark.django_db


def test_jee3_and_spar2_arrive_with_their_areas_indicators_and_pillars():
    jee, spar = Framework.objects.get(code="JEE3"), Framework.objects.get(code="SPAR2")
    assert (jee.technical_areas.count(), jee.indicators.count()) == (19, 56)
    assert (spar.technical_areas.count(), spar.indicators.count()) == (15, 35)
    assert set(jee.technical_areas.values_list("pillar", flat=True)) == {
        "Prevent",
        "Detect",
        "Respond",
        "IHR-related hazards and points of entry",
    }
    legal = Indicator.objects.get(framework=jee, code="P1.1")
    assert (legal.name, legal.technical_area.code) == ("Legal instruments", "P1")


def test_the_crosswalk_links_jee3_to_spar2_and_leaves_amr_without_a_counterpart():
    crosswalk = Crosswalk.objects.get(source_framework__code="JEE3", target_framework__code="SPAR2")
    assert (crosswalk.name, crosswalk.approximate, str(crosswalk)) == (
        "JEE 3 – SPAR 2",
        True,
        "JEE 3 – SPAR 2 (approximate)",
    )
    assert crosswalk.links.count() == 46
    assert set(crosswalk.links.filter(source__code="P3.3").values_list("target__code", flat=True)) == {
        "C2.3",
        "C7.1",
    }
    assert not crosswalk.links.filter(source__code__startswith="P4.").exists()


def test_loading_the_reference_again_changes_nothing():
    before = (
        Framework.objects.count(),
        TechnicalArea.objects.count(),
        Indicator.objects.count(),
        CrosswalkLink.objects.count(),
    )
    reference_load(Framework=Framework, TechnicalArea=TechnicalArea, Indicator=Indicator, CrosswalkLink=CrosswalkLink)
    after = (
        Framework.objects.count(),
        TechnicalArea.objects.count(),
        Indicator.objects.count(),
        CrosswalkLink.objects.count(),
    )
    # JEE 1, 2 and 3, SPAR 1 and 2; the links of the four crosswalks.
    assert after == before == (5, 85, 212, 179)


def test_a_new_plan_follows_jee3_unless_told_otherwise(country, people):
    from planning.services import plan_create
    from tests.conftest import give_grant

    give_grant(people["outsider"], country)
    plan = plan_create(
        by=people["outsider"], jurisdiction=country, title="P", kind="strategic", first_year=2026, last_year=2030
    )
    assert plan.framework.code == "JEE3"
    spar = Framework.objects.get(code="SPAR2")
    child = plan_create(
        by=people["outsider"],
        jurisdiction=country,
        title="Op",
        kind="operational",
        first_year=2026,
        last_year=2026,
        parent=plan,
    )
    assert child.framework == plan.framework
    other = plan_create(
        by=people["outsider"],
        jurisdiction=country,
        title="S",
        kind="strategic",
        first_year=2026,
        last_year=2030,
        framework=spar,
    )
    assert other.framework == spar
