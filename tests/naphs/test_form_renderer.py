"""The form renderer writes the common widgets in Python: exactly what Django's widget templates write."""

from decimal import Decimal

import pytest
from django import forms
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from naphs.forms import WIDGET_WRITERS, FormRenderer

WIDGETS = [
    forms.TextInput(attrs={"placeholder": 'say "why" <now>', "required": True, "disabled": False}),
    forms.NumberInput(attrs={"min": 0, "step": Decimal("0.01")}),
    forms.EmailInput(),
    forms.URLInput(),
    forms.PasswordInput(render_value=True),
    forms.HiddenInput(),
    forms.DateInput(),
    forms.TimeInput(),
    forms.DateTimeInput(),
    forms.SearchInput(),
    forms.TelInput(),
    forms.CheckboxInput(),
    forms.Textarea(attrs={"rows": 2, "aria-describedby": "x_helptext"}),
    forms.Select(choices=[("", "---------"), (1, "Ministry & <Health>"), (2, gettext_lazy("Other"))]),
    forms.Select(choices=[("Pillar & 1", [(1, "P1"), (2, mark_safe("<b>P2</b>"))]), (3, "None")]),
    forms.SelectMultiple(choices=[(2026, 2026), (2027, 2027)], attrs={"size": 3}),
    forms.CheckboxSelectMultiple(choices=[("human", "Human & animal <health>"), ("agri", gettext_lazy("Farms"))]),
    forms.CheckboxSelectMultiple(choices=[("Group <1>", [(1, "One"), (2, "Two")]), (3, "Three")]),
    forms.RadioSelect(choices=[("", "None"), ("a", "A")], attrs={"class": "inline"}),
]
VALUES = [None, "", 'a < b & "c"', mark_safe("<i>safe</i>"), 0, 1, 2026, Decimal("12.50"), True, ["1", "3"]]


class TemplatesOnly(FormRenderer):
    """The same renderer writing every widget through its template."""

    writers = {}


def test_every_written_widget_is_covered():
    written = {widget.template_name for widget in WIDGETS}
    assert written == set(WIDGET_WRITERS)


@pytest.mark.parametrize("widget", WIDGETS, ids=lambda widget: type(widget).__name__)
@pytest.mark.parametrize("value", VALUES, ids=repr)
@pytest.mark.parametrize("attrs", [{"id": "id_field"}, {}], ids=["with id", "without id"])
def test_a_widget_written_in_python_matches_its_template(widget, value, attrs):
    expected = widget.render("field-1", value, attrs=attrs, renderer=TemplatesOnly())
    assert widget.render("field-1", value, attrs=attrs, renderer=FormRenderer()) == expected


@pytest.mark.parametrize("renderer", [FormRenderer(), TemplatesOnly()], ids=["written", "templates"])
def test_what_a_person_types_is_written_in_its_own_direction(renderer):
    for widget in (forms.TextInput(), forms.Textarea(), forms.EmailInput(), forms.SearchInput(), forms.URLInput()):
        assert 'dir="auto"' in widget.render("name", "الصكوك القانونية", renderer=renderer)
    for widget in (forms.NumberInput(), forms.PasswordInput(), forms.HiddenInput(), forms.DateInput()):
        assert "dir=" not in widget.render("n", 1, renderer=renderer)
    assert widget_dir(forms.TextInput(attrs={"dir": "ltr"}).render("code", "P1", renderer=renderer)) == "ltr"


def widget_dir(html: str) -> str:
    return html.split('dir="', 1)[1].split('"', 1)[0]


def test_a_form_field_writes_dir_auto_on_a_page():
    class NameForm(forms.Form):
        title = forms.CharField()
        notes = forms.CharField(widget=forms.Textarea)

    html = str(NameForm(initial={"title": "خطة Demoland"}))
    assert html.count('dir="auto"') == 2
