from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy

from naphs.forms import TextWithoutDirectionControls
from naphs.spreadsheets import ImportRefused
from naphs.uploads import SPREADSHEET_TYPES, SPREADSHEET_WHAT, UploadField, upload_create
from planning.guidance import guidance_imported_message, platform_guidance_import
from planning.job_kinds import PlanningJob
from planning.libraries import json_file_read
from planning.models import (
    Assessment,
    BenchmarkAction,
    BenchmarkLibrary,
    CountryGrant,
    CrosswalkLink,
    Framework,
    GuidanceDocument,
    Indicator,
    IndicatorScore,
    Jurisdiction,
    Plan,
    TechnicalArea,
)
from planning.services import country_grant_give, country_grant_withdraw
from stakeholders.access import signed_in_user

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


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


@admin.register(CountryGrant)
class CountryGrantAdmin(admin.ModelAdmin):
    """Who may open national plans of which country. A grant is given or withdrawn, never edited, and both are
    recorded in the audit trail with the administrator who did it."""

    list_display = ["user", "country", "granted_by", "granted_at"]
    list_select_related = ["user", "country", "granted_by"]
    list_filter = ["country"]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name", "country__name"]
    autocomplete_fields = ["user"]
    readonly_fields = ["granted_by", "granted_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: CountryGrant | None = None) -> list[str]:
        if obj is not None:
            return ["user", "country", *self.readonly_fields]
        return list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: CountryGrant, form: forms.ModelForm, change: bool) -> None:
        if change:
            return  # nothing of a grant can change
        saved = country_grant_give(by=signed_in_user(request), user=obj.user, country=obj.country)
        obj.pk, obj.granted_by, obj.granted_at = saved.pk, saved.granted_by, saved.granted_at

    def delete_model(self, request: HttpRequest, obj: CountryGrant) -> None:
        country_grant_withdraw(grant=obj, by=signed_in_user(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CountryGrant]) -> None:
        for grant in queryset.select_related("user", "country"):
            country_grant_withdraw(grant=grant, by=signed_in_user(request))


