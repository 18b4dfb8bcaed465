"""Translations of the costing workbook's messages, for the tests of a workbook read and written in French and
Arabic before the catalogues under locale/ hold them (they are translated after the messages are merged).

`workbook_catalogues()` puts them in front of the running process's catalogues, as a catalogue of its own, and
takes them out again; the vocabularies built from the old catalogues are forgotten both times.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.utils.translation import trans_real

from naphs.spreadsheets import vocabularies_clear
from tests import translations

FRENCH: dict[str | tuple[str, int], str] = {
    "Instructions": "Consignes",
    "Line id": "N° de ligne",
    "Version": "Version",
    "Check": "Contrôle",
    "Activity": "Activité",
    "Description": "Description",
    "Category": "Catégorie",
    "Unit": "Unité",
    "Unit cost": "Coût unitaire",
    "Currency": "Monnaie",
    "Price year": "Année des prix",
    "Quantity": "Quantité",
    "Times in %(year)s": "Fois en %(year)s",
    "One-off or recurring": "Ponctuel ou récurrent",
    "Optional (yes/no)": "Facultatif (oui/non)",
    "Assumptions": "Hypothèses",
    "Remove (yes)": "Supprimer (oui)",
    "Total %(currency)s at download (recomputed on upload)": "Total %(currency)s au téléchargement (recalculé)",
    "From the catalogue": "Du catalogue",
    "yes": "oui",
    "no": "non",
    "%(number)s is negative.": "%(number)s est négatif.",
    "“%(value)s”: write %(yes)s or %(no)s.": "« %(value)s » : écrivez %(yes)s ou %(no)s.",
    "“%(found)s” in cell %(cell)s is not a heading of the costing workbook: this column is “%(expected)s”; write "
    "the heading back or download a fresh workbook.": "« %(found)s » en %(cell)s n'est pas un titre du classeur de "
    "chiffrage : cette colonne est « %(expected)s » ; rétablissez le titre ou téléchargez un nouveau classeur.",
    "Saved": "Enregistré",
    ("line added", 0): "ligne ajoutée",
    ("line added", 1): "lignes ajoutées",
    ("line changed", 0): "ligne modifiée",
    ("line changed", 1): "lignes modifiées",
}
ARABIC: dict[str | tuple[str, int], str] = {
    "Instructions": "تعليمات",
    "Line id": "رقم البند",
    "Version": "الإصدار",
    "Check": "التحقق",
    "Activity": "النشاط",
    "Description": "الوصف",
    "Category": "الفئة",
    "Unit": "الوحدة",
    "Unit cost": "تكلفة الوحدة",
    "Currency": "العملة",
    "Price year": "سنة الأسعار",
    "Quantity": "الكمية",
    "Times in %(year)s": "عدد المرات في %(year)s",
    "One-off or recurring": "لمرة واحدة أو متكرر",
    "Optional (yes/no)": "اختياري (نعم/لا)",
    "Assumptions": "الافتراضات",
    "Remove (yes)": "حذف (نعم)",
    "Total %(currency)s at download (recomputed on upload)": "المجموع بـ %(currency)s عند التنزيل",
    "From the catalogue": "من الدليل",
    "yes": "نعم",
    "no": "لا",
}


@contextlib.contextmanager
def workbook_catalogues() -> Iterator[None]:
    translations.catalogues_compile()
    added = []
    for code, messages in (("fr", FRENCH), ("ar", ARABIC)):
        catalog = trans_real.translation(code)._catalog
        catalog._catalogs.insert(0, dict(messages))
        catalog._plurals.insert(0, catalog._plurals[0])
        added.append(catalog)
    vocabularies_clear()
    try:
        yield
    finally:
        for catalog in added:
            catalog._catalogs.pop(0)
            catalog._plurals.pop(0)
        vocabularies_clear()
