"""`make bench`, WHO's files: the WHO Benchmarks platform's seed files at their published size (44 benchmark
indicators, about 1,000 levelled actions, the three diseases' actions, 300 reference documents) imported into a JEE 3
library, beside the product's own JSON library of the same actions imported in the same run; and a plan of 2,000
activities with five cost lines each exported to the WHO costing tool's sheet and imported back unchanged, beside
the costing workbook of the same plan written in the same run. Figures, not assertions (target in brackets)."""

from __future__ import annotations

import io
import json
import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from costing.who import who_workbook, who_workbook_import
from costing.workbook import costing_workbook_build
from planning.benchmark_platform import platform_import
from planning.libraries import library_import
from planning.models import BenchmarkLibrary, Framework
from stakeholders.models import PlanMembership
from tests.bench_plan_workbook import build
from tests.planning.benchmark_seed import INDICATORS_PER_AREA, STRAY, as_uploads, benchmark_numbers, seed_files

ACTIONS_PER_LEVEL = 6  # 44 indicators x 4 levels x 6: 1,056 levelled actions, about the platform's 2019 count
DOCUMENTS = 300
REPEAT = 3


def published_size() -> dict[str, object]:
    files = seed_files()
    actions = []
    for number in benchmark_numbers():
        for level in range(2, 6):
            for n in range(1, ACTIONS_PER_LEVEL + 1):
                actions.append(
                    {
                        "benchmark_indicator_display_abbreviation": number,
                        "text": f"Bench step {n} towards level {level} of {number}, with the partners it names.",
                        "level": level,
                        "sequence": len(actions) + 1,
                        "action_types": [(len(actions) % 15) + 1, ((len(actions) + 4) % 15) + 1],
                    }
                )
    files["benchmark_indicator_actions.json"] = actions
    document = STRAY["reference_library_documents.json"][0]  # type: ignore[index]
    files["reference_library_documents.json"] = [
        {**document, "id": n, "download_url": f"https://guidance.example.org/{n}.pdf",
         "benchmark_indicator_action_ids": [1 + (n * 7) % len(actions), 1 + (n * 13) % len(actions)]}
        for n in range(1, DOCUMENTS + 1)
    ]  # fmt: skip
    return files


def own_json(files: dict[str, object]) -> bytes:
    """The same levelled actions in the product's own JSON layout, on the JEE 3 indicator the mapping gives first."""
    from planning.models import BenchmarkIndicatorLink

    first: dict[str, str] = {}
    for number, code in BenchmarkIndicatorLink.objects.filter(indicator__framework__code="JEE3").values_list(
        "benchmark_indicator", "indicator__code"
    ):
        first.setdefault(number, code)
    actions = [
        {"indicator": first[a["benchmark_indicator_display_abbreviation"]], "level": a["level"], "action": a["text"],
         "action_types": ["training"]}
        for a in files["benchmark_indicator_actions.json"]  # type: ignore[attr-defined]
    ]  # fmt: skip
    return json.dumps({"framework": "JEE3", "name": "Bench own layout", "actions": actions}).encode()


@pytest.mark.django_db
def test_bench_benchmark_platform_import(capsys):
    jee3 = Framework.objects.get(code="JEE3")
    files = published_size()
    platform_times, own_times, queries = [], [], 0
    imported = None
    for _ in range(REPEAT):
        BenchmarkLibrary.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            imported = platform_import(framework=jee3, files=as_uploads(files))
            platform_times.append(time.perf_counter() - started)
        queries = len(captured)
        started = time.perf_counter()
        library_import(framework=None, name="", upload=io.BytesIO(own_json(files)), filename="own.json")
        own_times.append(time.perf_counter() - started)
    assert imported is not None
    seconds, own = statistics.median(platform_times), statistics.median(own_times)
    with capsys.disabled():
        print(f"\n\nWHO Benchmarks platform's files ({connection.vendor}; {sum(INDICATORS_PER_AREA)} indicators)")
        print(
            f"  {imported.levelled:,} levelled actions, {sum(imported.by_disease.values())} disease actions, "
            f"{imported.rows:,} action rows, {DOCUMENTS} documents: {seconds:.2f} s, {queries} queries [< 10 s]"
        )
        print(f"  the product's own JSON library of the same {imported.levelled:,} actions: {own:.2f} s")
        print(f"  ratio platform ÷ own layout: {seconds / own:.2f}")


@pytest.mark.django_db
def test_bench_who_costing_tool(capsys):
    plan = build(2000)
    membership = PlanMembership.objects.get(plan=plan)
    export_times = []
    content = b""
    for _ in range(REPEAT):
        started = time.perf_counter()
        content = who_workbook(plan)
        export_times.append(time.perf_counter() - started)
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        report = who_workbook_import(plan=plan, by=membership.user, upload=io.BytesIO(content), filename="tool.xlsx")
    import_seconds = time.perf_counter() - started
    rows = plan.cost_lines.count()
    costing_times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        costing_workbook_build(plan=plan, membership=membership)
        costing_times.append(time.perf_counter() - started)
    export_seconds, costing_seconds = statistics.median(export_times), statistics.median(costing_times)
    with capsys.disabled():
        print(f"\n\nWHO costing tool sheet ({connection.vendor}; 2,000 activities, {rows:,} cost lines)")
        print(
            f"  export: {export_seconds:.2f} s = {rows / export_seconds:,.0f} rows/s, {len(content) / 1e6:.1f} MB "
            "[≥ 5,000 rows/s]"
        )
        print(
            f"  import of that file unchanged: {import_seconds:.2f} s = {rows / import_seconds:,.0f} rows/s, "
            f"{len(captured)} queries, changed anything: {report.changed_anything}"
        )
        print(f"  the costing workbook of the same plan: {costing_seconds:.2f} s")
        print(f"  ratio WHO sheet export ÷ costing workbook: {export_seconds / costing_seconds:.2f}")
