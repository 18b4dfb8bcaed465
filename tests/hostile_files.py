"""Hostile files, each built in code: the shapes an uploaded spreadsheet takes to exhaust the machine, to smuggle
in what a workbook must not carry, or to pass for what it is not. `CORPUS` names them all; `build(name)` gives
(file name, content). The tests send every one of them through every upload of the product.

Each builder is cheap (a few seconds for the largest) and its result is kept for the session.
"""

from __future__ import annotations

import functools
import io
import os
import struct
import zipfile
from collections.abc import Callable

from openpyxl import Workbook

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
SHARED_STRINGS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2">'
    "<si><t>indicator</t></si><si><t>score</t></si></sst>"
)
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def raw_workbook(
    sheet_body: Callable[[Callable[[bytes], None]], None],
    *,
    dimension: str = "",
    padding: int = 0,
    extra: dict[str, bytes] | None = None,
    head: bytes = b"",
) -> bytes:
    """A minimal .xlsx of one sheet "Data" whose sheetData `sheet_body(write)` streams out, so that a sheet of
    millions of cells is never held whole; `padding` bytes of random data stored uncompressed make the file big
    enough that its compression ratio looks like a real workbook's (the tester's 2.1 MB)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/sharedStrings.xml", SHARED_STRINGS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(head or SHEET_HEAD.encode())
            if dimension:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(b"<sheetData>")
            sheet_body(sheet.write)
            sheet.write(b"</sheetData></worksheet>")
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
        if padding:
            archive.writestr(
                zipfile.ZipInfo("xl/media/image1.png"), os.urandom(padding), compress_type=zipfile.ZIP_STORED
            )
    return buffer.getvalue()


def openpyxl_workbook(*sheets: tuple[str, list[list[object]]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_member(data: bytes, name: str, content: bytes) -> bytes:
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


SCORES = [["indicator", "score"], ["P1.1", 3], ["P1.2", 4]]


# The shapes -------------------------------------------------------------------------------------------------


def many_cells(rows: int = 190_000, columns: int = 50, *, declared: bool = True) -> bytes:
    """The tester's workbook: 9.5 million tiny cells (190,000 rows of 50), 2.1 MB, within every older limit:
    fewer than 200,000 rows, under 200 MB unpacked, compressed less than 100 to 1."""
    row = b"<row>" + b"<c><v>1</v></c>" * columns + b"</row>"

    def body(write: Callable[[bytes], None]) -> None:
        block = row * 1000
        for _ in range(rows // 1000):
            write(block)
        write(row * (rows % 1000))

    return raw_workbook(body, dimension=f"A1:AX{rows}" if declared else "", padding=1_550_000)


def dimension_lie() -> bytes:
    """One real cell under a <dimension> that claims every cell Excel allows (17 billion): a reader that fills
    the declared range with empty cells never finishes."""
    return raw_workbook(lambda write: write(b'<row r="1"><c r="A1"><v>1</v></c></row>'), dimension="A1:XFD1048576")


def million_rows() -> bytes:
    """A million rows of one cell each, under a <dimension> that claims a single cell."""
    row = b"<row><c><v>1</v></c></row>"
    return raw_workbook(lambda write: [write(row * 10_000) for _ in range(100)], dimension="A1", padding=400_000)


def far_column() -> bytes:
    """One cell in the last column Excel allows, on each of a thousand rows: few cells, a very wide table."""
    rows = b"".join(b'<row r="%d"><c r="XFD%d"><v>1</v></c></row>' % (n, n) for n in range(1, 1001))
    return raw_workbook(lambda write: write(rows))


def zip_bomb() -> bytes:
    """A workbook one of whose parts unpacks to 100 MB from about 100 KB."""
    buffer = io.BytesIO(openpyxl_workbook(("Data", SCORES)))
    zeros = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive, archive.open("xl/media/bomb.bin", "w") as bomb:
        for _ in range(100):
            bomb.write(zeros)
    return buffer.getvalue()


def size_lie() -> bytes:
    """A workbook whose sheet's zip entry claims 4 GB unpacked."""
    data = openpyxl_workbook(("Data", SCORES))
    member = b"xl/worksheets/sheet1.xml"
    at = 0
    while True:
        at = data.index(b"PK\x01\x02", at)
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == member:
            break
        at += 4
    return data[: at + 24] + struct.pack("<I", 0xFFFFFFF0) + data[at + 28 :]