class FileImportAdminMixin(admin.ModelAdmin):
    """An "Import from file" page on a model's admin: the file is kept and a background job checks it whole and
    saves all of it or nothing; the job's page follows it and lists every problem. Subclasses name the form, a
    title, a help text, the job's kind and `import_params` (what the job needs besides the file)."""

    import_form: type[forms.Form]
    import_title: StrOrPromise = ""
    import_help: StrOrPromise = ""
    import_kind: PlanningJob

    def import_params(self, form: forms.Form) -> dict[str, Any]:
        raise NotImplementedError

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.import_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_import"
        return [path("import/", view, name=name), *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = self.import_form(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                upload = upload_create(
                    kind=self.import_kind,
                    by=signed_in_user(request),
                    plan=None,
                    file=form.cleaned_data["file"],
                    params=self.import_params(form),
                )
            except ValidationError as error:
                form.add_error("file", error)
            else:
                return redirect("job_detail", job_id=upload.job_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": self.import_title,
            "help": self.import_help,
            "form": form,
        }
        return TemplateResponse(request, "admin/file_import.html", context)


class FrameworkImportForm(TextWithoutDirectionControls, forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=20,
        help_text=gettext_lazy("Short code, e.g. JEE4. An existing framework is added to."),
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    file = UploadField(
        label=gettext_lazy("File"),
        extensions=SPREADSHEET_TYPES,
        what=SPREADSHEET_WHAT,
        help_text=gettext_lazy("An .xlsx or .csv file of technical areas and indicators."),
    )


class TechnicalAreaInline(admin.TabularInline):
    model = TechnicalArea
    extra = 0


@admin.register(Framework)
class FrameworkAdmin(FileImportAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name"]
    inlines = [TechnicalAreaInline]
    import_form = FrameworkImportForm
    import_title = gettext_lazy("Load a framework from a spreadsheet")
    import_help = gettext_lazy(
        "One row per indicator with the columns pillar (Prevent, Detect, Respond, IHR-related hazards and points "
        "of entry, Other), area_code, area_name, indicator_code and indicator_name, as in "
        "planning/reference/frameworks.csv. Optional columns give the names in other languages, named after the "
        "name and the language: area_name_fr, indicator_name_fr, and the same with es, ar, ru or zh; pages show the "
        "reader's language, else the English. Areas and indicators are added or renamed, never deleted."
    )

    import_kind = PlanningJob.FRAMEWORK_IMPORT

    def import_params(self, form: forms.Form) -> dict[str, Any]:
        return {"code": form.cleaned_data["code"], "name": form.cleaned_data["name"]}


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
    framework = forms.ModelChoiceField(label=gettext_lazy("Framework"), queryset=Framework.objects.all())
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=200,
        help_text=gettext_lazy("An existing library of this name has its actions replaced."),
    )
    source = forms.CharField(
        label=gettext_lazy("Source"),
        max_length=250,
        required=False,
        help_text=gettext_lazy("Where the actions come from."),
    )
    file = UploadField(
        label=gettext_lazy("File"),
        extensions=(*SPREADSHEET_TYPES, ".json"),
        what=gettext_lazy("an Excel workbook (.xlsx), a CSV file (.csv) or a JSON file (.json)"),
        help_text=gettext_lazy("An .xlsx, .csv or .json file in the layout described in the README."),
    )


class GuidanceImportForm(forms.Form):
    file = UploadField(
        label=gettext_lazy("File"),
        extensions=(".json",),
        what=gettext_lazy("a JSON file (.json)"),
        help_text=gettext_lazy(
            "The WHO Benchmarks platform's reference library (reference_library_documents.json): a list of "
            "documents, each with a title, a reference type, a link and the actions it cites."
        ),
    )


@admin.register(BenchmarkLibrary)
class BenchmarkLibraryAdmin(FileImportAdminMixin, admin.ModelAdmin):
    list_display = ["name", "framework", "source", "action_count", "created_at"]
    list_select_related = ["framework"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BenchmarkLibrary]:
        return super().get_queryset(request).annotate(action_count=Count("actions"))

    @admin.display(description=gettext_lazy("actions"), ordering="action_count")
    def action_count(self, library: BenchmarkLibrary) -> int:
        return library.action_count  # type: ignore[attr-defined]  # annotated by get_queryset

    import_form = LibraryImportForm
    import_title = gettext_lazy("Import a benchmark action library")
    import_help = gettext_lazy(
        "One row (or JSON object) per action, with the columns indicator, level (2 to 5), action, action_types "
        "(separated by “;”) and optionally hazard."
    )

    import_kind = PlanningJob.LIBRARY_IMPORT
    change_form_template = "admin/planning/benchmarklibrary/change_form.html"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.guidance_import_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_guidance_import"
        return [path("<int:library_id>/guidance/", view, name=name), *super().get_urls()]

    def guidance_import_view(self, request: HttpRequest, library_id: int) -> HttpResponse:
        """Import WHO's reference library (the platform's JSON array of documents) into this library: its
        documents are replaced, all or nothing, and tied to the library's actions."""
        library = self.get_object(request, str(library_id))
        if library is None:
            raise Http404
        if not self.has_change_permission(request, library):
            raise PermissionDenied
        form = GuidanceImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                with transaction.atomic():
                    imported = platform_guidance_import(
                        library=library, documents=json_file_read(upload), filename=upload.name
                    )
            except ImportRefused as refusal:
                for problem in refusal.problems[:50]:
                    form.add_error("file", str(problem))
            else:
                messages.success(request, guidance_imported_message(imported))
                return redirect("admin:planning_benchmarklibrary_change", library.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": library,
            "title": gettext_lazy("Import WHO's reference library"),
            "form": form,
        }
        return TemplateResponse(request, "admin/planning/guidance_import.html", context)

    def import_params(self, form: forms.Form) -> dict[str, Any]:
        framework = form.cleaned_data["framework"]
        return {
            "framework": framework.pk if framework else None,
            "name": form.cleaned_data["name"],
            "source": form.cleaned_data["source"],
        }


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


@admin.register(GuidanceDocument)
class GuidanceDocumentAdmin(admin.ModelAdmin):
    """WHO's reference documents of the benchmark libraries (national guidance is the plans' secretariats')."""

    list_display = ["title", "reference_type", "library", "technical_area_name", "date"]
    list_select_related = ["library"]
    list_filter = ["library", "reference_type"]
    search_fields = ["title", "description", "author"]
    readonly_fields = ["platform_id", "technical_area_name"]
    filter_horizontal = ["actions"]
    fields = [
        "library",
        "title",
        "reference_type",
        "link",
        "description",
        "author",
        "date",
        "relevant_pages",
        "technical_area_name",
        "platform_id",
        "actions",
        "order",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[GuidanceDocument]:
        return super().get_queryset(request).filter(library__isnull=False)
