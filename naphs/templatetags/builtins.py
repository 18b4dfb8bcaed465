"""Filters every template has without {% load %} (TEMPLATES' "builtins" in settings).

`floatformat` is Django's own, remembered: a costing page writes some five hundred amounts with it and the
formatting (rounding, then the locale's separators and grouping) was over a quarter of the page's work, while
the same amounts come back on every request. Its result depends only on the value as text, the argument and
the active language (whose separators it uses), so those are the key; it is the same text Django writes.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.defaultfilters import floatformat as django_floatformat
from django.utils.translation import get_language

register = template.Library()

FLOATFORMAT_CACHE_SIZE = 20_000
_floatformat_cache: dict[tuple[type, str, Any, str | None], str] = {}


@register.filter(is_safe=True)
def floatformat(text: Any, arg: Any = -1) -> str:
    key = (type(text), str(text), arg, get_language())
    result = _floatformat_cache.get(key)
    if result is None:
        result = django_floatformat(text, arg)
        if len(_floatformat_cache) >= FLOATFORMAT_CACHE_SIZE:
            _floatformat_cache.clear()
        _floatformat_cache[key] = result
    return result
