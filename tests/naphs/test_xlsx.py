"""The streaming XLSX writer (naphs/xlsx.py): what goes in as text comes out as the same text, never a formula."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from naphs.xlsx import StreamingWorkbook


def test_text_is_escaped_control_characters_dropped_and_nothing_becomes_a_formula():
    book = StreamingWorkbook(title="Escapes")
    sheet = book.add_sheet("Sheet")
    texts = ["plain", 'a & b < c > "d"', "bell\x07 and nul\x00 gone", "tab\tand\nnew line", "=SUM(A1:A2)", "@cmd"]
    for text in texts:
        sheet.append([text, Decimal("12.50"), 3])
    workbook = load_workbook(io.BytesIO(book.to_bytes()))
    rows = list(workbook["Sheet"].iter_rows())
    assert [row[0].value for row in rows] == [
        "plain",
        'a & b < c > "d"',
        "bell and nul gone",
        "tab\tand\nnew line",
        "=SUM(A1:A2)",
        "@cmd",
    ]
    assert all(row[0].data_type == "s" for row in rows)  # text, not a formula ("f")
    assert [(row[1].value, row[2].value) for row in rows[:1]] == [(12.5, 3)]


def test_a_table_sheet_drops_control_characters_rather_than_failing_the_export():
    from naphs.xlsx import add_table_sheet, new_workbook, workbook_bytes

    workbook = new_workbook()
    add_table_sheet(workbook, title="Members", headers=["Name"], rows=[["Ministry\x0b of\x00 Health"], ["=1+1"]])

    sheet = load_workbook(io.BytesIO(workbook_bytes(workbook)))["Members"]
    assert [(cell.value, cell.data_type) for (cell,) in sheet.iter_rows(min_row=2)] == [
        ("Ministry of Health", "s"),
        ("=1+1", "s"),
    ]


def test_a_table_sheet_takes_a_translated_name_excel_would_refuse():
    from naphs.xlsx import add_table_sheet, new_workbook, workbook_bytes

    workbook = new_workbook()
    name = "Écart : domaine/année [total] des plans"  # a colon, a slash, brackets and over 31 characters
    add_table_sheet(workbook, title=name, headers=["Code"], rows=[["P1"]])

    assert load_workbook(io.BytesIO(workbook_bytes(workbook))).sheetnames == ["Écart - domaine-année -total- d"]
