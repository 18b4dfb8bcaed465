"""The costing workbook in the person's language, and read whatever language it was downloaded in.

A workbook is written in the language of the person who asks for it: its headings, instructions and drop-down
labels. It is read back whoever uploads it: each heading and drop-down value is recognised in any of the
product's languages, and the problems are reported in the uploader's. The French and Arabic words are those of
the product's catalogues (locale/), and the sheet's the area's own name, written out here as a French or Arabic
reader reads them.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from openpyxl.utils import get_column_letter

from costing.layouts.workbook import HEADER_ROW
from costing.models import CostingUpload, CostLine
from naphs.models import Job
from naphs.permissions import Role
from stakeholders.models import User
from tests.costing.test_workbook import Book, download, lines_state, run_jobs, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalogues_compiled")]
__all__ = ["run_jobs"]  # the fixture, used by name

P1_SHEET = "P1 Legal Instruments"
# The area's sheet is named in the reader's language too: by the area's own names (TechnicalArea.names).
P1_FRENCH = "P1 Instruments juridiques"
P1_ARABIC = "P1 الصكوك القانونية"


@pytest.fixture
def focal_point(people):
    return people[Role.FOCAL_POINT]


def speaks(person: User, code: str) -> None:
    User.objects.filter(pk=person.pk).update(language=code)
    person.refresh_from_db()


def assert_nothing_saved(plan, before, uploaded: CostingUpload, message: str) -> None:
    """The upload refused, every line as it was, and the job saying so in the uploader's words."""
    uploaded.refresh_from_db()
    assert (uploaded.status, uploaded.job.status) == (CostingUpload.Status.REFUSED, Job.Status.FAILED)
    assert uploaded.job.message == message
    assert lines_state(plan) == before


def test_a_workbook_is_written_in_the_language_of_the_person_who_asks(client, run_jobs, plan, focal_point, moa_line):
    speaks(focal_point, "fr")
    book = Book(download(client, run_jobs, plan, focal_point))
    assert book.workbook.sheetnames[:2] == ["Instructions", P1_FRENCH]  # "Instructions": the same word in French
    headings = [cell.value for cell in book.sheet(P1_FRENCH)[HEADER_ROW]]
    assert headings[:11] == [
        "ID de la ligne", "Version", "Contrôle", "Activité", "Description", "Catégorie", "Unité", "Coût unitaire",
        "Devise", "Année de référence des prix", "Quantité",
    ]  # fmt: skip
    assert "Nombre de fois en 2026" in headings and "Facultatif (oui/non)" in headings
    assert "Quantity" not in headings and "Times in 2026" not in headings
    row = book.line_row(moa_line, P1_FRENCH)
    assert book.get(row, "Facultatif (oui/non)", P1_FRENCH) == "non"  # the drop-down's label, in French
    # Data stays data: ids, numbers and codes are the same in every language.
    assert [book.get(row, heading, P1_FRENCH) for heading in ("ID de la ligne", "Quantité", "Devise")] == [
        moa_line.pk,
        3,
        "USD",
    ]
    assert [c.value for c in book.workbook["Lists"]["E"] if c.value] == ["oui", "non"]


def test_a_workbook_downloaded_in_arabic_is_applied_for_a_french_speaking_person(
    client, run_jobs, plan, focal_point, moa_activity, moa_line
):
    speaks(focal_point, "ar")
    book = Book(download(client, run_jobs, plan, focal_point))
    assert "الكمية" in [cell.value for cell in book.sheet(P1_ARABIC)[HEADER_ROW]]
    row = book.line_row(moa_line, P1_ARABIC)
    book.set(row, "الكمية", 5, P1_ARABIC)
    book.set(row, "اختياري (نعم/لا)", "نعم", P1_ARABIC)
    speaks(focal_point, "fr")

    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())

    uploaded.refresh_from_db()
    assert uploaded.status == CostingUpload.Status.APPLIED, uploaded.problems
    moa_line.refresh_from_db()
    assert (moa_line.quantity, moa_line.optional, moa_line.version) == (Decimal("5"), True, 2)


