"""Guidance beside the actions: WHO's reference library, imported with a benchmark library, and the national guidance
a plan's secretariat adds.

The WHO Benchmarks platform publishes its reference library as one JSON array of documents (title, type, link,
description, author, date, relevant pages, technical area), each citing the benchmark actions it helps with by the
platform's number of the action (`benchmark_indicator_action_ids`); an older export cites them by their text
(`benchmark_indicator_actions`). platform_guidance_import reads that array into a library, all or nothing.

Reads: guidance_for_activities gives each activity the documents of its source action and the national guidance
tied to it or its technical area, in a constant number of queries; guidance_list_for_plan the plan's page.
Writes: guidance_create, guidance_update and guidance_delete, the secretariat's, each recorded in the audit trail.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext, ngettext

from naphs.models import max_length
from naphs.services import audit_record, versioned_update
from naphs.spreadsheets import ImportRefused, Problem
from planning.models import (
    Activity,
    BenchmarkLibrary,
    GuidanceDocument,
    GuidanceType,
    Plan,
    TechnicalArea,
    validate_guidance_link,
)

if TYPE_CHECKING:
    from stakeholders.models import User

TITLE_MAX_LENGTH = max_length(GuidanceDocument, "title")
LINK_MAX_LENGTH = max_length(GuidanceDocument, "link")
TEXT_LIMITS = {
    "author": max_length(GuidanceDocument, "author"),
    "date": max_length(GuidanceDocument, "date"),
    "relevant_pages": max_length(GuidanceDocument, "relevant_pages"),
    "technical_area": max_length(GuidanceDocument, "technical_area_name"),
}
DESCRIPTION_MAX_LENGTH = 5000
MAX_DOCUMENTS = 20_000  # the platform's library holds a few hundred


def _key(text: object) -> str:
    return " ".join(str(text or "").split()).casefold()


def _type_names() -> dict[str, str]:
    """A type is recognised by WHO's English name ("Training Package"), its code, or its label in any case."""
    with translation.override(None):
        names = {_key(label): code for code, label in GuidanceType.choices}
    names.update({_key(code.replace("_", " ")): code for code in GuidanceType.values})
    names.update({_key(code): code for code in GuidanceType.values})
    return names


def _one_line(value: object) -> str:
    return " ".join(str(value).split()) if value is not None else ""


@dataclass
class GuidanceImported:
    """What an import of a reference library did: documents saved, documents tied to at least one action, and the
    citations that matched no action of the library (each with the numbers of the documents citing it)."""

    documents: int = 0
    tied: int = 0
    unmatched: dict[str, list[int]] = field(default_factory=dict)

    @property
    def unmatched_count(self) -> int:
        return len(self.unmatched)


@dataclass
class _Document:
    number: int
    fields: dict[str, Any]
    ids: list[int]
    texts: list[str]


