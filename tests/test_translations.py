"""The translation check of `make test`: no user-visible string added without being marked, no catalogue
lacking a translation of a message, each held to the ratchet of locale/baseline.json (tests/translations.py)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests import translations

LOWER = "run `.venv/bin/python -m tests.translations --lower` and commit locale/baseline.json"


def test_no_file_has_more_unmarked_strings_than_its_baseline():
    allowed = translations.baseline_read()["unmarked"]
    found = translations.unmarked_by_file()
    above = {path: items for path, items in found.items() if len(items) > allowed.get(path, 0)}
    assert not above, "User-visible strings not marked for translation (wrap them in gettext/{% translate %}):\n" + (
        "\n".join(
            f"{path}: {len(items)} unmarked, {allowed.get(path, 0)} allowed\n"
            + "\n".join(f"  {item}" for item in items)
            for path, items in above.items()
        )
    )
    below = {path: count for path, count in allowed.items() if len(found.get(path, [])) < count}
    assert not below, f"Fewer unmarked strings than the baseline allows: {LOWER}.\n" + "\n".join(
        f"  {path}: {len(found.get(path, []))} now, {count} in the baseline" for path, count in below.items()
    )


@pytest.fixture(scope="module")
def source_messages() -> set[str]:
    if shutil.which("xgettext") is None or shutil.which("msgfmt") is None:
        pytest.fail("GNU gettext (xgettext, msgfmt) is needed for the translation check: apt-get install gettext")
    return translations.source_messages()


def test_every_catalogue_compiles(tmp_path):
    if shutil.which("msgfmt") is None:
        pytest.fail("GNU gettext (msgfmt) is needed for the translation check: apt-get install gettext")
    for code in translations.languages():
        path = translations.catalogue(code)
        assert path.exists(), f"{code} has no catalogue at {path.relative_to(translations.ROOT)}: run `make messages`"
        result = subprocess.run(
            ["msgfmt", "--check", "--output-file", str(tmp_path / f"{code}.mo"), str(path)],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, f"{path.relative_to(translations.ROOT)} does not compile:\n{result.stderr}"


def test_no_language_lacks_more_translations_than_its_baseline(source_messages):
    baseline = translations.baseline_read()
    unmarked = {path: len(items) for path, items in translations.unmarked_by_file().items()}
    allowed = translations.untranslated_allowed(baseline, unmarked)
    counts = translations.untranslated_by_language(source_messages)
    above = {code: count for code, count in counts.items() if count > allowed.get(code, 0)}
    assert not above, (
        "Messages without a translation (run `make messages`, then translate the empty and fuzzy entries of "
        "locale/<language>/LC_MESSAGES/django.po):\n"
        + "\n".join(f"  {code}: {count} untranslated, {allowed.get(code, 0)} allowed" for code, count in above.items())
    )
    below = {code: count for code, count in baseline["untranslated"].items() if counts.get(code, 0) < count}
    assert not below, f"More messages translated than the baseline says: {LOWER}.\n" + "\n".join(
        f"  {code}: {counts.get(code, 0)} now, {count} in the baseline" for code, count in below.items()
    )


def test_the_check_finds_unmarked_text_attributes_and_messages(tmp_path, monkeypatch):
    """The check sees what a person reads and leaves alone what is marked or not shown."""
    monkeypatch.setattr(translations, "ROOT", tmp_path)
    template = tmp_path / "templates" / "page.html"
    template.parent.mkdir()
    template.write_text(
        "{% load i18n %}<h1>Unmarked heading</h1><h2>{% translate 'Marked heading' %}</h2>\n"
        '<input type="submit" value="Save it"><input type="hidden" value="plain value">\n'
        '<a title="{% translate "Marked title" %}" aria-label="Unmarked label" href="/x">{{ name }}</a>\n'
        "{% blocktranslate %}Marked {{ x }} block{% endblocktranslate %}{% comment %}A comment{% endcomment %}\n"
        "<script>let words = 'not shown';</script>{{ count }} item{{ count|pluralize }} · NAPHS Planner\n"
        "{{ value|default:'Nothing yet' }}"
    )
    found = [(item.line, item.text) for item in translations.template_unmarked(template)]
    assert sorted(found) == [
        (1, "Unmarked heading"),
        (2, "Save it"),
        (3, "Unmarked label"),
        (5, "item · NAPHS Planner"),
        (5, "|pluralize (use {% blocktranslate count %} or ngettext)"),
        (6, "Nothing yet"),
    ]
    module = tmp_path / "module.py"
    module.write_text(
        "from django.utils.translation import gettext as _\n"
        "raise ValidationError({'field': 'Unmarked refusal'}, code='invalid')\n"
        "raise ValidationError(_('Marked refusal %(x)s') % {'x': 'a parameter'})\n"
        "messages.error(request, f'Unmarked {name} message')\n"
        "name = models.CharField('unmarked verbose name', max_length=3, help_text=_('marked help'))\n"
        "class Kind(models.TextChoices):\n"
        "    A = 'a', 'Unmarked label'\n"
        "    B = 'b', _('Marked label')\n"
        "logger.error('A log line nobody reads on a page')\n"
    )
    found = [item.text for item in translations.python_unmarked(module)]
    assert found == ["Unmarked refusal", "f'Unmarked  message'", "unmarked verbose name", "Unmarked label"]


def test_marking_a_string_lets_its_translation_wait_but_a_new_untranslated_message_does_not(monkeypatch):
    monkeypatch.setattr(translations, "languages", lambda: ["fr"])
    baseline = {"unmarked": {"a.html": 5, "b.py": 2}, "untranslated": {"fr": 10}}
    # Three strings of a.html marked, not yet translated: up to three more messages may wait for French.
    assert translations.untranslated_allowed(baseline, {"a.html": 2, "b.py": 2}) == {"fr": 13}
    # A string added marked but untranslated, nothing else marked: no room.
    assert translations.untranslated_allowed(baseline, {"a.html": 5, "b.py": 2}) == {"fr": 10}


@pytest.mark.parametrize("language", ["fr", "es", "ar", "ru", "zh-hans"])
def test_a_selects_empty_choice_speaks_the_persons_language(language):
    """Django's own label of an empty choice ("- Select an option -"), which Django's catalogues lack in most of the
    product's languages, is carried by the product's."""
    from django.db.models.fields import BLANK_CHOICE_LABEL
    from django.utils import translation

    with translation.override(language):
        assert str(BLANK_CHOICE_LABEL) != "- Select an option -"
