"""Writing Excel workbooks safely: every string is stored as text, never as a live formula."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_PREFIXES = ("=", "+", "-", "@")
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")


def write_row(sheet: Worksheet, row: int, values: Sequence[Any]) -> None:
    for column, value in enumerate(values, start=1):
        if isinstance(value, Promise):
            value = str(value)  # a lazily translated label (a choice's): its text in the active language
        if isinstance(value, str):
            # A control character (a pasted vertical tab, a stray NUL) cannot be stored in a worksheet: drop it,
            # as the streaming writer below does, rather than fail the whole export.
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell = sheet.cell(row=row, column=column, value=value)
        if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
            cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula


# Characters Excel refuses in a sheet's name.
SHEET_NAME_FORBIDDEN = re.compile(r"[:\\/?*\[\]]")


def sheet_title(title: str) -> str:
    """A sheet's name as Excel takes it: at most 31 characters, none of : \\ / ? * [ ]. A translated name
    may hold one (a colon, a slash) or be longer than its English."""
    return SHEET_NAME_FORBIDDEN.sub("-", str(title))[:31]


def add_table_sheet(
    workbook: Workbook,
    *,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[int] | None = None,
) -> Worksheet:
    """A sheet with a bold, frozen header row, a filter, and one row per item."""
    sheet = workbook.create_sheet(title=sheet_title(title))
    write_row(sheet, 1, headers)
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    last_row = 1
    for last_row, values in enumerate(rows, start=2):
        write_row(sheet, last_row, values)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{last_row}"
    for index, width in enumerate(widths or [], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    return sheet


def new_workbook() -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def workbook_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Streaming: large workbooks written straight to XML ---------------------------------------------------
#
# openpyxl spends several microseconds on every cell, too slow for a plan of 100,000 cost lines. This writer
# produces the same kind of file (styles, hidden and protected sheets, hidden columns, drop-down lists) row by
# row from plain values. Every string becomes an inline string, so no text can ever turn into a formula.

_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_TEXT_ESCAPES = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;"}
# Control characters XML 1.0 cannot carry (tab, line feed and carriage return can).
_TEXT_ESCAPES.update({code: None for code in (*range(0, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF)})
# Most text needs none of it: a search in C is cheaper than translating every character.
_NEEDS_ESCAPE = re.compile("[" + re.escape("".join(chr(code) for code in _TEXT_ESCAPES)) + "]")
MAX_CELL_TEXT = 32_767


def _xml_text(value: str) -> str:
    value = value[:MAX_CELL_TEXT]
    return value.translate(_TEXT_ESCAPES) if _NEEDS_ESCAPE.search(value) else value


def _number(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    return repr(value) if isinstance(value, float) else str(value)


_COLUMN_LETTERS = [get_column_letter(index) for index in range(1, 703)]  # A..ZZ


@dataclass(frozen=True)
class CellStyle:
    """How a cell looks and whether it is locked when its sheet is protected (Excel locks cells by default)."""

    bold: bool = False
    italic: bool = False
    color: str = ""  # font colour, RRGGBB
    fill: str = ""  # background, RRGGBB
    number_format: str = ""  # e.g. "#,##0.00"
    wrap: bool = False
    locked: bool = True


class StreamingSheet:
    """A sheet written row by row: `append(values, styles)` with the style ids of StreamingWorkbook.style."""

    def __init__(
        self,
        title: str,
        *,
        state: str = "visible",
        widths: Sequence[float] = (),
        hidden_columns: Iterable[int] = (),
        freeze_rows: int = 0,
    ) -> None:
        if state not in ("visible", "hidden", "veryHidden"):
            raise ValueError(f"Unknown sheet state {state}")
        self.title = title[:31]
        self.state = state
        self.widths = list(widths)
        self.hidden_columns = set(hidden_columns)
        self.freeze_rows = freeze_rows
        self.rows = 0
        self.max_column = 0
        self._parts: list[str] = []
        self._validations: list[str] = []
        self._protection = ""

    def append(self, values: Sequence[Any], styles: int | Sequence[int] = 0) -> int:
        """Write the next row; returns its number (1-based). `styles` is one style for the row or one per cell.
        An empty value with a style still writes the cell, so an unlocked style leaves it open for input."""
        self.rows += 1
        row = self.rows
        if isinstance(styles, int):
            styles = [styles] * len(values)
        parts = [f'<row r="{row}">']
        add = parts.append
        # Plain types first: this loop runs once per cell of the largest exports.
        for letter, value, style in zip(_COLUMN_LETTERS, values, styles, strict=False):
            kind = type(value)
            if value is None or (kind is str and not value):
                if style:
                    add(f'<c r="{letter}{row}" s="{style}"/>')
                continue
            style_attr = f' s="{style}"' if style else ""
            if kind is str:
                text = _xml_text(value)
                add(f'<c r="{letter}{row}"{style_attr} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
            elif kind is int or kind is Decimal:
                add(
                    f'<c r="{letter}{row}"{style_attr}><v>{value:f}</v></c>'
                    if kind is Decimal
                    else f'<c r="{letter}{row}"{style_attr}><v>{value}</v></c>'
                )
            elif isinstance(value, bool):
                add(f'<c r="{letter}{row}"{style_attr} t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, int | float | Decimal):
                add(f'<c r="{letter}{row}"{style_attr}><v>{_number(value)}</v></c>')
            else:
                text = _xml_text(str(value))
                add(f'<c r="{letter}{row}"{style_attr} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
        parts.append("</row>")
        self._parts.append("".join(parts))
        self.max_column = max(self.max_column, len(values))
        return row

    def protect(self, *, insert_rows: bool = False) -> None:
        """Protect the sheet (no password): only unlocked cells take input; columns may still be resized."""
        allowed = ' formatColumns="0" formatRows="0"' + (' insertRows="0"' if insert_rows else "")
        self._protection = f'<sheetProtection sheet="1" objects="1" scenarios="1"{allowed}/>'

    def add_list_validation(self, ref: str, source: str, *, message: str = "") -> None:
        """A drop-down on the cells `ref` (e.g. "F3:F90") from the range `source` (e.g. "'Lists'!$A$1:$A$11")."""
        title = _xml_text(_("Choose from the list"))
        error = f' errorTitle="{title}" error="{_xml_text(message)}"' if message else ""
        self._validations.append(
            f'<dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1"{error} '
            f'sqref="{ref}"><formula1>{_xml_text(source)}</formula1></dataValidation>'
        )

    def add_number_validation(self, ref: str, *, minimum: Any, maximum: Any, whole: bool = False) -> None:
        kind = "whole" if whole else "decimal"
        title = _xml_text(_("Out of range"))
        error = _xml_text(
            _("Enter a number from %(minimum)s to %(maximum)s.") % {"minimum": minimum, "maximum": maximum}
        )
        self._validations.append(
            f'<dataValidation type="{kind}" operator="between" allowBlank="1" showErrorMessage="1" '
            f'errorTitle="{title}" error="{error}" sqref="{ref}">'
            f"<formula1>{minimum}</formula1><formula2>{maximum}</formula2></dataValidation>"
        )

    def xml(self, *, selected: bool) -> str:
        last = f"{_COLUMN_LETTERS[max(self.max_column, 1) - 1]}{max(self.rows, 1)}"
        view = '<sheetView workbookViewId="0"' + (' tabSelected="1"' if selected else "")
        if self.freeze_rows:
            top = f"A{self.freeze_rows + 1}"
            view += (
                f'><pane ySplit="{self.freeze_rows}" topLeftCell="{top}" activePane="bottomLeft" state="frozen"/>'
                f'<selection pane="bottomLeft" activeCell="{top}" sqref="{top}"/></sheetView>'
            )
        else:
            view += "/>"
        columns = ""
        count = max(len(self.widths), max(self.hidden_columns, default=0))
        if count:
            cols = []
            for index in range(1, count + 1):
                width = self.widths[index - 1] if index <= len(self.widths) else 10
                hidden = ' hidden="1"' if index in self.hidden_columns else ""
                cols.append(f'<col min="{index}" max="{index}" width="{width}" customWidth="1"{hidden}/>')
            columns = f"<cols>{''.join(cols)}</cols>"
        validations = ""
        if self._validations:
            validations = (
                f'<dataValidations count="{len(self._validations)}">{"".join(self._validations)}</dataValidations>'
            )
        return (
            f'{_XML_HEAD}<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><dimension ref="A1:{last}"/>'
            f'<sheetViews>{view}</sheetViews><sheetFormatPr defaultRowHeight="15"/>{columns}'
            f"<sheetData>{''.join(self._parts)}</sheetData>{self._protection}{validations}"
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
        )


class StreamingWorkbook:
    """A workbook of StreamingSheets; the first visible sheet opens first."""

    def __init__(self, *, title: str = "") -> None:
        self.title = title
        self.sheets: list[StreamingSheet] = []
        self._styles: dict[CellStyle, int] = {CellStyle(): 0}

    def add_sheet(self, title: str, **options: Any) -> StreamingSheet:
        sheet = StreamingSheet(title, **options)
        if any(other.title.lower() == sheet.title.lower() for other in self.sheets):
            raise ValueError(f"Two sheets are named {sheet.title!r}")
        self.sheets.append(sheet)
        return sheet

    def style(self, **options: Any) -> int:
        """The id of a cell style, to pass to StreamingSheet.append."""
        return self._styles.setdefault(CellStyle(**options), len(self._styles))

    def _styles_xml(self) -> str:
        formats = sorted({style.number_format for style in self._styles if style.number_format})
        format_ids = {code: 164 + index for index, code in enumerate(formats)}
        fonts: dict[tuple, int] = {(False, False, ""): 0}
        fills: dict[str, int] = {"": 0}
        xfs = []
        for style in self._styles:  # insertion order is id order
            font = fonts.setdefault((style.bold, style.italic, style.color), len(fonts))
            fill = fills.setdefault(style.fill, len(fills) + 1) if style.fill else 0  # 1 is the required gray125
            attributes = f'numFmtId="{format_ids.get(style.number_format, 0)}" fontId="{font}" fillId="{fill}" '
            attributes += 'borderId="0" xfId="0" applyProtection="1"'
            attributes += ' applyNumberFormat="1"' if style.number_format else ""
            attributes += ' applyFont="1"' if font else ""
            attributes += ' applyFill="1"' if fill else ""
            children = '<alignment vertical="top" wrapText="1"/>' if style.wrap else ""
            children += "" if style.locked else '<protection locked="0"/>'
            if style.wrap:
                attributes += ' applyAlignment="1"'
            xfs.append(f"<xf {attributes}>{children}</xf>" if children else f"<xf {attributes}/>")
        font_xml = []
        for bold, italic, color in fonts:
            font_xml.append(
                "<font>"
                + ("<b/>" if bold else "")
                + ("<i/>" if italic else "")
                + '<sz val="11"/>'
                + (f'<color rgb="FF{color}"/>' if color else "")
                + '<name val="Calibri"/><family val="2"/></font>'
            )
        fill_xml = [
            '<fill><patternFill patternType="none"/></fill>',
            '<fill><patternFill patternType="gray125"/></fill>',
        ]
        for color in list(fills)[1:]:
            fill_xml.append(
                f'<fill><patternFill patternType="solid"><fgColor rgb="FF{color}"/><bgColor indexed="64"/>'
                "</patternFill></fill>"
            )
        num_fmts = "".join(f'<numFmt numFmtId="{i}" formatCode="{_xml_text(code)}"/>' for code, i in format_ids.items())
        return (
            f'{_XML_HEAD}<styleSheet xmlns="{_MAIN_NS}">'
            + (f'<numFmts count="{len(format_ids)}">{num_fmts}</numFmts>' if format_ids else "")
            + f'<fonts count="{len(font_xml)}">{"".join(font_xml)}</fonts>'
            + f'<fills count="{len(fill_xml)}">{"".join(fill_xml)}</fills>'
            + '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            + '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            + f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            + '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
        )

    def to_bytes(self) -> bytes:
        import datetime
        import zipfile

        if not any(sheet.state == "visible" for sheet in self.sheets):
            raise ValueError("A workbook needs a visible sheet")
        first_visible = next(i for i, sheet in enumerate(self.sheets) if sheet.state == "visible")
        count = len(self.sheets)
        sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{sheet_type}"/>'
            for i in range(1, count + 1)
        )
        content_types = (
            f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}"
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            "</Types>"
        )
        root_rels = (
            f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
            'core-properties" Target="docProps/core.xml"/></Relationships>'
        )
        created = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        core = (
            f'{_XML_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{_xml_text(self.title)}</dc:title><dc:creator>NAPHS Planner</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created></cp:coreProperties>'
        )
        sheets_xml = "".join(
            f'<sheet name="{_xml_text(sheet.title)}" sheetId="{i}"'
            + (f' state="{sheet.state}"' if sheet.state != "visible" else "")
            + f' r:id="rId{i}"/>'
            for i, sheet in enumerate(self.sheets, start=1)
        )
        workbook = (
            f'{_XML_HEAD}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            f'<bookViews><workbookView activeTab="{first_visible}" firstSheet="{first_visible}"/></bookViews>'
            f"<sheets>{sheets_xml}</sheets></workbook>"
        )
        workbook_rels = "".join(
            f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, count + 1)
        )
        workbook_rels = (
            f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL_NS}">{workbook_rels}'
            f'<Relationship Id="rId{count + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/></Relationships>'
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            archive.writestr("[Content_Types].xml", content_types)
            archive.writestr("_rels/.rels", root_rels)
            archive.writestr("docProps/core.xml", core)
            archive.writestr("xl/workbook.xml", workbook)
            archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
            archive.writestr("xl/styles.xml", self._styles_xml())
            for i, sheet in enumerate(self.sheets, start=1):
                archive.writestr(f"xl/worksheets/sheet{i}.xml", sheet.xml(selected=i - 1 == first_visible))
        return buffer.getvalue()