def _check_document(number: int, raw: object, *, filename: str, problems: list[Problem]) -> _Document | None:
    def problem(name: str, message: str) -> None:
        problems.append(
            Problem(
                # Translators: where a problem of a reference library file is: the file, the document's number in
                # it and a JSON key (title, download_url...), then what the problem is.
                gettext("%(file)s, document %(number)d, field %(field)s: %(problem)s")
                % {"file": filename, "number": number, "field": name, "problem": message}
            )
        )

    if not isinstance(raw, dict):
        problems.append(
            Problem(
                gettext("%(file)s, document %(number)d: must be an object with a title and a link.")
                % {"file": filename, "number": number}
            )
        )
        return None
    before = len(problems)
    title = _one_line(raw.get("title"))
    if not title:
        problem("title", gettext("the document has no title."))
    elif len(title) > TITLE_MAX_LENGTH:
        problem(
            "title",
            ngettext(
                "a title has at most %(limit)d character.",
                "a title has at most %(limit)d characters.",
                TITLE_MAX_LENGTH,
            )
            % {"limit": TITLE_MAX_LENGTH},
        )
    link_field = "download_url" if _one_line(raw.get("download_url")) else "url"
    link = _one_line(raw.get(link_field))
    if not link:
        problem("download_url", gettext("the document has no link (download_url or url)."))
    elif len(link) > LINK_MAX_LENGTH:
        problem(link_field, gettext("the link is longer than %(limit)d characters.") % {"limit": LINK_MAX_LENGTH})
    else:
        try:
            validate_guidance_link(link)
        except ValidationError:
            problem(link_field, gettext("“%(link)s” is not an http or https link.") % {"link": link[:100]})
    type_name = _one_line(raw.get("reference_type"))
    reference_type = _type_names().get(_key(type_name))
    if reference_type is None:
        with translation.override(None):
            known = ", ".join(str(label) for _code, label in GuidanceType.choices)
        if type_name:
            message = gettext("unknown type “%(type)s”; use one of: %(known)s.") % {"type": type_name, "known": known}
        else:
            message = gettext("the document has no type; use one of: %(known)s.") % {"known": known}
        problem("reference_type", message)
    description = str(raw.get("description") or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        problem(
            "description",
            gettext("a description has at most %(limit)d characters.") % {"limit": DESCRIPTION_MAX_LENGTH},
        )
    texts: dict[str, str] = {}
    for name, limit in TEXT_LIMITS.items():
        texts[name] = _one_line(raw.get(name))
        if len(texts[name]) > limit:
            problem(name, gettext("at most %(limit)d characters.") % {"limit": limit})
    ids: list[int] = []
    cited = raw.get("benchmark_indicator_action_ids")
    if cited is not None:
        items = cited if isinstance(cited, list) else [cited]
        for item in items:
            text = _one_line(item)
            if isinstance(item, bool) or not re.fullmatch(r"\d+(\.0+)?", text):
                problem(
                    "benchmark_indicator_action_ids",
                    gettext("“%(value)s” is not an action's number.") % {"value": text[:40]},
                )
                continue
            ids.append(int(float(text)))
    cited_texts = raw.get("benchmark_indicator_actions")
    action_texts: list[str] = []
    if cited_texts is not None:
        items = cited_texts if isinstance(cited_texts, list) else str(cited_texts).splitlines()
        action_texts = [text for item in items if (text := _one_line(item))]
    platform_id = raw.get("id")
    if len(problems) > before:
        return None
    return _Document(
        number=number,
        fields={
            "title": title,
            "link": link,
            "reference_type": reference_type,
            "description": description,
            "author": texts["author"],
            "date": texts["date"],
            "relevant_pages": texts["relevant_pages"],
            "technical_area_name": texts["technical_area"],
            "platform_id": platform_id if isinstance(platform_id, int) and not isinstance(platform_id, bool) else None,
        },
        ids=ids,
        texts=action_texts,
    )


def platform_guidance_import(*, library: BenchmarkLibrary, documents: object, filename: str) -> GuidanceImported:
    """Replace the library's reference documents with `documents` (the platform's JSON array, already parsed).

    Meant to run inside the library import's transaction: a shape error raises ImportRefused listing every problem
    ("file, document N, field F"), which undoes the whole import. A citation by number ties the document to every
    action of the library with that platform number (one action may sit under several indicators); by text, to
    the actions whose text is the same, whitespace aside. Citations that match nothing are reported, not refused.
    """
    problems: list[Problem] = []
    if not isinstance(documents, list):
        raise ImportRefused(
            [gettext("%(file)s: a reference library is a JSON list of documents.") % {"file": filename}]
        )
    if len(documents) > MAX_DOCUMENTS:
        raise ImportRefused(
            [
                gettext("%(file)s: more than %(limit)d documents; split the file.")
                % {"file": filename, "limit": MAX_DOCUMENTS}
            ]
        )
    checked = [_check_document(n, raw, filename=filename, problems=problems) for n, raw in enumerate(documents, 1)]
    if problems:
        raise ImportRefused(problems)
    by_number: dict[int, list[int]] = defaultdict(list)
    by_text: dict[str, list[int]] = defaultdict(list)
    for pk, number, text in library.actions.values_list("pk", "platform_id", "text"):
        if number is not None:
            by_number[number].append(pk)
        by_text[_key(text)].append(pk)
    result = GuidanceImported()
    with transaction.atomic():
        library.guidance_documents.all().delete()
        rows = [doc for doc in checked if doc is not None]
        saved = GuidanceDocument.objects.bulk_create(
            GuidanceDocument(library=library, order=doc.number, **doc.fields) for doc in rows
        )
        Through = GuidanceDocument.actions.through
        ties: list[Any] = []
        for doc, document in zip(rows, saved, strict=True):
            actions: set[int] = set()
            for number in doc.ids:
                found = by_number.get(number)
                if found:
                    actions.update(found)
                else:
                    result.unmatched.setdefault(f"#{number}", []).append(doc.number)
            for text in doc.texts:
                found = by_text.get(_key(text))
                if found:
                    actions.update(found)
                else:
                    result.unmatched.setdefault(text[:120], []).append(doc.number)
            if actions:
                result.tied += 1
            ties.extend(Through(guidancedocument_id=document.pk, benchmarkaction_id=pk) for pk in sorted(actions))
        Through.objects.bulk_create(ties)
        result.documents = len(saved)
    return result


# --- Reads ------------------------------------------------------------------------------------------------------


def _ordered(documents: Iterable[GuidanceDocument]) -> list[GuidanceDocument]:
    unique = {document.pk: document for document in documents}
    return sorted(unique.values(), key=lambda document: document.rank)


def national_plan_ids(plan: Plan) -> list[int]:
    """The plans whose national guidance the plan shows: its own, and for a provincial plan its national plan's."""
    if plan.parent_id is not None and plan.is_provincial:
        return [plan.pk, plan.parent_id]
    return [plan.pk]


def national_guidance_of(plan: Plan) -> QuerySet[GuidanceDocument]:
    return (
        GuidanceDocument.objects.filter(plan_id__in=national_plan_ids(plan))
        .select_related("plan")
        .prefetch_related("technical_areas", "activities")
        .order_by("plan_id", "order", "pk")
    )


def who_guidance_for_actions(action_ids: Iterable[int | None]) -> dict[int, list[GuidanceDocument]]:
    """WHO's documents of each benchmark action: one query."""
    ids = sorted({pk for pk in action_ids if pk is not None})
    found: dict[int, list[GuidanceDocument]] = defaultdict(list)
    if not ids:
        return found
    links = GuidanceDocument.actions.through.objects.filter(benchmarkaction_id__in=ids).select_related(
        "guidancedocument"
    )
    for link in links:
        found[link.benchmarkaction_id].append(link.guidancedocument)
    return found


def guidance_for_activities(
    *, plan: Plan, activities: Sequence[Activity], national: Sequence[GuidanceDocument] | None = None
) -> dict[int, list[GuidanceDocument]]:
    """Each activity's guidance: WHO's documents of its source action (tools and guidelines first), then the
    national guidance tied to the activity or to its technical area. At most four queries whatever the number of
    activities (fewer when `national` is given, already read)."""
    who = who_guidance_for_actions(activity.benchmark_action_id for activity in activities)
    national = list(national_guidance_of(plan)) if national is None else list(national)
    by_activity: dict[int, list[GuidanceDocument]] = defaultdict(list)
    by_area: dict[int, list[GuidanceDocument]] = defaultdict(list)
    for document in national:
        for activity in document.activities.all():
            by_activity[activity.pk].append(document)
        for area in document.technical_areas.all():
            by_area[area.pk].append(document)
    return {
        activity.pk: _ordered(
            [
                *who.get(activity.benchmark_action_id or 0, []),
                *by_activity.get(activity.pk, []),
                *by_area.get(activity.technical_area_id, []),
            ]
        )
        for activity in activities
    }


@dataclass
class CitedDocument:
    """One of WHO's documents the plan's activities cite, with how many of them do."""

    document: GuidanceDocument
    activities: int


def who_guidance_cited_by(plan: Plan) -> list[CitedDocument]:
    """WHO's documents cited by the source actions of the plan's activities, tools and guidelines first: two
    queries."""
    counts: dict[int, int] = defaultdict(int)
    for action_id in Activity.objects.filter(plan=plan, benchmark_action__isnull=False).values_list(
        "benchmark_action_id", flat=True
    ):
        counts[action_id] += 1
    per_document: dict[int, set[int]] = defaultdict(set)
    documents: dict[int, GuidanceDocument] = {}
    for action_id, found in who_guidance_for_actions(counts).items():
        for document in found:
            documents[document.pk] = document
            per_document[document.pk].add(action_id)
    return [
        CitedDocument(document, sum(counts[action] for action in per_document[document.pk]))
        for document in _ordered(documents.values())
    ]


def guidance_get_for_plan(*, plan: Plan, guidance_id: int) -> GuidanceDocument:
    """The plan's own national guidance with this id (a document of another plan, or WHO's, "does not exist")."""
    document = GuidanceDocument.objects.filter(plan=plan, pk=guidance_id).first()
    if document is None:
        raise Http404(gettext("No such guidance document."))
    document.plan = plan
    return document


# --- Writes: the secretariat's national guidance ----------------------------------------------------------------


def _check_ties(*, plan: Plan, areas: Sequence[TechnicalArea], activities: Sequence[Activity]) -> None:
    errors: dict[str, str] = {}
    foreign_areas = [area for area in areas if area.framework_id != plan.framework_id]
    if foreign_areas:
        errors["technical_areas"] = ngettext(
            "Not a technical area of this plan's framework: %(codes)s.",
            "Not technical areas of this plan's framework: %(codes)s.",
            len(foreign_areas),
        ) % {"codes": ", ".join(area.code for area in foreign_areas)}
    foreign_activities = [activity for activity in activities if activity.plan_id != plan.pk]
    if foreign_activities:
        errors["activities"] = ngettext(
            "Activity %(ids)s is not an activity of this plan.",
            "Activities %(ids)s are not activities of this plan.",
            len(foreign_activities),
        ) % {"ids": ", ".join(str(activity.pk) for activity in foreign_activities)}
    if errors:
        raise ValidationError(errors)


def _clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(fields)
    for name in ("title", "author", "date", "relevant_pages", "link"):
        if name in cleaned:
            cleaned[name] = _one_line(cleaned[name])
    if "description" in cleaned:
        cleaned["description"] = str(cleaned["description"] or "").strip()
    return cleaned


EDITABLE_FIELDS = ("title", "reference_type", "link", "description", "author", "date", "relevant_pages")


@transaction.atomic
def guidance_create(
    *,
    plan: Plan,
    by: User,
    technical_areas: Sequence[TechnicalArea] = (),
    activities: Sequence[Activity] = (),
    **fields: Any,
) -> GuidanceDocument:
    """Add national guidance to the plan, tied to technical areas of its framework and activities of the plan."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not fields of national guidance: {', '.join(sorted(unknown))}")
    areas, chosen = list(technical_areas), list(activities)
    _check_ties(plan=plan, areas=areas, activities=chosen)
    last = GuidanceDocument.objects.filter(plan=plan).order_by("-order").values_list("order", flat=True).first()
    document = GuidanceDocument(plan=plan, order=(last or 0) + 1, **_clean_fields(fields))
    document.full_clean()
    document.save()
    document.technical_areas.set(areas)
    document.activities.set(chosen)
    changes: dict[str, Any] = {name: [None, getattr(document, name)] for name in EDITABLE_FIELDS}
    changes["technical areas"] = [None, sorted(area.code for area in areas)]
    changes["activities"] = [None, sorted(activity.pk for activity in chosen)]
    audit_record(plan=plan, by=by, action="created", target=document, changes=changes)
    return document


@transaction.atomic
def guidance_update(
    *,
    document: GuidanceDocument,
    by: User,
    version: int,
    technical_areas: Sequence[TechnicalArea] | None = None,
    activities: Sequence[Activity] | None = None,
    **fields: Any,
) -> GuidanceDocument:
    """Change national guidance as the person last saw it (`version`): a stale edit is refused (EditConflict)."""
    plan = document.plan
    if plan is None:
        raise ValidationError(gettext("WHO's reference documents come with the library and are not edited here."))
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not fields of national guidance: {', '.join(sorted(unknown))}")
    areas = None if technical_areas is None else list(technical_areas)
    chosen = None if activities is None else list(activities)
    _check_ties(plan=plan, areas=areas or [], activities=chosen or [])
    changes = versioned_update(document, version=version, fields=_clean_fields(fields))
    if areas is not None:
        before = sorted(document.technical_areas.values_list("code", flat=True))
        after = sorted(area.code for area in areas)
        if before != after:
            changes["technical areas"] = [before, after]
        document.technical_areas.set(areas)
    if chosen is not None:
        before_ids = sorted(document.activities.values_list("pk", flat=True))
        after_ids = sorted(activity.pk for activity in chosen)
        if before_ids != after_ids:
            changes["activities"] = [before_ids, after_ids]
        document.activities.set(chosen)
    audit_record(plan=plan, by=by, action="edited", target=document, changes=changes)
    return document


@transaction.atomic
def guidance_delete(*, document: GuidanceDocument, by: User) -> None:
    plan = document.plan
    if plan is None:
        raise ValidationError(gettext("WHO's reference documents come with the library and are not removed here."))
    audit_record(plan=plan, by=by, action="deleted", target=document, changes={"title": [document.title, None]})
    document.delete()


def guidance_ids_for(plan: Plan) -> QuerySet[GuidanceDocument, Any]:
    """The ids of the guidance documents of a plan (as a subquery): national guidance of the plan and of its
    national plan, and WHO's documents its activities cite."""
    return GuidanceDocument.objects.filter(guidance_for_plan_q(plan)).values("pk")


def guidance_for_plan_q(plan: Plan) -> Q:
    """A filter on guidance documents: what the plan's document annex and guidance page may show."""
    cited = Activity.objects.filter(plan=plan, benchmark_action__isnull=False).values("benchmark_action_id")
    return Q(plan_id__in=national_plan_ids(plan)) | Q(actions__in=cited)


def guidance_imported_message(imported: GuidanceImported) -> str:
    """What an import did, in a sentence or two for the person who ran it."""
    message = ngettext(
        "%(count)d reference document imported, %(tied)d of them tied to actions.",
        "%(count)d reference documents imported, %(tied)d of them tied to actions.",
        imported.documents,
    ) % {"count": imported.documents, "tied": imported.tied}
    if imported.unmatched:
        shown = "; ".join(
            gettext("%(citation)s (document %(documents)s)")
            % {"citation": citation, "documents": ", ".join(str(number) for number in numbers[:5])}
            for citation, numbers in list(imported.unmatched.items())[:10]
        )
        message += " " + ngettext(
            "%(count)d citation matched no action of the library: %(shown)s.",
            "%(count)d citations matched no action of the library: %(shown)s.",
            imported.unmatched_count,
        ) % {"count": imported.unmatched_count, "shown": shown}
    return message
