from django.contrib import admin

from planning.models import Jurisdiction, Plan


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin):
    list_display = ["name", "level", "code", "parent", "country"]
    list_filter = ["level"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["title", "jurisdiction", "kind", "first_year", "last_year", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["title", "jurisdiction__name"]
    autocomplete_fields = ["jurisdiction", "parent"]
