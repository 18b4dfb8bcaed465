"""The reference frameworks carried by the product (planning/reference/*.csv), loaded by migration.

`reference_load` takes the model classes to use, so the data migration can pass its historical models and
a later migration can load a corrected copy with the same code. Loading twice changes nothing.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
FRAMEWORK_NAMES = {
    "JEE3": "Joint External Evaluation, 3rd edition (2022)",
    "SPAR2": "State Party Self-Assessment Annual Reporting, 2nd edition (2021)",
}


def _rows(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def reference_load(*, Framework: Any, TechnicalArea: Any, Indicator: Any, CrosswalkLink: Any) -> None:
    frameworks: dict[str, Any] = {}
    areas: dict[tuple[str, str], Any] = {}
    indicators: dict[str, Any] = {}
    for order, row in enumerate(_rows("frameworks.csv"), start=1):
        code = row["framework"]
        if code not in frameworks:
            frameworks[code], _ = Framework.objects.update_or_create(
                code=code, defaults={"name": FRAMEWORK_NAMES.get(code, code)}
            )
        framework = frameworks[code]
        key = (code, row["area_code"])
        if key not in areas:
            areas[key], _ = TechnicalArea.objects.update_or_create(
                framework=framework,
                code=row["area_code"],
                defaults={"name": row["area_name"], "pillar": row["pillar"], "order": len(areas) + 1},
            )
        indicators[f"{code}:{row['indicator_code']}"], _ = Indicator.objects.update_or_create(
            framework=framework,
            code=row["indicator_code"],
            defaults={"technical_area": areas[key], "name": row["indicator_name"], "order": order},
        )
    for row in _rows("crosswalk_jee3_spar2.csv"):
        CrosswalkLink.objects.get_or_create(
            source=indicators[f"JEE3:{row['jee3_indicator']}"], target=indicators[f"SPAR2:{row['spar2_indicator']}"]
        )
