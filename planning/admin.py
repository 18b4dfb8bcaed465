from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from naphs.spreadsheets import ImportRefused, Problem
from planning.libraries import library_import
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

MAX_PROBLEMS_SHOWN = 200


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


class LibraryImportForm(forms.Form):
    framework = forms.ModelChoiceField(queryset=Framework.objects.all())
    name = forms.CharField(max_length=200, help_text="An existing library of this name has its actions replaced.")
    source = forms.CharField(max_length=250, required=False, help_text="Where the actions come from.")
    file = forms.FileField(help_text="An .xlsx, .csv or .json file in the layout described in the README.")


@admin.register(BenchmarkLibrary)
class BenchmarkLibraryAdmin(admin.ModelAdmin):
    list_display = ["name", "framework", "source", "action_count", "created_at"]
    list_select_related = ["framework"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BenchmarkLibrary]:
        return super().get_queryset(request).annotate(action_count=Count("actions"))

    @admin.display(description="actions", ordering="action_count")
    def action_count(self, library: BenchmarkLibrary) -> int:
        return library.action_count

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="planning_benchmarklibrary_import"), *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a library file; on any problem, list them all and save nothing."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        problems: list[Problem] = []
        form = LibraryImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                library = library_import(
                    framework=form.cleaned_data["framework"],
                    name=form.cleaned_data["name"],
                    source=form.cleaned_data["source"],
                    upload=upload,
                    filename=upload.name,
                )
            except ImportRefused as refused:
                problems = refused.problems
            else:
                count = library.actions.count()
                self.message_user(request, f"Imported {count} actions into “{library}”.", messages.SUCCESS)
                return redirect("admin:planning_benchmarklibrary_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import a benchmark action library",
            "form": form,
            "problems": problems[:MAX_PROBLEMS_SHOWN],
            "problems_hidden": max(len(problems) - MAX_PROBLEMS_SHOWN, 0),
            "problem_count": len(problems),
        }
        return TemplateResponse(request, "admin/planning/benchmarklibrary/import.html", context)


@admin.register(BenchmarkAction)
class BenchmarkActionAdmin(admin.ModelAdmin):
    list_display = ["indicator", "level", "text", "library"]
    list_select_related = ["indicator", "library"]
    list_filter = ["library", "level"]
    search_fields = ["text", "indicator__code"]


class IndicatorScoreInline(admin.TabularInline):
    model = IndicatorScore
    extra = 0


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["plan", "kind", "date", "framework"]
    inlines = [IndicatorScoreInline]
