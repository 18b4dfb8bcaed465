"""The audit trail as people read it: what each recorded change says, in the reader's language.

Services record events with naphs.services.audit_record; the kind of change (`AuditEvent.action`) is stored as
data, an English key. This module is the one place that turns a key into a sentence, a target type into the name
of a kind of object, and the stored changes into rows of field, before and after. The core knows the apps'
objects only by their model names (data), never by importing them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from naphs.models import AuditEvent

# One whole sentence per kind of change, so that each language can put the person who made it (%(actor)s) and
# the object it concerns (%(target)s) where its grammar wants them.
AUDIT_SENTENCES: dict[str, Promise] = {
    # Any object
    "created": _("%(actor)s created %(target)s."),
    "edited": _("%(actor)s edited %(target)s."),
    "changed": _("%(actor)s changed %(target)s."),
    "deleted": _("%(actor)s deleted %(target)s."),
    # Plans and countries
    "changed settings of": _("%(actor)s changed the settings of %(target)s."),
    # Translators: an administrator let someone open national plans of a country; %(target)s is that grant.
    "granted": _("%(actor)s granted %(target)s."),
    # Translators: an administrator took back the grant to open national plans of a country.
    "withdrew": _("%(actor)s withdrew %(target)s."),
    # Members and invitations
    "added": _("%(actor)s added %(target)s."),
    "invited": _("%(actor)s invited %(target)s."),
    "invited again": _("%(actor)s invited %(target)s again."),
    "sent again the invitation to": _("%(actor)s sent the invitation to %(target)s again."),
    "revoked the invitation to": _("%(actor)s revoked the invitation to %(target)s."),
    "joined": _("%(actor)s joined: %(target)s."),
    "accepted the invitation to": _("%(actor)s accepted the invitation to %(target)s."),
    "declined the invitation to": _("%(actor)s declined the invitation to %(target)s."),
    "changed the role of": _("%(actor)s changed the role of %(target)s."),
    "removed": _("%(actor)s removed %(target)s."),
    "copied the team into": _("%(actor)s copied the strategic plan's team into %(target)s."),
    # Assessments, scores and targets
    "added assessment": _("%(actor)s added the assessment %(target)s."),
    "set scores of": _("%(actor)s set scores of %(target)s."),
    "changed score of": _("%(actor)s changed a score of %(target)s."),
    "imported scores into": _("%(actor)s imported scores from a score sheet into %(target)s."),
    "imported SPAR scores into": _("%(actor)s imported scores from a SPAR results table into %(target)s."),
    "imported benchmark platform files into": _(
        "%(actor)s imported the WHO Benchmarks platform's files into the library %(target)s."
    ),
    "imported the benchmark indicator mapping of": _(
        "%(actor)s imported the benchmark indicator mapping of %(target)s."
    ),
    "set default targets of": _("%(actor)s set the default targets of %(target)s."),
    "set the target of": _("%(actor)s set the target %(target)s."),
    "drew baseline and targets into": _(
        "%(actor)s drew the baseline and targets of the strategic plan into %(target)s."
    ),
    # The draft and its shape
    "generated draft activities of": _("%(actor)s generated draft activities of %(target)s."),
    "drew activities into": _("%(actor)s drew activities of the strategic plan into %(target)s."),
    "edited the context of": _("%(actor)s edited the context %(target)s."),
    "set the priority areas of": _("%(actor)s set the priority areas of %(target)s."),
    "created the default functional groups of": _("%(actor)s created the default functional groups of %(target)s."),
    "created the functional group": _("%(actor)s created the functional group %(target)s."),
    "edited the functional group": _("%(actor)s edited the functional group %(target)s."),
    "deleted the functional group": _("%(actor)s deleted the functional group %(target)s."),
    "added a dependency to": _("%(actor)s added a dependency to %(target)s."),
    "removed a dependency from": _("%(actor)s removed a dependency from %(target)s."),
    # Costing
    "drew cost lines into": _("%(actor)s drew the cost lines of the strategic plan into %(target)s."),
    "repriced": _("%(actor)s changed the price of %(target)s in the cost lines that use it."),
    "imported": _("%(actor)s imported %(target)s."),
    "imported the WHO costing tool layout into": _("%(actor)s imported a WHO costing tool workbook into %(target)s."),
    # Uploads the core checks
    "applied upload": _("%(actor)s uploaded %(target)s, which was applied."),
    "refused upload": _("%(actor)s uploaded %(target)s, which was refused."),
    # Versions, review and endorsement
    # Translators: %(target)s is the name the secretariat gave the stored version.
    "saved the version": _("%(actor)s saved the version “%(target)s”."),
    # Translators: %(target)s is the round, e.g. “Review round 2”.
    "opened the review round": _("%(actor)s opened %(target)s."),
    # Translators: %(target)s is the reviewer and the round, e.g. “Marie Dubois in Review round 2”.
    "gave a verdict": _("%(actor)s gave a verdict: %(target)s."),
    # Translators: %(target)s is the round, e.g. “Review round 2”.
    "closed the review round": _("%(actor)s closed %(target)s."),
    # Translators: sent by the product itself; %(target)s is the reviewer and the round.
    "reminded the reviewer": _("A reminder of an overdue verdict was e-mailed: %(target)s."),
    # Monitoring. Translators: %(target)s is a reporting period, e.g. “2026 Q1”.
    "opened the reporting period": _("%(actor)s opened the reporting period %(target)s."),
    # Translators: %(target)s is a reporting period, e.g. “2026 Q1”.
    "closed the reporting period": _("%(actor)s closed the reporting period %(target)s."),
    # Translators: %(target)s is a reporting period, e.g. “2026 Q1”.
    "reopened the reporting period": _("%(actor)s reopened the reporting period %(target)s."),
    # Translators: sent by the product itself; %(target)s is the person, the period and the day.
    "reminded to report progress": _("A reminder of progress reports due was e-mailed: %(target)s."),
    # Translators: %(target)s is the endorsement, e.g. “Version 1, endorsed by the Minister of Health”.
    "endorsed": _("%(actor)s recorded the endorsement of the plan: %(target)s."),
    # Translators: %(target)s is the endorsement the plan stood at, e.g. “Version 1, endorsed by the Minister”.
    "reopened": _("%(actor)s reopened the plan as a new draft after %(target)s."),
    # Monitoring
    # Translators: %(target)s is an annual review, e.g. “Annual review · Q4 2026”.
    "carried activities of": _("%(actor)s carried unfinished activities of %(target)s into the next operational plan."),
}


def audit_actor_name(event: AuditEvent) -> str:
    """Who made the change; an invitee answering has no account yet, and an account may have been deleted."""
    if event.actor is not None:
        return str(event.actor)
    if event.target_type == "invitation":
        return gettext("The invitee")
    return gettext("Someone")


def audit_sentence(event: AuditEvent) -> str:
    """The change as a sentence in the active language."""
    values = {"actor": audit_actor_name(event), "target": event.target_repr}
    sentence = AUDIT_SENTENCES.get(event.action)
    if sentence is None:  # a kind of change recorded before this list knew it: its English key, as it is
        return gettext("%(actor)s: %(action)s %(target)s.") % {**values, "action": event.action}
    return str(sentence) % values


@cache
def _models_by_name() -> dict[str, type[models.Model]]:
    """The installed models by model name, the way AuditEvent.target_type names them (the apps' names differ)."""
    return {model._meta.model_name or "": model for model in apps.get_models()}


def audit_kind_label(target_type: str) -> str:
    """The name of a kind of object (“activity”, “cost line”) in the active language."""
    model = _models_by_name().get(target_type)
    return str(model._meta.verbose_name) if model is not None else target_type


def audit_kind_choices(target_types: Iterable[str]) -> list[tuple[str, str]]:
    """(target type, its name) for a filter, sorted by the name the reader sees."""
    return sorted(((kind, audit_kind_label(kind)) for kind in target_types), key=lambda choice: choice[1].lower())


@dataclass(frozen=True)
class ChangeRow:
    """One field of a change: its label, and what it was and became ("" where the change names no before)."""

    field: str
    before: str
    after: str


def audit_value(value: Any) -> str:
    """A stored value as text: lists joined, mappings as “key: value”, nothing as a dash."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if value is True:
        return gettext("yes")
    if value is False:
        return gettext("no")
    if isinstance(value, list | tuple):
        return ", ".join(audit_value(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {audit_value(item)}" for key, item in value.items())
    return str(value)


def _field_label(target_type: str, name: str) -> str:
    model = _models_by_name().get(target_type)
    if model is not None:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            pass
        else:
            label = getattr(field, "verbose_name", None)
            if label:
                return str(label)
    return name.replace("_", " ")


def audit_change_rows(event: AuditEvent) -> list[ChangeRow]:
    """The stored changes, one row per field: a pair is [before, after]; anything else (a count, a file name)
    describes the change and has no before."""
    rows = []
    changes = event.changes if isinstance(event.changes, dict) else {}
    for name, value in changes.items():
        label = _field_label(event.target_type, str(name))
        if isinstance(value, list) and len(value) == 2:
            rows.append(ChangeRow(label, audit_value(value[0]), audit_value(value[1])))
        else:
            rows.append(ChangeRow(label, "", audit_value(value)))
    return rows
