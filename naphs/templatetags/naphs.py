"""Template helpers every page uses."""

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language_bidi

register = template.Library()


@register.simple_tag
def icon(name: str, label: str = "") -> str:
    """An icon from the vendored sprite; decorative unless given a label."""
    aria = format_html(' role="img" aria-label="{}"', label) if label else mark_safe(' aria-hidden="true"')
    return format_html('<svg class="icon"{}><use href="{}#i-{}"></use></svg>', aria, static("icons.svg"), name)


@register.simple_tag
def onward() -> str:
    """The arrow from a value to the one that follows it ("2 → 4"), pointing the way the page reads: in a right to
    left language the earlier value stands on the right, so the arrow points left."""
    return "←" if get_language_bidi() else "→"
