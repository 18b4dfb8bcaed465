"""Crosswalks between frameworks: how scores and library actions of one framework (an older JEE or SPAR edition)
reach the indicators of another (the plan's), and a crosswalk's links read from and written to a CSV file.

A route from one framework to another is the crosswalks between the two, in either direction; where there are
none, the crosswalks through one framework in between (JEE 2 to JEE 3, then JEE 3 to SPAR 2). Each route maps an
indicator to the indicators it corresponds to; carrying scores along it keeps the lowest where several meet.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from naphs.spreadsheets import ImportRefused, Problem, read_spreadsheet
from planning.models import Crosswalk, CrosswalkLink, Framework, Indicator, crosswalk_label, indicator_code_key


@dataclass(frozen=True)
class LinkRow:
    """One link as routes read it: its two indicators and frameworks, and its crosswalk's name."""

    source_id: int
    target_id: int
    source_framework_id: int
    target_framework_id: int
    crosswalk: str
    approximate: bool

    @property
    def label(self) -> str:
        return crosswalk_label(self.crosswalk, approximate=self.approximate)


def crosswalk_links_touching(framework_ids: Collection[int]) -> list[LinkRow]:
    """Every link of the crosswalks that have one of `framework_ids` at either end: one query. Routes of one
    or two steps between any two of those frameworks need no other link."""
    if not framework_ids:
        return []
    touching = Q(crosswalk__source_framework__in=framework_ids) | Q(crosswalk__target_framework__in=framework_ids)
    return [
        LinkRow(*values)
        for values in CrosswalkLink.objects.filter(touching).values_list(
            "source_id",
            "target_id",
            "crosswalk__source_framework_id",
            "crosswalk__target_framework_id",
            "crosswalk__name",
            "crosswalk__approximate",
        )
    ]


@dataclass
class Route:
    """How the indicators of one framework map to those of another: {indicator id: {indicator ids}}, and the
    crosswalks it goes through (their labels, in order) and whether any of them is approximate."""

    mapping: dict[int, set[int]] = field(default_factory=dict)
    crosswalks: tuple[str, ...] = ()
    approximate: bool = False


def _steps(links: Iterable[LinkRow], start: int, end: int) -> tuple[dict[int, set[int]], list[str], bool]:
    """The links between two frameworks, in either direction, as a mapping from `start`'s indicators."""
    mapping: dict[int, set[int]] = defaultdict(set)
    labels: list[str] = []
    approximate = False
    for link in links:
        ends = (link.source_framework_id, link.target_framework_id)
        if ends == (start, end):
            mapping[link.source_id].add(link.target_id)
        elif ends == (end, start):
            mapping[link.target_id].add(link.source_id)
        else:
            continue
        if link.label not in labels:
            labels.append(link.label)
        approximate = approximate or link.approximate
    return dict(mapping), labels, approximate


def crosswalk_route(*, links: list[LinkRow], start: int, end: int) -> Route | None:
    """The route from framework `start` to framework `end`: their own crosswalks, else those through one framework
    in between (every such framework counts); None when nothing links them."""
    mapping, labels, approximate = _steps(links, start, end)
    if mapping:
        return Route(mapping=mapping, crosswalks=tuple(labels), approximate=approximate)
    middles = {fw for link in links for fw in (link.source_framework_id, link.target_framework_id)} - {start, end}
    route = Route()
    through: list[str] = []
    for middle in sorted(middles):
        first, first_labels, first_approximate = _steps(links, start, middle)
        second, second_labels, second_approximate = _steps(links, middle, end)
        if not first or not second:
            continue
        for indicator, middles_of in first.items():
            reached = set().union(*(second.get(m, set()) for m in middles_of))
            if reached:
                route.mapping.setdefault(indicator, set()).update(reached)
        through += [label for label in (*first_labels, *second_labels) if label not in through]
        route.approximate = route.approximate or first_approximate or second_approximate
    if not route.mapping:
        return None
    route.crosswalks = tuple(through)
    return route


def route_carry(route: Route, scores: dict[int, int]) -> dict[int, int]:
    """Scores carried along a route; where several meet on one indicator, the lowest."""
    levels: dict[int, int] = {}
    for indicator_id, level in scores.items():
        for reached in route.mapping.get(indicator_id, ()):
            levels[reached] = min(level, levels.get(reached, level))
    return levels


# --- A crosswalk's links as a CSV file ------------------------------------------------------------------------


def _heading_key(value: Any) -> str:
    return indicator_code_key(str(value or "").strip().lower().removesuffix("_indicator").removesuffix(" indicator"))


