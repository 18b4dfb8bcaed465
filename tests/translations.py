"""The translation check: user-visible strings left unmarked, and catalogues that lack translations.

Both are held to a ratchet, `locale/baseline.json`: per file, how many unmarked strings it may still have, and
per language, how many messages may still lack a translation. A count above its baseline fails the check (a
string was added without being marked, or marked without being translated); a count below it fails too, asking
for the baseline to be lowered, so that it only ever goes down:

    .venv/bin/python -m tests.translations --lower     # writes the lower counts into locale/baseline.json

Unmarked strings are found in templates (text and the attributes people read: title, placeholder, aria-label,
alt, confirmations, the value of buttons, string arguments of `default`/`yesno`/`include ... with`, and English
plurals made with `pluralize`) outside {% translate %}/{% blocktranslate %}; and in Python, in the places that
reach people (ValidationError, PermissionDenied, Http404 and the API's refusals, the product's own refusals,
messages.*, a job's progress, verbose_name, label, help_text, error_messages, choices' labels) as literals not
wrapped in gettext, gettext_lazy, ngettext or their kin.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "locale" / "baseline.json"
APPS = ("naphs", "planning", "stakeholders", "costing", "monitoring")
# Directories that hold no user-visible text of the product's own: the admin's and Django's overrides are checked
# too, but generated code and test code are not.
SKIPPED_PARTS = {"migrations", "management", "__pycache__", "vendor"}

# Words that are names, the same in every language: a text made of only these needs no translation.
NAMES = {"NAPHS", "Planner", "IHR", "JEE", "SPAR", "WHO", "API", "Excel", "XLSX", "CSV", "JSON", "OpenAPI", "Redoc"}
WORD = re.compile(r"[^\W\d_]{2,}")
TRANSLATE_FUNCTIONS = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
}


@dataclass(frozen=True)
class Unmarked:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r}"


def is_words(text: str) -> bool:
    """Text a person reads: at least one word that is not a name."""
    return any(word not in NAMES for word in WORD.findall(text))


# --- Templates ------------------------------------------------------------------------------------------------

READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "aria-description", "alt", "data-confirm", "hx-confirm"}
BUTTON_TYPES = {"submit", "button", "reset"}
HIDDEN_ELEMENTS = {"script", "style"}
MARK = "\ue000"  # stands for a template tag or variable in the text given to the HTML parser
STRING_ARGUMENT = re.compile(r"""(?:default|default_if_none|yesno):(?P<q>["'])(?P<text>.*?)(?P=q)""")
WITH_ASSIGNMENT = re.compile(r"""\b(?P<name>\w+)=(?P<q>["'])(?P<text>.*?)(?P=q)""")


class _TextParser(HTMLParser):
    def __init__(self, path: str, found: list[Unmarked]) -> None:
        super().__init__(convert_charrefs=True)
        self.path = path
        self.found = found
        self.hidden = 0

    def note(self, text: str) -> None:
        text = " ".join(text.replace(MARK, " ").split())
        if is_words(text):
            self.found.append(Unmarked(self.path, self.getpos()[0], text))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN_ELEMENTS:
            self.hidden += 1
        values = dict(attrs)
        for name, value in attrs:
            if value is None:
                continue
            if name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and (values.get("type") or "").lower() in BUTTON_TYPES
            ):
                self.note(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN_ELEMENTS and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.note(data)


def _token_unmarked(path: str, token, found: list[Unmarked]) -> None:
    """Literal strings a tag or variable shows: `|default:"None yet"`, `include ... with empty="No lines"`,
    and `|pluralize`, an English plural rule."""
    contents = token.contents
    if contents.startswith(("translate", "trans ", "blocktranslate", "blocktrans")):
        return
    line = token.lineno
    for match in STRING_ARGUMENT.finditer(contents):
        if is_words(match["text"]):
            found.append(Unmarked(path, line, match["text"]))
    if contents.startswith(("include ", "with ")):
        for match in WITH_ASSIGNMENT.finditer(contents):
            if match["name"].endswith("_id"):  # an element's id, never shown
                continue
            if is_words(match["text"]):
                found.append(Unmarked(path, line, match["text"]))
    if "|pluralize" in contents:
        found.append(Unmarked(path, line, "|pluralize (use {% blocktranslate count %} or ngettext)"))


def template_unmarked(path: Path) -> list[Unmarked]:
    from django.template.base import Lexer, TokenType

    name = path.relative_to(ROOT).as_posix()
    found: list[Unmarked] = []
    parts: list[str] = []
    skip_until: str | None = None  # the closing tag of a block whose text is marked or is not shown
    for token in Lexer(path.read_text(encoding="utf-8")).tokenize():
        source = token.contents
        newlines = "\n" * (token.token_string.count("\n") if hasattr(token, "token_string") else 0)
        if token.token_type == TokenType.BLOCK:
            command = source.split(maxsplit=1)[0] if source else ""
            if skip_until is not None:
                if command == skip_until:
                    skip_until = None
                parts.append(MARK + "\n" * source.count("\n"))
                continue
            if command in {"blocktranslate", "blocktrans", "comment", "verbatim"}:
                skip_until = "end" + command
            else:
                _token_unmarked(name, token, found)
            parts.append(MARK + "\n" * source.count("\n"))
        elif token.token_type == TokenType.TEXT:
            parts.append(MARK if skip_until is not None else source)
            if skip_until is not None:
                parts.append("\n" * source.count("\n"))
        else:
            if token.token_type == TokenType.VAR and skip_until is None:
                _token_unmarked(name, token, found)
            parts.append(MARK + newlines + "\n" * source.count("\n"))
    text = "".join(parts)
    if path.suffix == ".txt" or "email" in path.name:  # an e-mail's text: all of it is read
        for number, line in enumerate(text.splitlines(), start=1):
            line = " ".join(line.replace(MARK, " ").split())
            if is_words(line):
                found.append(Unmarked(name, number, line))
    else:
        parser = _TextParser(name, found)
        parser.feed(text)
        parser.close()
    return sorted(found, key=lambda item: item.line)


# --- Python ---------------------------------------------------------------------------------------------------

# Calls whose message reaches people: which positional argument holds it (and keyword `message`, `detail`).
MESSAGE_CALLS = {
    "ValidationError": 0,
    "PermissionDenied": 0,
    "Http404": 0,
    "NotFound": 0,
    "ParseError": 0,
    "NotAuthenticated": 0,
    "AuthenticationFailed": 0,
    "MethodNotAllowed": 0,
    "APIException": 0,
    "EditConflict": 0,
    "JobLimitReached": 0,
    "JobFailed": 0,
    "ImportRefused": 0,
    "UploadRefused": 0,
    "InvitationClosed": 0,
    "success": 1,  # messages.success(request, message) and kin
    "error": 1,
    "warning": 1,
    "info": 1,
    "add_message": 2,
    "add_error": 1,  # form.add_error(field, message)
    "progress": 1,  # a job's progress(percent, message), shown on its page
}
# Calls any of whose arguments may be the message: a spreadsheet's problem (after a sheet, a column key...) and the
# admin's message to its user.
CONTEXT_FUNCTIONS = {"pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy"}
ANY_ARGUMENT_CALLS = {"Problem", "problem", "locate", "message_user"}
MESSAGE_OWNERS = {"success": "messages", "error": "messages", "warning": "messages", "info": "messages"}
MESSAGE_KEYWORDS = {
    "verbose_name",
    "verbose_name_plural",
    "label",
    "help_text",
    "error_messages",
    "violation_error_message",
    "empty_label",
    "choices",
    "message",
    "detail",
}
RELATION_FIELDS = {"ForeignKey", "OneToOneField", "ManyToManyField"}  # their first argument is a model
CODE = re.compile(r"^[a-z0-9_.]+$")  # a code or a dotted path, never shown as words
META_ASSIGNMENTS = {"verbose_name", "verbose_name_plural", "default_error_messages", "short_description"}


def _call_name(node: ast.Call) -> tuple[str, str]:
    """(owner, name) of a call: ("messages", "error") for messages.error(...), ("", "_") for _(...)."""
    func = node.func
    if isinstance(func, ast.Name):
        return "", func.id
    if isinstance(func, ast.Attribute):
        owner = func.value
        owner_name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
        return owner_name, func.attr
    return "", ""


class _PythonVisitor(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.found: list[Unmarked] = []
        self.in_choices = 0

    def strings_in(self, node: ast.AST | None) -> None:
        """Every literal in a message position, except what a translation function wraps, dict keys, and the
        arguments of other calls (a code, a parameter)."""
        if node is None:
            return
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if is_words(node.value) and not CODE.match(node.value):
                self.found.append(Unmarked(self.path, node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            if is_words(text) and not CODE.match(text):
                self.found.append(Unmarked(self.path, node.lineno, "f" + repr(text)))
        elif isinstance(node, ast.Call):
            _owner, name = _call_name(node)
            if name in TRANSLATE_FUNCTIONS:
                return
            if name == "format" and isinstance(node.func, ast.Attribute):
                self.strings_in(node.func.value)
            elif name == "join" and isinstance(node.func, ast.Attribute):
                for arg in node.args:
                    self.strings_in(arg)
            return
        elif isinstance(node, ast.Dict):
            for value in node.values:
                self.strings_in(value)
        elif isinstance(node, ast.BinOp):
            self.strings_in(node.left)
            if not isinstance(node.op, ast.Mod):
                self.strings_in(node.right)
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            for element in node.elts:
                self.strings_in(element)
        elif isinstance(node, ast.IfExp):
            self.strings_in(node.body)
            self.strings_in(node.orelse)
        elif isinstance(node, ast.BoolOp):
            for value in node.values:
                self.strings_in(value)

    def choice_labels(self, node: ast.AST) -> None:
        """choices=[("value", "Label"), ...]: the labels."""
        if isinstance(node, (ast.List, ast.Tuple)):
            for element in node.elts:
                if isinstance(element, ast.Tuple) and len(element.elts) == 2:
                    self.strings_in(element.elts[1])

    def visit_Call(self, node: ast.Call) -> None:
        owner, name = _call_name(node)
        if name in MESSAGE_CALLS and (name not in MESSAGE_OWNERS or owner == MESSAGE_OWNERS[name]):
            position = MESSAGE_CALLS[name]
            if len(node.args) > position:
                self.strings_in(node.args[position])
        if name in CONTEXT_FUNCTIONS and not (node.args and isinstance(node.args[0], ast.Constant)):
            # makemessages reads only a literal context: a message given one through a name is never extracted.
            self.found.append(Unmarked(self.path, node.lineno, f"{name}() with a context that is not a literal"))
        if name in ANY_ARGUMENT_CALLS:
            for arg in node.args:
                self.strings_in(arg)
        if name == "display" and owner == "admin":  # @admin.display(description=...): a column's heading
            for keyword in node.keywords:
                if keyword.arg == "description":
                    self.strings_in(keyword.value)
        if name in {"Response", "JsonResponse"} and node.args and isinstance(node.args[0], ast.Dict):
            for key, value in zip(node.args[0].keys, node.args[0].values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "detail":
                    self.strings_in(value)
        if owner == "models" and name.endswith("Field") and name not in RELATION_FIELDS and node.args:
            self.strings_in(node.args[0])  # a model field's verbose name
        for keyword in node.keywords:
            if keyword.arg == "choices":
                self.choice_labels(keyword.value)
            elif keyword.arg in MESSAGE_KEYWORDS:
                self.strings_in(keyword.value)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = {base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "") for base in node.bases}
        if any(base.endswith("Form") for base in bases):
            self.form_fields_labelled(node)
        if bases & {"TextChoices", "IntegerChoices", "Choices"}:
            for statement in node.body:
                value = statement.value if isinstance(statement, ast.Assign) else None
                if isinstance(value, ast.Tuple) and len(value.elts) >= 2:
                    self.strings_in(value.elts[-1])
        self.generic_visit(node)

    def form_fields_labelled(self, node: ast.ClassDef) -> None:
        """A form's field declared without `label` is labelled by Django from its name, in English: each needs
        one (a hidden field, shown to nobody, does not)."""
        for statement in node.body:
            target, value = None, None
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target, value = statement.targets[0], statement.value
            elif isinstance(statement, ast.AnnAssign):
                target, value = statement.target, statement.value
            if not isinstance(target, ast.Name) or not isinstance(value, ast.Call):
                continue
            _owner, name = _call_name(value)
            if not name.endswith("Field"):
                continue
            keywords = {keyword.arg: keyword.value for keyword in value.keywords}
            widget = keywords.get("widget")
            hidden = widget is not None and "Hidden" in ast.unparse(widget)
            if "label" not in keywords and not hidden:
                self.found.append(Unmarked(self.path, statement.lineno, f"form field {target.id!r} without a label"))

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if (
                (isinstance(target, ast.Name) and (target.id in META_ASSIGNMENTS or target.id.endswith("_message")))
                or (isinstance(target, ast.Attribute) and target.attr in MESSAGE_KEYWORDS | META_ASSIGNMENTS)
                or (  # field.error_messages["invalid"] = "..."
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, (ast.Attribute, ast.Name))
                    and getattr(target.value, "attr", getattr(target.value, "id", "")) == "error_messages"
                )
            ):
                self.strings_in(node.value)
        self.generic_visit(node)


def python_unmarked(path: Path) -> list[Unmarked]:
    name = path.relative_to(ROOT).as_posix()
    visitor = _PythonVisitor(name)
    visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=name))
    return sorted(set(visitor.found), key=lambda item: item.line)


# --- The whole product ----------------------------------------------------------------------------------------


def checked_files() -> Iterator[Path]:
    for directory in (ROOT / "templates", *(ROOT / app for app in APPS)):
        for path in sorted(directory.rglob("*")):
            if SKIPPED_PARTS & set(path.relative_to(ROOT).parts):
                continue
            if path.suffix == ".py" or (path.suffix in {".html", ".txt"} and "templates" in path.parts):
                yield path


def unmarked_by_file() -> dict[str, list[Unmarked]]:
    found = {}
    for path in checked_files():
        items = python_unmarked(path) if path.suffix == ".py" else template_unmarked(path)
        if items:
            found[path.relative_to(ROOT).as_posix()] = items
    return found


def languages() -> list[str]:
    from django.conf import settings

    return [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def locale_name(code: str) -> str:
    from django.utils.translation import to_locale

    return to_locale(code)


def catalogue(code: str) -> Path:
    return ROOT / "locale" / locale_name(code) / "LC_MESSAGES" / "django.po"


PO_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


@dataclass(frozen=True)
class PoEntry:
    """One message of a .po file: its context, its msgid (and plural), its translations, whether it is fuzzy."""

    context: str
    msgids: tuple[str, ...]
    translations: tuple[str, ...]
    fuzzy: bool

    @property
    def key(self) -> str:
        """The message as gettext looks it up: its context and msgid, joined by EOT."""
        return f"{self.context}\x04{self.msgids[0]}"


def _po_unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda match: PO_ESCAPES.get(match[1], match[1]), text)


def po_read(path: Path) -> list[PoEntry]:
    """The messages of a .po file, its header and obsolete entries left out."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        lines = [line for line in block.strip().splitlines() if not line.startswith("#~")]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        fields: dict[str, list[str]] = {}
        current = None
        for line in lines:
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"$', line)
            if match:
                current = match[1]
                fields[current] = [_po_unquote(match[2])]
            elif line.startswith('"') and current:
                fields[current].append(_po_unquote(line[1:-1]))
        msgid = "".join(fields.get("msgid", []))
        if not msgid:
            continue  # the header, or no message
        plural = ("".join(fields["msgid_plural"]),) if "msgid_plural" in fields else ()
        translations = tuple("".join(value) for name, value in fields.items() if name.startswith("msgstr"))
        entries.append(PoEntry("".join(fields.get("msgctxt", [])), (msgid, *plural), translations, fuzzy))
    return entries


def po_entries(path: Path) -> dict[str, tuple[bool, bool]]:
    """msgid (with its context) -> (translated, fuzzy), read from a .po file; the header left out."""
    return {entry.key: (bool(entry.translations) and all(entry.translations), entry.fuzzy) for entry in po_read(path)}


def source_messages() -> set[str]:
    """Every message marked in the product's code and templates, as makemessages finds them today: run on a copy
    of the sources, so that the catalogues it writes never touch the committed ones."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder)
        shutil.copy2(ROOT / "manage.py", copy / "manage.py")
        for directory in ("templates", *APPS):
            for path in (ROOT / directory).rglob("*"):
                if path.suffix in {".py", ".html", ".txt"} and "__pycache__" not in path.parts:
                    target = copy / path.relative_to(ROOT)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target)
        (copy / "locale").mkdir()
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "--locale=en", "--no-wrap", *IGNORED],
            cwd=copy,
            check=True,
            capture_output=True,
            env={**os.environ, "VAR_DIR": str(copy / "var"), "STATIC_ROOT": str(copy / "staticfiles")},
        )
        return set(po_entries(copy / "locale" / "en" / "LC_MESSAGES" / "django.po"))


