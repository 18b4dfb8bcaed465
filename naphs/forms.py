"""What every form shares: how a field renders (label, widget, then its errors and help beside it; what a person
types in its own direction), text that cannot disguise itself, and how a service's ValidationError or EditConflict
lands on a form."""

import html
from collections.abc import Callable
from functools import partial
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting
from django.forms.utils import pretty_name
from django.utils.formats import localize
from django.utils.safestring import SafeData
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # in Django, not in its stubs
from django.utils.translation import gettext_noop

from naphs.errors import EditConflict
from naphs.languages import bidi_controls_refuse

# The label of a select's empty choice is Django's own (django.db.models.fields.BLANK_CHOICE_LABEL); Django's catalogues
# lack it in Spanish, Arabic, Russian and Chinese, so the product's carry it (they are read before Django's).
DJANGO_BLANK_CHOICE_LABEL = gettext_noop("- Select an option -")


def _escape(text: str) -> str:
    """conditional_escape for a str: what django.utils.html.escape does (html.escape), without its lazy-string
    wrapper, which cost more than the escaping in a page's thousand option labels."""
    return text if isinstance(text, SafeData) else html.escape(text)


def _text(value: Any) -> str:
    """`{{ value }}` as a template writes it: localized, then escaped unless already safe."""
    if type(value) is not str:
        value = localize(template_localtime(value))
        if not issubclass(type(value), str):
            value = str(value)
    return _escape(value)


def _string(value: Any) -> str:
    """`{{ value|stringformat:'s' }}` as a template writes it."""
    text = "%s" % (str(value) if isinstance(value, tuple) else value)
    return text if isinstance(value, SafeData) else html.escape(text)


def _attrs(attrs: dict[str, Any]) -> str:
    """Django's django/forms/widgets/attrs.html."""
    return "".join(
        f" {_text(name)}" if value is True else f' {_text(name)}="{_string(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict[str, Any]) -> str:
    """Django's django/forms/widgets/input.html (text.html, number.html, hidden.html, ... include it)."""
    value = f' value="{_string(widget["value"])}"' if widget["value"] != None else ""  # noqa: E711 (the template's test)
    return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


def _textarea(widget: dict[str, Any]) -> str:
    """Django's django/forms/widgets/textarea.html."""
    value = _text(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


def _select(widget: dict[str, Any]) -> str:
    """templates/django/forms/widgets/select.html."""
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        parts.extend(
            f'\n  <option value="{_string(option["value"])}"{_attrs(option["attrs"])}>{_text(option["label"])}</option>'
            for option in group_choices
        )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


OPTION_TEMPLATES = ("django/forms/widgets/checkbox_option.html", "django/forms/widgets/radio_option.html")


def _option(option: dict[str, Any]) -> str:
    """Django's checkbox_option.html and radio_option.html (input_option.html, with its include of input.html),
    newlines included, as multiple_input.html includes them."""
    if not option["wrap_label"]:
        return f"{_input(option)}\n\n\n"
    target = option["attrs"].get("id")
    label_for = f' for="{_text(target)}"' if target else ""
    return f"<label{label_for}>{_input(option)}\n {_text(option['label'])}</label>\n\n"


def _multiple_input(widget: dict[str, Any]) -> str | None:
    """Django's multiple_input.html (checkbox_select.html and radio.html include it); None for options of
    another template."""
    attrs = widget["attrs"]
    parts = ["<div"]
    if attrs.get("id"):
        parts.append(f' id="{_text(attrs["id"])}"')
    if attrs.get("class"):
        parts.append(f' class="{_text(attrs["class"])}"')
    parts.append(">")
    for group, options, _index in widget["optgroups"]:
        if group:
            parts.append(f"\n  <div><label>{_text(group)}</label>")
        for option in options:
            if option["template_name"] not in OPTION_TEMPLATES:
                return None
            parts.append(f"<div>\n    {_option(option)}</div>")
        if group:
            parts.append("\n  </div>")
    parts.append("\n</div>")
    return "".join(parts)


INPUT_TYPES = ("text", "number", "email", "url", "password", "hidden", "date", "datetime", "time", "search", "tel")
# The widget templates written here in Python instead of through the template engine: the same markup (a test
# renders each both ways), at a small part of the cost. A targets page renders some 170 widgets, and a template
# each, with its include of attrs.html, was most of that page's work.
WIDGET_WRITERS: dict[str, Callable[[dict[str, Any]], str | None]] = {
    **{f"django/forms/widgets/{kind}.html": _input for kind in (*INPUT_TYPES, "checkbox")},
    "django/forms/widgets/textarea.html": _textarea,
    "django/forms/widgets/select.html": _select,
    "django/forms/widgets/checkbox_select.html": _multiple_input,
    "django/forms/widgets/radio.html": _multiple_input,
}


# The widgets a person types words into: they write what is typed in its own direction (`dir="auto"`), so an Arabic
# name typed into a French page, or a Latin one into an Arabic page, reads as it is written.
TYPED_TEXT = frozenset(f"django/forms/widgets/{kind}.html" for kind in ("text", "search", "email", "url", "textarea"))


def _typed_text_direction(template_name: str, context: dict[str, Any]) -> dict[str, Any]:
    widget = context.get("widget")
    if template_name not in TYPED_TEXT or not isinstance(widget, dict) or "dir" in widget.get("attrs", {}):
        return context
    return {**context, "widget": {**widget, "attrs": {**widget["attrs"], "dir": "auto"}}}


class FormRenderer(TemplatesSetting):
    field_template_name = "forms/field.html"
    writers = WIDGET_WRITERS

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        context = _typed_text_direction(template_name, context)
        writer = self.writers.get(template_name)
        if writer is not None and request is None and set(context) == {"widget"}:
            written = writer(context["widget"])
            if written is not None:
                return written
        return super().render(template_name, context, request=request)


class TextWithoutDirectionControls(forms.BaseForm):
    """A form whose text fields refuse the invisible characters that force a direction (naphs.languages), with a
    message naming the field. The forms that write names and titles (plans, activities, organizations, groups,
    catalogue items) derive from it; the API refuses them for every text field (naphs.api)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field, forms.CharField) and not isinstance(field.widget, forms.PasswordInput):
                field.validators.append(partial(bidi_controls_refuse, field=field.label or pretty_name(name)))


def whole_number(raw: object) -> int | None:
    """A submitted id or version as a number, or None when it is not one. Only ASCII digits count: `str.isdigit`
    also accepts "²" and "٣", which `int()` then refuses or reads, and an id from a form is never either."""
    if not isinstance(raw, str):
        return None
    raw = raw.strip()
    return int(raw) if raw and raw.isascii() and raw.isdigit() else None


def form_errors_from(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError next to the fields it names, and the rest above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def form_refused(form: forms.BaseForm, refusal: EditConflict | ValidationError) -> int:
    """Put what a service refused on the form; the status to answer with: 409 when someone else saved first,
    422 when the input itself was refused."""
    if isinstance(refusal, EditConflict):
        form.add_error(None, str(refusal))
        return 409
    form_errors_from(form, refusal)
    return 422


def form_field[F: forms.Field](form: forms.BaseForm, name: str, kind: type[F]) -> F:
    """The form's field `name`, known to be a `kind` (a choice among rows, to narrow its queryset, say)."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"{type(form).__name__}.{name} is not a {kind.__name__}.")
    return field