def crosswalk_export(*, crosswalk: Crosswalk) -> bytes:
    """The crosswalk's links as CSV (UTF-8): a header naming the two frameworks (`jee2_indicator,jee3_indicator`,
    as the files in planning/reference/), then one row per link, by the indicators' order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [f"{crosswalk.source_framework.code.lower()}_indicator", f"{crosswalk.target_framework.code.lower()}_indicator"]
    )
    links = crosswalk.links.select_related("source", "target").order_by("source__order", "target__order")
    for link in links:
        writer.writerow([link.source.code, link.target.code])
    return out.getvalue().encode("utf-8")


def _indicators_of(framework: Framework) -> dict[str, Indicator]:
    return {indicator_code_key(i.code): i for i in Indicator.objects.filter(framework=framework)}


def _frameworks_by_code() -> dict[str, list[str]]:
    """Every framework's indicator codes, to say whose a misplaced code is: {code as printed: [framework codes]},
    and {code key: [framework codes]} under "key:" for a code printed otherwise."""
    frameworks: dict[str, list[str]] = defaultdict(list)
    for code, framework in Indicator.objects.values_list("code", "framework__code").order_by("framework__code"):
        frameworks["".join(code.split()).upper()].append(framework)
        frameworks[f"key:{indicator_code_key(code)}"].append(framework)
    return frameworks


def _whose(code: str, frameworks: dict[str, list[str]]) -> list[str]:
    return frameworks.get("".join(code.split()).upper()) or frameworks.get(f"key:{indicator_code_key(code)}", [])


@transaction.atomic
def crosswalk_import(*, crosswalk: Crosswalk, upload: IO[bytes], filename: str) -> int:
    """Replace the crosswalk's links by those of a file (.csv or .xlsx): a header row naming its two frameworks
    (`jee2_indicator`, `jee3_indicator`, or just the codes), then one row per link. All or nothing: an unknown
    code, an indicator of another framework or the same pair twice is refused with its row and column. Returns
    the number of links."""
    source, target = crosswalk.source_framework, crosswalk.target_framework
    sheets = read_spreadsheet(upload, name=filename, limits="framework")
    sheet = next((s for s in sheets if any(any(str(v or "").strip() for v in row) for row in s.rows)), None)
    if sheet is None:
        raise ImportRefused([gettext("The file holds no rows to import.")])
    header_index = next(i for i, row in enumerate(sheet.rows) if any(str(v or "").strip() for v in row))
    headings = [_heading_key(value) for value in sheet.rows[header_index]]
    wanted = (indicator_code_key(source.code.lower()), indicator_code_key(target.code.lower()))
    if wanted[0] not in headings or wanted[1] not in headings:
        message = gettext(
            "the header row needs a column for each framework of the crosswalk: %(source)s and %(target)s "
            "(e.g. %(example)s)."
        ) % {
            "source": f"{source.code.lower()}_indicator",
            "target": f"{target.code.lower()}_indicator",
            "example": f"{source.code.lower()}_indicator,{target.code.lower()}_indicator",
        }
        raise ImportRefused([sheet.problem(message, row=header_index + 1)])
    columns = (headings.index(wanted[0]), headings.index(wanted[1]))
    sides = ((source, _indicators_of(source)), (target, _indicators_of(target)))
    problems: list[Problem] = []
    pairs: dict[tuple[int, int], int] = {}
    elsewhere: dict[str, list[str]] | None = None
    for index in range(header_index + 1, len(sheet.rows)):
        row = sheet.rows[index]
        if not any(str(v or "").strip() for v in row):
            continue
        ends: list[Indicator | None] = []
        for column, (framework, indicators) in zip(columns, sides, strict=True):
            value = row[column] if column < len(row) else None
            code = str(value if value is not None else "").strip()
            indicator = indicators.get(indicator_code_key(code))
            if indicator is None:
                if not code:
                    message = gettext("no indicator code; each row links an indicator of %(framework)s.") % {
                        "framework": framework.code
                    }
                elif others := _whose(code, elsewhere := elsewhere or _frameworks_by_code()):
                    message = gettext(
                        "“%(code)s” is an indicator of %(others)s, not of %(framework)s; this column takes "
                        "indicators of %(framework)s."
                    ) % {"code": code, "others": ", ".join(others), "framework": framework.code}
                else:
                    message = gettext("“%(code)s” is not an indicator of %(framework)s.") % {
                        "code": code,
                        "framework": framework.code,
                    }
                problems.append(sheet.problem(message, row=index + 1, column=column + 1))
            ends.append(indicator)
        first, second = ends
        if first is None or second is None:
            continue
        key = (first.pk, second.pk)
        if key in pairs:
            message = gettext("%(source)s → %(target)s is linked already in row %(row)d.") % {
                "source": first.code,
                "target": second.code,
                "row": pairs[key],
            }
            problems.append(sheet.problem(message, row=index + 1, column=columns[0] + 1))
            continue
        pairs[key] = index + 1
    if problems:
        raise ImportRefused(problems)
    if not pairs:
        raise ImportRefused([sheet.problem(gettext("no links found; expected a row per pair of indicators."))])
    Crosswalk.objects.select_for_update().filter(pk=crosswalk.pk).first()
    crosswalk.links.all().delete()
    CrosswalkLink.objects.bulk_create(
        CrosswalkLink(crosswalk=crosswalk, source_id=first, target_id=second) for first, second in pairs
    )
    return len(pairs)
