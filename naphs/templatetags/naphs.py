"""Template helpers every page uses."""

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def icon(name: str, label: str = "") -> str:
    """An icon from the vendored sprite; decorative unless given a label."""
    aria = format_html(' role="img" aria-label="{}"', label) if label else mark_safe(' aria-hidden="true"')
    return format_html('<svg class="icon"{}><use href="{}#i-{}"></use></svg>', aria, static("icons.svg"), name)