def test_the_problems_of_an_arabic_workbook_are_reported_in_the_uploaders_french(
    client, run_jobs, plan, focal_point, moa_line
):
    speaks(focal_point, "ar")
    book = Book(download(client, run_jobs, plan, focal_point))
    row = book.line_row(moa_line, P1_ARABIC)
    book.set(row, "الكمية", -3, P1_ARABIC)
    book.set(row, "اختياري (نعم/لا)", "peut-être", P1_ARABIC)
    speaks(focal_point, "fr")
    before = lines_state(plan)

    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())

    assert_nothing_saved(plan, before, uploaded, "Rien n’a été enregistré : 2 problèmes (voir ci-dessous).")
    assert [(p["row"], p["column"], p["message"]) for p in uploaded.problems] == [
        (row, "Quantité", "-3 est négatif."),
        (row, "Facultatif (oui/non)", "« peut-être » : écrivez oui ou non."),
    ]


def test_headings_mixing_languages_are_each_recognised(client, run_jobs, plan, focal_point, moa_line):
    speaks(focal_point, "fr")
    book = Book(download(client, run_jobs, plan, focal_point))
    sheet = book.sheet(P1_FRENCH)
    quantity = book.column("Quantité", P1_FRENCH)
    sheet.cell(row=HEADER_ROW, column=quantity, value="Quantity")  # English
    sheet.cell(row=HEADER_ROW, column=book.column("Hypothèses", P1_FRENCH), value="الافتراضات")  # Arabic
    times = book.column("Nombre de fois en 2027", P1_FRENCH)
    sheet.cell(row=HEADER_ROW, column=times, value="times in 2027")  # English, in any case
    sheet.cell(row=book.line_row(moa_line, P1_FRENCH), column=quantity, value=4)

    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())

    uploaded.refresh_from_db()
    assert uploaded.status == CostingUpload.Status.APPLIED, uploaded.problems
    assert CostLine.objects.get(pk=moa_line.pk).quantity == Decimal("4")


def test_an_unknown_heading_is_reported_by_its_cell_with_the_heading_expected(
    client, run_jobs, plan, focal_point, moa_line
):
    speaks(focal_point, "fr")
    book = Book(download(client, run_jobs, plan, focal_point))
    quantity = book.column("Quantité", P1_FRENCH)
    book.sheet(P1_FRENCH).cell(row=HEADER_ROW, column=quantity, value="Qté")
    book.set(book.line_row(moa_line, P1_FRENCH), "Unité", "day", P1_FRENCH)
    before = lines_state(plan)

    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())

    assert_nothing_saved(plan, before, uploaded, "Rien n’a été enregistré : 1 problème (voir ci-dessous).")
    cell = f"{get_column_letter(quantity)}{HEADER_ROW}"
    assert [(p["sheet"], p["row"], p["column"], p["message"]) for p in uploaded.problems] == [
        (
            P1_FRENCH,
            HEADER_ROW,
            get_column_letter(quantity),
            f"« Qté » dans la cellule {cell} n’est pas un en-tête du classeur de chiffrage : cette colonne est "
            "« Quantité » ; rétablissez l’en-tête ou téléchargez un nouveau classeur.",
        )
    ]


def test_a_drop_down_value_of_another_language_is_read(client, run_jobs, plan, focal_point, moa_activity, moa_line):
    book = Book(download(client, run_jobs, plan, focal_point))  # in English
    row = book.line_row(moa_line)
    book.set(row, "Optional (yes/no)", "نعم")  # Arabic yes
    new = book.add_line(moa_activity, **{"Optional (yes/no)": "oui", "Remove (yes)": "non"})
    speaks(focal_point, "fr")

    uploaded = upload(client, run_jobs, plan, focal_point, book.bytes())

    uploaded.refresh_from_db()
    assert uploaded.status == CostingUpload.Status.APPLIED, uploaded.problems
    assert CostLine.objects.get(pk=moa_line.pk).optional
    added = CostLine.objects.get(activity=moa_activity, description="Facilitator fees")
    assert added.optional and added.import_key.endswith(f":{P1_SHEET}:{new}")


def test_a_person_who_has_not_chosen_reads_english(client, run_jobs, plan, focal_point, moa_line):
    speaks(focal_point, "")
    headings = [cell.value for cell in Book(download(client, run_jobs, plan, focal_point)).sheet()[HEADER_ROW]]
    assert "Quantity" in headings and "Times in 2026" in headings
