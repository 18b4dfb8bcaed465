"""What every form shares: how a field renders (label, widget, then its errors and help beside it), and how a
service's ValidationError or EditConflict lands on a form."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting

from naphs.errors import EditConflict


class FormRenderer(TemplatesSetting):
    field_template_name = "forms/field.html"


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
