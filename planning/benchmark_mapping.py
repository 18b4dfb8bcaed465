"""The mapping of the WHO Benchmarks platform's benchmark indicators ("1.1" ... "18.1") to frameworks' indicators,
as a CSV file an administrator exports and imports in the admin (the layout of the shipped
planning/reference/benchmark_indicator_mapping.csv: framework, benchmark_indicator, indicator, and any other
column, such as subject, left unread). An import replaces the mapping of every framework the file names, all or
nothing; a benchmark indicator a framework has no counterpart for is simply absent.
"""

from __future__ import annotations

import csv
import io
import re
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext, ngettext

from naphs.services import audit_record
from naphs.spreadsheets import ImportRefused, Problem, find_header, read_spreadsheet
from planning.models import BenchmarkIndicatorLink, Framework, Indicator, indicator_code_key

COLUMNS = ("framework", "benchmark_indicator", "indicator")
BENCHMARK_NUMBER = re.compile(r"^\d{1,2}\.\d{1,2}$")


def _key(value: Any) -> str:
    return "_".join(str(value or "").lower().replace("-", " ").split())


def benchmark_mapping_export() -> bytes:
    """Every link, in the import's layout (UTF-8 CSV)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    links = BenchmarkIndicatorLink.objects.select_related("indicator__framework").order_by(
        "indicator__framework__code", "benchmark_indicator", "indicator__order", "indicator__code"
    )
    for link in links:
        writer.writerow([link.indicator.framework.code, link.benchmark_indicator, link.indicator.code])
    return buffer.getvalue().encode("utf-8")


def benchmark_mapping_import(*, upload: IO[bytes], filename: str, by: Any = None) -> dict[str, int]:
    """Replace the mapping of the frameworks the file names by the file's rows, all or nothing. Returns the links
    per framework code; ImportRefused lists every problem by row and column."""
    sheets = read_spreadsheet(upload, name=filename, limits="framework")
    problems: list[Problem] = []
    frameworks = {indicator_code_key(f.code): f for f in Framework.objects.all()}
    indicators = {
        (i.framework_id, indicator_code_key(i.code)): i for i in Indicator.objects.only("pk", "code", "framework_id")
    }
    rows: dict[tuple[int, str, int], tuple[Framework, str, Indicator]] = {}
    sheet = sheets[0] if sheets else None
    header = find_header(sheet, required=COLUMNS, key=_key) if sheet is not None else None
    if sheet is None or header is None or any(name not in header[1] for name in COLUMNS):
        raise ImportRefused(
            [gettext("The file needs a header row with the columns %(columns)s.") % {"columns": ", ".join(COLUMNS)}]
        )
    header_index, columns = header
    for index in range(header_index + 1, len(sheet.rows)):
        row = sheet.rows[index]
        values = {name: " ".join(str(row[p] if p < len(row) and row[p] is not None else "").split())
                  for name, p in columns.items() if name in COLUMNS}  # fmt: skip
        if not any(values.values()):
            continue

        def problem(name: str, message: str, index: int = index) -> None:
            problems.append(sheet.problem(message, row=index + 1, column=columns[name] + 1))

        framework = frameworks.get(indicator_code_key(values["framework"]))
        if framework is None:
            problem("framework", gettext("“%(code)s” is not a framework here.") % {"code": values["framework"]})
            continue
        number = values["benchmark_indicator"]
        if not BENCHMARK_NUMBER.match(number):
            problem(
                "benchmark_indicator",
                gettext("“%(number)s” is not a benchmark indicator's number such as 1.1.") % {"number": number},
            )
            continue
        indicator = indicators.get((framework.pk, indicator_code_key(values["indicator"])))
        if indicator is None:
            problem(
                "indicator",
                gettext("“%(code)s” is not an indicator of %(framework)s.")
                % {"code": values["indicator"], "framework": framework.code},
            )
            continue
        key = (framework.pk, number, indicator.pk)
        if key in rows:
            problem("indicator", gettext("this row is in the file twice."))
            continue
        rows[key] = (framework, number, indicator)
    if not problems and not rows:
        problems.append(Problem(gettext("The file holds no mapping.")))
    if problems:
        raise ImportRefused(problems)
    counts: dict[str, int] = {}
    with transaction.atomic():
        named = {framework for framework, _number, _indicator in rows.values()}
        for framework in sorted(named, key=lambda f: f.code):
            BenchmarkIndicatorLink.objects.filter(indicator__framework=framework).delete()
            links = [(n, i) for f, n, i in rows.values() if f == framework]
            BenchmarkIndicatorLink.objects.bulk_create(
                BenchmarkIndicatorLink(benchmark_indicator=n, indicator=i) for n, i in links
            )
            counts[framework.code] = len(links)
            audit_record(
                plan=None,
                by=by,
                action="imported the benchmark indicator mapping of",
                target=framework,
                changes={"file": filename, "links": len(links)},
            )
    return counts


def mapping_import_summary(counts: dict[str, int]) -> str:
    return " ".join(
        ngettext(
            "%(framework)s: %(count)d benchmark indicator link.",
            "%(framework)s: %(count)d benchmark indicator links.",
            count,
        )
        % {"framework": code, "count": count}
        for code, count in counts.items()
    )
