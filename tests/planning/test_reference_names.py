"""Reference names in several languages: a framework's, its areas' and indicators' names are kept in English and,
where known, in the product's other languages; pages show the reader's language and fall back to English."""

import io

import pytest
from django.utils import translation

from naphs.languages import name_in_language, name_language_of
from naphs.spreadsheets import ImportRefused
from planning.frameworks import framework_import
from planning.models import Framework, Indicator, TechnicalArea
from planning.reference import reference_names_load

pytestmark = pytest.mark.django_db


def csv(content: str) -> io.BytesIO:
    upload = io.BytesIO(content.encode())
    upload.name = "framework.csv"
    return upload


NAMED = """indicator_name_zh-hans,area_code,Area_Name_AR,area_name,indicator_code,indicator_name,area_name_fr
公共卫生法,N1,التشريعات الوطنية,National legislation,N1.1,Public health law,Législation nationale
,N1,,National legislation,N1.2,Regulations,Législation nationale
,N2,,Laboratories,N2.1,Specimen referral,
"""


def test_the_shipped_frameworks_and_areas_carry_their_who_names_in_the_other_languages():
    legal = TechnicalArea.objects.get(framework__code="JEE3", code="P1")
    assert legal.names == {
        "fr": "Instruments juridiques",
        "es": "Instrumentos jurídicos",
        "ar": "الصكوك القانونية",
        "ru": "Правовые инструменты",
        "zh-hans": "法律文书",
    }
    assert TechnicalArea.objects.filter(framework__code__in=["JEE3", "SPAR2"], names={}).count() == 0
    # The older editions carry their English names only: pages show those in every language.
    assert not TechnicalArea.objects.filter(framework__code__in=["JEE1", "JEE2", "SPAR1"]).exclude(names={}).exists()
    assert Framework.objects.get(code="SPAR2").names["fr"].startswith("Autoévaluation")
    assert Indicator.objects.get(framework__code="JEE3", code="P1.1").names == {}  # left to the import


def test_a_name_shows_in_the_readers_language_and_in_english_where_it_has_none():
    area = TechnicalArea.objects.get(framework__code="JEE3", code="D2")
    indicator = Indicator.objects.get(framework__code="JEE3", code="D2.1")
    with translation.override("fr"):
        assert (area.local_name, str(area)) == ("Surveillance", "D2 Surveillance")
        assert indicator.local_name == "Early warning surveillance function"
    with translation.override("zh-hans"):
        assert str(area) == "D2 监测"
    with translation.override("en"):
        assert str(area.framework) == "Joint External Evaluation, 3rd edition (2022)"
    assert name_in_language("Financing", {"fr": "Financement", "es": ""}, "es") == "Financing"
    assert name_in_language("Financing", {"fr": "Financement"}, "fr-ca") == "Financement"
    assert name_in_language("Financing", None, "ar") == "Financing"


def test_the_import_takes_names_in_other_languages_in_any_order_and_case():
    framework = framework_import(code="NSAT", name="Tool", upload=csv(NAMED), filename="framework.csv")
    n1 = framework.technical_areas.get(code="N1")
    assert n1.names == {"ar": "التشريعات الوطنية", "fr": "Législation nationale"}
    assert framework.technical_areas.get(code="N2").names == {}
    assert framework.indicators.get(code="N1.1").names == {"zh-hans": "公共卫生法"}
    with translation.override("ar"):
        assert framework.indicators.get(code="N1.1").local_name == "Public health law"
        assert framework.technical_areas.get(code="N1").local_name == "التشريعات الوطنية"


def test_loading_again_sets_the_languages_the_file_has_and_keeps_the_others():
    framework_import(code="NSAT", name="Tool", upload=csv(NAMED), filename="f.csv")
    again = """area_code,area_name,indicator_code,indicator_name,area_name_fr,indicator_name_zh,area_name_ES
N1,National legislation,N1.1,Public health law,Législation du pays,,Legislación nacional
N2,Laboratories,N2.1,Specimen referral,Laboratoires,样本转送,
"""
    framework_import(code="NSAT", name="Tool", upload=csv(again), filename="f.csv")
    framework = Framework.objects.get(code="NSAT")
    assert framework.technical_areas.get(code="N1").names == {
        "ar": "التشريعات الوطنية", "fr": "Législation du pays", "es": "Legislación nacional",
    }  # fmt: skip
    assert framework.technical_areas.get(code="N2").names == {"fr": "Laboratoires"}
    assert framework.indicators.get(code="N1.1").names == {}  # its cell of the Chinese column is empty now
    assert framework.indicators.get(code="N2.1").names == {"zh-hans": "样本转送"}
    assert framework.indicators.get(code="N1.2").names == {}  # not in the file: as it was