def billion_laughs() -> bytes:
    """Entity expansion: ten entities of ten of the one before, a thousand million "lol"s from a few hundred bytes."""
    entities = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE worksheet [{entities}]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    ).encode()
    return raw_workbook(
        lambda write: write(b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'), head=head
    )


def deeply_nested() -> bytes:
    """Ten thousand elements nested inside one another in the sheet's data."""
    return raw_workbook(lambda write: write(b"<x>" * 10_000 + b"</x>" * 10_000))


def macro_workbook() -> bytes:
    """A macro-enabled workbook (.xlsm): a VBA project inside."""
    return with_member(openpyxl_workbook(("Data", SCORES)), "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0VBA" * 100)


def formulas() -> bytes:
    """A sheet of formulas, among them one that would reach outside the workbook."""
    rows = [["indicator", "score"], ["P1.1", "=1+2"], ["P1.2", '=HYPERLINK("http://example.org","4")'], ["P1.3", 3]]
    return openpyxl_workbook(("Data", rows))


def external_link() -> bytes:
    """A workbook that links to another workbook."""
    link = (
        '<?xml version="1.0" encoding="UTF-8"?><externalLink '
        'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><externalBook/></externalLink>'
    )
    return with_member(openpyxl_workbook(("Data", SCORES)), "xl/externalLinks/externalLink1.xml", link.encode())


def three_hundred_sheets() -> bytes:
    return openpyxl_workbook(*((f"Sheet {n}", [["indicator", "score"]]) for n in range(1, 301)))


def encrypted_workbook() -> bytes:
    """What Excel saves for a password-protected workbook: an OLE compound file holding EncryptionInfo and
    EncryptedPackage streams instead of a zip."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHH", 0x3E, 3, 0xFFFE)
    directory = "EncryptionInfo".encode("utf-16-le") + b"\0" * 50 + "EncryptedPackage".encode("utf-16-le")
    return header.ljust(512, b"\0") + directory.ljust(1024, b"\0") + os.urandom(4096)


def old_xls() -> bytes:
    """An Excel 97-2003 workbook: an OLE compound file with a Workbook stream."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHH", 0x3E, 3, 0xFFFE)
    return header.ljust(512, b"\0") + "Workbook".encode("utf-16-le").ljust(1024, b"\0")


def not_a_workbook_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


def damaged_zip() -> bytes:
    return b"PK\x03\x04" + os.urandom(2000)


def csv_long_line(size: int = 50 * 1024 * 1024) -> bytes:
    """A CSV file of one 50 MB line."""
    return b"indicator,score\n" + b"x" * size + b"\n"


def csv_wide_line() -> bytes:
    """A CSV file under the size limit one of whose lines holds two million empty cells."""
    return b"indicator,score\nP1.1,3\n" + b"," * 2_000_000 + b"\n"


CORPUS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "9.5 million cells": ("scores.xlsx", many_cells),
    "dimension lie": ("scores.xlsx", dimension_lie),
    "a million rows": ("scores.xlsx", million_rows),
    "the last column": ("scores.xlsx", far_column),
    "zip bomb": ("scores.xlsx", zip_bomb),
    "size lie": ("scores.xlsx", size_lie),
    "billion laughs": ("scores.xlsx", billion_laughs),
    "deeply nested": ("scores.xlsx", deeply_nested),
    "macro workbook": ("scores.xlsm", macro_workbook),
    "macros in an .xlsx": ("scores.xlsx", macro_workbook),
    "formulas": ("scores.xlsx", formulas),
    "external link": ("scores.xlsx", external_link),
    "300 sheets": ("scores.xlsx", three_hundred_sheets),
    "encrypted workbook": ("scores.xlsx", encrypted_workbook),
    "old .xls": ("scores.xls", old_xls),
    "text named .xlsx": ("scores.xlsx", lambda: b"indicator,score\nP1.1,3\n"),
    "HTML named .xls": ("scores.xls", lambda: b"<html><body><table><tr><td>P1.1</td><td>3</td></tr></table></html>"),
    "HTML named .xlsx": ("scores.xlsx", lambda: b"<html><body><table><tr><td>P1.1</td><td>3</td></tr></table></html>"),
    "a zip that is no workbook": ("scores.xlsx", not_a_workbook_zip),
    "damaged zip": ("scores.xlsx", damaged_zip),
    "CSV with a 50 MB line": ("scores.csv", csv_long_line),
    "CSV with two million cells in a line": ("scores.csv", csv_wide_line),
    "UTF-16 CSV": ("scores.csv", lambda: "indicator,score\nP1.1,3\n".encode("utf-16")),
    "NUL bytes": ("scores.csv", lambda: b"indicator,score\nP1.1,\x003\n"),
    "binary named .csv": ("scores.csv", lambda: os.urandom(3000)),
    "empty file": ("scores.csv", lambda: b""),
}

# Shapes a reader refuses only by counting: the tests check it stopped before building their cells.
COUNTED = {"9.5 million cells", "dimension lie", "a million rows", "CSV with two million cells in a line"}


@functools.cache
def build(name: str) -> tuple[str, bytes]:
    filename, builder = CORPUS[name]
    return filename, builder()
