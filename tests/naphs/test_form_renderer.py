"""The form renderer writes the common widgets in Python: exactly what Django's widget templates write."""

from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting
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


def test_every_written_widget_is_covered():
    written = {widget.template_name for widget in WIDGETS}
    assert written == set(WIDGET_WRITERS)


@pytest.mark.parametrize("widget", WIDGETS, ids=lambda widget: type(widget).__name__)
@pytest.mark.parametrize("value", VALUES, ids=repr)
@pytest.mark.parametrize("attrs", [{"id": "id_field"}, {}], ids=["with id", "without id"])
def test_a_widget_written_in_python_matches_its_template(widget, value, attrs):
    templates = TemplatesSetting()
    expected = widget.render("field-1", value, attrs=attrs, renderer=templates)
    assert widget.render("field-1", value, attrs=attrs, renderer=FormRenderer()) == expected
