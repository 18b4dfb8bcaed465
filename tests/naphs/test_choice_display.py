"""get_FOO_display from the choices built once: the label Django gives, for every choice and for a stray value."""

import pytest
from django.db import models

from planning.models import Activity, Plan

FIELDS = [(Activity, "priority"), (Activity, "status"), (Activity, "action_type"), (Activity, "source")]
FIELDS += [(Plan, "kind"), (Plan, "status")]


@pytest.mark.parametrize(("model", "name"), FIELDS, ids=lambda item: getattr(item, "__name__", item))
def test_a_choice_label_is_the_one_django_gives(model, name):
    field = model._meta.get_field(name)
    for value in [*(choice for choice, _label in field.flatchoices), "", "not-a-choice", None]:
        instance = model(**{field.attname: value})
        expected = models.Model._get_FIELD_display(instance, field)
        assert getattr(instance, f"get_{name}_display")() == expected
        assert getattr(instance, f"get_{name}_display")() == expected  # from the dict kept
