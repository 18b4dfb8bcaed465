"""English left on a page that should be in another language: the product's messages of the language's catalogue
(locale/<language>/LC_MESSAGES/django.po) found in the page's visible text as their English msgid.

Only messages of two words or more whose translation differs from the msgid count: a single word ("Total",
"Description") is too often the same in data, and a translation left equal to its msgid (a code, a name) is meant
to be. A message with placeholders counts when its text around them is there, in order, on one line: "Target of
%(indicator)s saved." is found in "Target of P2.2 saved.".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from playwright.sync_api import Page

from tests import translations

# Placeholders as the catalogues write them: %(name)s, %s, %d, %(count)d ..., and str.format's {name}.
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifgeEr]|\{[^{}]*\}")
TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Message:
    msgid: str
    pattern: re.Pattern[str]


def _pattern(msgid: str) -> re.Pattern[str] | None:
    """What the English message looks like on a page: its tags gone, its placeholders any text on the line,
    its spaces any space; None when what is left is not two words."""
    text = TAG.sub(" ", msgid).replace("%%", "%")
    pieces = [" ".join(piece.split()) for piece in PLACEHOLDER.split(text)]
    if len(re.findall(r"[A-Za-z]{2,}", " ".join(pieces))) < 2:
        return None
    literal = r"[^\n]*?".join(r"\s+".join(map(re.escape, piece.split())) for piece in pieces if piece)
    return re.compile(rf"(?<![A-Za-z]){literal}(?![A-Za-z])")


@cache
def catalogue_messages(language: str) -> tuple[Message, ...]:
    """The messages of the language's catalogue a page must not show in English."""
    messages = []
    for entry in translations.po_read(translations.catalogue(language)):
        translated = entry.translations
        if entry.fuzzy or not translated or not all(translated) or set(translated) <= set(entry.msgids):
            continue
        for msgid in entry.msgids:
            if (pattern := _pattern(msgid)) is not None:
                messages.append(Message(msgid, pattern))
    return tuple(messages)


def visible_text(page: Page) -> str:
    """What a person reads on the page: its title and the rendered text of its body (lists of options included)."""
    return page.title() + "\n" + page.locator("body").inner_text()


def english_left(page: Page, language: str) -> list[str]:
    """The English msgids of the product's messages the page shows untranslated, in the catalogue's order."""
    text = visible_text(page)
    found = []
    for message in catalogue_messages(language):
        if message.pattern.search(text) and message.msgid not in found:
            found.append(message.msgid)
    return found