@pytest.mark.parametrize(
    ("heading", "message"),
    [
        ("area_name_xx", "Column “area_name_xx”: “xx” is not a language of this site"),
        ("indicator_name_en", "Column “indicator_name_en”: “en” is not a language of this site"),
        ("name_fr", "Column “name_fr”: say whose name it is, as area_name_fr or indicator_name_fr."),
    ],
)
def test_a_name_column_of_no_language_the_site_offers_is_refused_naming_it(heading, message):
    content = f"area_code,area_name,indicator_code,indicator_name,{heading}\nN1,Law,N1.1,Public health law,Loi\n"
    with pytest.raises(ImportRefused) as refused:
        framework_import(code="NSAT", name="Tool", upload=csv(content), filename="f.csv")
    messages = [str(problem) for problem in refused.value.problems]
    assert any(message in m and "row 1" in m for m in messages), messages
    assert not Framework.objects.filter(code="NSAT").exists()


def test_the_same_language_twice_or_an_area_named_two_ways_is_refused():
    content = """area_code,area_name,indicator_code,indicator_name,area_name_zh,area_name_zh_hans,area_name_fr
N1,Law,N1.1,Public health law,法律,法律,Loi
N1,Law,N1.2,Regulations,法律,法律,Droit
"""
    with pytest.raises(ImportRefused) as refused:
        framework_import(code="NSAT", name="Tool", upload=csv(content), filename="f.csv")
    messages = [str(problem) for problem in refused.value.problems]
    assert any("“area_name_zh_hans”" in m and "“area_name_zh” already" in m for m in messages), messages
    assert any("row 3, column G" in m and "area N1 is named “Loi” on row 2" in m for m in messages), messages


def test_a_name_holding_direction_overrides_is_refused_where_it_is():
    content = (
        "area_code,area_name,indicator_code,indicator_name,area_name_ar\nN1,Law,N1.1,Public health law,\u202eقانون\n"
    )
    with pytest.raises(ImportRefused) as refused:
        framework_import(code="NSAT", name="Tool", upload=csv(content), filename="f.csv")
    messages = [str(problem) for problem in refused.value.problems]
    assert any("row 2, column E" in m and "U+202E" in m and "“area_name_ar”" in m for m in messages), messages


def test_the_names_migration_gives_the_reference_names_and_keeps_names_it_has_none_for():
    TechnicalArea.objects.filter(framework__code="SPAR2", code="C4").update(names={})
    indicator = Indicator.objects.get(framework__code="JEE3", code="P2.1")
    indicator.names = {"fr": "Ressources financières pour la mise en œuvre du RSI"}
    indicator.save()
    reference_names_load(Framework=Framework, TechnicalArea=TechnicalArea, Indicator=Indicator)
    assert TechnicalArea.objects.get(framework__code="SPAR2", code="C4").names["ru"] == "Лаборатории"
    assert Indicator.objects.get(pk=indicator.pk).names == indicator.names


def test_a_name_columns_language_is_read_as_the_site_names_it():
    assert [name_language_of(suffix) for suffix in ("FR", "zh", "zh_hans", "zh-Hans", "xx", "en")] == [
        "fr", "zh-hans", "zh-hans", "zh-hans", None, None,
    ]  # fmt: skip


def test_a_page_in_french_shows_the_french_area_names(client, plan, lead):
    lead.language = "fr"
    lead.save()
    client.force_login(lead)
    page = client.get(f"/plans/{plan.pk}/targets/").content.decode()
    assert "P1 Instruments juridiques" in page and "D2 Surveillance" in page
    assert "Legal Instruments" not in page
    assert "P1.1 Legal instruments" in page  # no French name for the indicator: the English
