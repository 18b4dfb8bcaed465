from django.contrib import admin

from planning.models import (
    Assessment,
    BenchmarkAction,
    BenchmarkLibrary,
    CrosswalkLink,
    Framework,
    Indicator,
    IndicatorScore,
    Jurisdiction,
    Plan,
    TechnicalArea,
)


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
    list_select_related = ["jurisdiction"]


class TechnicalAreaInline(admin.TabularInline):
    model = TechnicalArea
    extra = 0


@admin.register(Framework)
class FrameworkAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    inlines = [TechnicalAreaInline]


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "technical_area", "framework"]
    list_filter = ["framework"]
    search_fields = ["code", "name"]


@admin.register(CrosswalkLink)
class CrosswalkLinkAdmin(admin.ModelAdmin):
    list_display = ["source", "target"]
    autocomplete_fields = ["source", "target"]


@admin.register(BenchmarkLibrary)
class BenchmarkLibraryAdmin(admin.ModelAdmin):
    list_display = ["name", "framework", "source", "created_at"]


@admin.register(BenchmarkAction)
class BenchmarkActionAdmin(admin.ModelAdmin):
    list_display = ["indicator", "level", "text", "library"]
    list_filter = ["library", "level"]
    search_fields = ["text", "indicator__code"]


class IndicatorScoreInline(admin.TabularInline):
    model = IndicatorScore
    extra = 0


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["plan", "kind", "date", "framework"]
    inlines = [IndicatorScoreInline]
