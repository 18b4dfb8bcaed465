"""How every form field renders: label, widget, then its errors and help right beside it."""

from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    field_template_name = "forms/field.html"