# What makemessages leaves out: the virtualenv, generated files, tests. The Makefile passes the same.
IGNORED = [f"--ignore={pattern}" for pattern in (".venv/*", "var/*", "staticfiles/*", "tests/*", "static/vendor/*")]


def untranslated_by_language(messages: set[str]) -> dict[str, int]:
    """Per language, the messages marked in the product without a translation in its catalogue (missing, empty
    or fuzzy)."""
    counts = {}
    for code in languages():
        path = catalogue(code)
        entries = po_entries(path) if path.exists() else {}
        counts[code] = sum(1 for message in messages if entries.get(message, (False, False)) != (True, False))
    return counts


def baseline_read() -> dict[str, dict[str, int]]:
    if not BASELINE.exists():
        return {"unmarked": {}, "untranslated": {}}
    return json.loads(BASELINE.read_text(encoding="utf-8"))


def baseline_write(baseline: dict[str, dict[str, int]]) -> None:
    cleaned = {part: {key: n for key, n in sorted(counts.items()) if n} for part, counts in baseline.items()}
    BASELINE.write_text(json.dumps(cleaned, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def marking_credit(baseline: dict[str, dict[str, int]], unmarked: dict[str, int]) -> int:
    """How many strings were marked since the baseline: each may be a message still without a translation."""
    return max(0, sum(baseline.get("unmarked", {}).values()) - sum(unmarked.values()))


def untranslated_allowed(baseline: dict[str, dict[str, int]], unmarked: dict[str, int]) -> dict[str, int]:
    """Per language, the messages that may lack a translation: the baseline's, plus the strings marked since (a
    string marked moves from unmarked to untranslated; a new string marked and not translated does not)."""
    credit = marking_credit(baseline, unmarked)
    return {code: baseline.get("untranslated", {}).get(code, 0) + credit for code in languages()}


def baseline_lower() -> dict[str, dict[str, int]]:
    """The baseline with every count that went down written as it is now (and the translations missing for the
    strings marked since); a count that went up beyond that is left alone, for the check to report."""
    baseline = baseline_read()
    unmarked = {path: len(items) for path, items in unmarked_by_file().items()}
    untranslated = untranslated_by_language(source_messages())
    allowed = untranslated_allowed(baseline, unmarked)
    for path in list(baseline.setdefault("unmarked", {})):
        baseline["unmarked"][path] = min(baseline["unmarked"][path], unmarked.get(path, 0))
    for code, count in allowed.items():
        baseline.setdefault("untranslated", {})[code] = min(count, untranslated.get(code, 0))
    baseline_write(baseline)
    return baseline


if __name__ == "__main__":
    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "naphs.settings")
    django.setup()
    if sys.argv[1:] == ["--lower"]:
        baseline_lower()
        print(f"Lowered {BASELINE.relative_to(ROOT)} to today's counts.")
    elif sys.argv[1:] == ["--write"]:  # the first baseline, or after a deliberate decision reviewed as such
        baseline_write(
            {
                "unmarked": {path: len(items) for path, items in unmarked_by_file().items()},
                "untranslated": untranslated_by_language(source_messages()),
            }
        )
    else:
        for items in unmarked_by_file().values():
            for item in items:
                print(item)


def catalogues_compile() -> None:
    """Compile every catalogue to the .mo file the product reads (as `make messages-compile` does), and make the
    running process read them again."""
    from django.utils.translation import trans_real

    for path in sorted((ROOT / "locale").glob("*/LC_MESSAGES/django.po")):
        target = path.with_suffix(".mo")
        if not target.exists() or target.stat().st_mtime < path.stat().st_mtime:
            subprocess.run(["msgfmt", "--check", "--output-file", str(target), str(path)], check=True)
    trans_real._translations = {}
    trans_real._default = None
    trans_real._active = trans_real.Local()
