"""The reference frameworks carried by the product (planning/reference/*.csv), loaded by migration.

`reference_load` takes the model classes to use, so the data migration can pass its historical models and
a later migration can load a corrected copy with the same code. Loading twice changes nothing.

frameworks.csv is in the layout of the admin's framework import: besides each area's and indicator's English
name, its name in another language where WHO's is known, in columns such as `area_name_fr` and
`indicator_name_zh`. `reference_names_load` gives the names to frameworks loaded before there were any.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from naphs.languages import name_language_of

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
FRAMEWORK_NAMES = {
    "JEE3": "Joint External Evaluation, 3rd edition (2022)",
    "SPAR2": "State Party Self-Assessment Annual Reporting, 2nd edition (2021)",
    "JEE1": "Joint External Evaluation tool, 1st edition (2016)",
    "JEE2": "Joint External Evaluation tool, 2nd edition (2018)",
    "SPAR1": "State Party self-assessment annual reporting tool, 1st edition (2018)",
}
# The crosswalks carried by the product: (file, from framework, to framework, name). Each was matched by subject
# for this product; none is an official WHO table. An older framework reaches the current framework of the other
# kind through two of them (JEE 2 to JEE 3 to SPAR 2; SPAR 1 to SPAR 2 to JEE 3).
CROSSWALKS = (
    ("crosswalk_jee3_spar2.csv", "JEE3", "SPAR2", "JEE 3 – SPAR 2"),
    ("crosswalk_jee1_jee3.csv", "JEE1", "JEE3", "JEE 1 – JEE 3"),
    ("crosswalk_jee2_jee3.csv", "JEE2", "JEE3", "JEE 2 – JEE 3"),
    ("crosswalk_spar1_spar2.csv", "SPAR1", "SPAR2", "SPAR 1 – SPAR 2"),
)
CROSSWALK_NOTE = (
    "Matched by subject for NAPHS Planner: each indicator linked to those of the other framework that cover the "
    "same capacity. An approximate correspondence, not an official WHO table; edit it where a country knows better."
)
# The frameworks' names as WHO writes them in its other official languages.
FRAMEWORK_NAMES_IN_LANGUAGES = {
    "JEE3": {
        "fr": "Évaluation externe conjointe, 3e édition (2022)",
        "es": "Evaluación externa conjunta, tercera edición (2022)",
        "ar": "التقييم الخارجي المشترك، الطبعة الثالثة (2022)",
        "ru": "Совместная внешняя оценка, третье издание (2022)",
        "zh-hans": "联合外部评估，第三版（2022年）",
    },
    "SPAR2": {
        "fr": "Autoévaluation pour l’établissement de rapports annuels par les États Parties, 2e édition (2021)",
        "es": "Autoevaluación para la presentación anual de informes de los Estados Partes, segunda edición (2021)",
        "ar": "التقييم الذاتي لتقديم التقارير السنوية للدول الأطراف، الطبعة الثانية (2021)",
        "ru": "Ежегодная отчетность государств-участников по самооценке, второе издание (2021)",
        "zh-hans": "缔约国年度自评报告，第二版（2021年）",
    },
}


def _rows(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _names(row: dict[str, str], column: str) -> dict[str, str]:
    """The names in other languages a row gives beside `column` (area_name_fr, area_name_zh, ...)."""
    names = {}
    for heading, value in row.items():
        if heading.startswith(f"{column}_") and (value or "").strip():
            language = name_language_of(heading.removeprefix(f"{column}_"))
            if language is None:
                raise ValueError(f"{heading}: not a language the product offers.")
            names[language] = value.strip()
    return names


def _has_names(model: Any) -> bool:
    """Whether the (historical) model has its names in other languages yet."""
    return any(field.name == "names" for field in model._meta.get_fields())


def reference_load(
    *, Framework: Any, TechnicalArea: Any, Indicator: Any, CrosswalkLink: Any, update: bool = True
) -> None:
    """Load every framework of frameworks.csv and the crosswalks. `update=False` only adds what is missing (a later
    migration bringing new frameworks), leaving names an administrator corrected as they are."""
    with_names = _has_names(TechnicalArea)

    def put(model: Any, defaults: dict[str, Any], **keys: Any) -> tuple[Any, bool]:
        if update:
            return model.objects.update_or_create(defaults=defaults, **keys)
        return model.objects.get_or_create(defaults=defaults, **keys)

    frameworks: dict[str, Any] = {}
    areas: dict[tuple[str, str], Any] = {}
    indicators: dict[str, Any] = {}
    for order, row in enumerate(_rows("frameworks.csv"), start=1):
        code = row["framework"]
        if code not in frameworks:
            defaults: dict[str, Any] = {"name": FRAMEWORK_NAMES.get(code, code)}
            if with_names:
                defaults["names"] = FRAMEWORK_NAMES_IN_LANGUAGES.get(code, {})
            frameworks[code], _ = put(Framework, defaults, code=code)
        framework = frameworks[code]
        key = (code, row["area_code"])
        if key not in areas:
            defaults = {"name": row["area_name"], "pillar": row["pillar"], "order": len(areas) + 1}
            if with_names:
                defaults["names"] = _names(row, "area_name")
            areas[key], _ = put(TechnicalArea, defaults, framework=framework, code=row["area_code"])
        defaults = {"technical_area": areas[key], "name": row["indicator_name"], "order": order}
        if with_names:
            defaults["names"] = _names(row, "indicator_name")
        indicators[f"{code}:{row['indicator_code']}"], _ = put(
            Indicator, defaults, framework=framework, code=row["indicator_code"]
        )
    crosswalk_field = next((f for f in CrosswalkLink._meta.get_fields() if f.name == "crosswalk"), None)
    if crosswalk_field is None:
        # Before crosswalks had names (the first migration): its links alone; a later migration gives them theirs.
        for row in _rows("crosswalk_jee3_spar2.csv"):
            CrosswalkLink.objects.get_or_create(
                source=indicators[f"JEE3:{row['jee3_indicator']}"],
                target=indicators[f"SPAR2:{row['spar2_indicator']}"],
            )
        return
    crosswalks_load(
        Crosswalk=crosswalk_field.related_model,
        CrosswalkLink=CrosswalkLink,
        frameworks=frameworks,
        indicators=indicators,
    )


def crosswalks_load(
    *, Crosswalk: Any, CrosswalkLink: Any, frameworks: dict[str, Any], indicators: dict[str, Any]
) -> None:
    """Create each crosswalk the product carries, with the links of its file, once: links made before crosswalks
    had names join theirs, and a crosswalk an administrator has edited keeps its links."""
    for filename, source, target, name in CROSSWALKS:
        crosswalk, _created = Crosswalk.objects.get_or_create(
            source_framework=frameworks[source],
            target_framework=frameworks[target],
            defaults={"name": name, "approximate": True, "note": CROSSWALK_NOTE},
        )
        CrosswalkLink.objects.filter(
            crosswalk__isnull=True, source__framework=frameworks[source], target__framework=frameworks[target]
        ).update(crosswalk=crosswalk)
        if CrosswalkLink.objects.filter(crosswalk=crosswalk).exists():
            continue
        source_column, target_column = f"{source.lower()}_indicator", f"{target.lower()}_indicator"
        for row in _rows(filename):
            CrosswalkLink.objects.get_or_create(
                crosswalk=crosswalk,
                source=indicators[f"{source}:{row[source_column]}"],
                target=indicators[f"{target}:{row[target_column]}"],
            )


def _names_add(queryset: Any, names: dict[str, str]) -> None:
    """Add `names` to the rows, keeping a name of another language one of them has."""
    if not names:
        return
    for row in queryset:
        if {**row.names, **names} != row.names:
            row.names = {**row.names, **names}
            row.save(update_fields=["names"])


def reference_names_load(*, Framework: Any, TechnicalArea: Any, Indicator: Any) -> None:
    """Give the reference frameworks of an installation their names in other languages, leaving the rest (English
    names an administrator corrected, areas or indicators added) as it is."""
    for code, names in FRAMEWORK_NAMES_IN_LANGUAGES.items():
        _names_add(Framework.objects.filter(code=code), names)
    seen = set()
    for row in _rows("frameworks.csv"):
        code = row["framework"]
        if (code, row["area_code"]) not in seen:
            seen.add((code, row["area_code"]))
            areas = TechnicalArea.objects.filter(framework__code=code, code=row["area_code"])
            _names_add(areas, _names(row, "area_name"))
        indicators = Indicator.objects.filter(framework__code=code, code=row["indicator_code"])
        _names_add(indicators, _names(row, "indicator_name"))


BENCHMARK_MAPPING_FILE = "benchmark_indicator_mapping.csv"


def benchmark_mapping_rows() -> list[tuple[str, str, str]]:
    """The shipped mapping of the WHO Benchmarks platform's indicators ("1.1") to frameworks' indicators: (framework
    code, benchmark indicator, indicator code) per row."""
    return [(row["framework"], row["benchmark_indicator"], row["indicator"]) for row in _rows(BENCHMARK_MAPPING_FILE)]


def benchmark_mapping_load(*, Indicator: Any, BenchmarkIndicatorLink: Any) -> int:
    """Add the shipped mapping's links an installation does not have (of frameworks it has); links an administrator
    added are kept. Returns the links added."""
    indicators = {(i.framework.code, i.code): i for i in Indicator.objects.select_related("framework")}
    added = 0
    for framework, benchmark_indicator, code in benchmark_mapping_rows():
        indicator = indicators.get((framework, code))
        if indicator is None:
            continue
        _link, created = BenchmarkIndicatorLink.objects.get_or_create(
            benchmark_indicator=benchmark_indicator, indicator=indicator
        )
        added += created
    return added
