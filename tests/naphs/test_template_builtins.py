"""The filters every template has: floatformat, remembered, writes exactly what Django's writes, in each language."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.template.defaultfilters import floatformat as django_floatformat
from django.utils import translation

from naphs.templatetags.builtins import floatformat

VALUES = [
    Decimal("1234.5"),
    Decimal("-0.004"),
    Decimal("0.00"),
    Decimal("-1234567.891"),
    Decimal("1E+3"),
    0,
    1.5,
    "12.345",
    "not a number",
    None,
]
ARGS = ["2g", "-2g", "-2", "-6g", 2, -1]


@pytest.mark.parametrize("language", ["en", "fr", "de"])
def test_floatformat_writes_what_djangos_writes_in_each_language(language):
    for first in ("en", language):  # what one language left in memory never shows in another
        with translation.override(first):
            for value in VALUES:
                for arg in ARGS:
                    floatformat(value, arg)
    with translation.override(language):
        for value in VALUES:
            for arg in ARGS:
                assert floatformat(value, arg) == django_floatformat(value, arg), (value, arg)


def test_templates_use_the_remembered_floatformat_without_loading_it():
    template = Template('{{ amount|floatformat:"2g" }}')
    assert template.render(Context({"amount": Decimal("264000")})) == "264,000.00"
    assert Template("{{ amount|floatformat }}").engine.template_builtins[-1].filters["floatformat"] is floatformat
