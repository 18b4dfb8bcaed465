from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy

from naphs.forms import TextWithoutDirectionControls
from naphs.spreadsheets import ImportRefused
from naphs.uploads import SPREADSHEET_TYPES, SPREADSHEET_WHAT, UploadField, upload_create
from planning.benchmark_mapping import benchmark_mapping_export
from planning.benchmark_platform import DEFAULT_NAME as PLATFORM_LIBRARY_NAME
from planning.benchmark_platform import PACKED_FILES_NAME, is_platform_upload
from planning.crosswalks import crosswalk_export
from planning.guidance import guidance_imported_message, platform_guidance_import
from planning.job_kinds import PlanningJob
from planning.libraries import json_file_read
from planning.models import (
    Assessment,
    BenchmarkAction,
    BenchmarkIndicatorLink,
    BenchmarkLibrary,
    CountryGrant,
    Crosswalk,
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


def _jee3_framework() -> Framework | None:
    return Framework.objects.filter(code="JEE3").first()


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

    def import_file(self, form: forms.Form) -> UploadedFile:
        """The file the job reads (ValidationError when the files given cannot make one)."""
        file: UploadedFile = form.cleaned_data["file"]
        return file

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.import_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_import"
        return [path("import/", view, name=name), *super().get_urls()]

    def may_import(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.may_import(request):
            raise PermissionDenied
        form = self.import_form(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                upload = upload_create(
                    kind=self.import_kind,
                    by=signed_in_user(request),
                    plan=None,
                    file=self.import_file(form),
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


class CrosswalkLinkInline(admin.TabularInline):
    """A crosswalk's links, each end offered from its side's framework (and refused from another by the model)."""

    model = CrosswalkLink
    extra = 1
    crosswalk: Crosswalk | None = None

    def get_formset(self, request: HttpRequest, obj: Crosswalk | None = None, **kwargs: Any) -> Any:
        self.crosswalk = obj
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name in ("source", "target"):
            indicators = Indicator.objects.select_related("framework").order_by("framework__code", "order", "code")
            if self.crosswalk is not None:
                side = "source_framework_id" if db_field.name == "source" else "target_framework_id"
                indicators = indicators.filter(framework_id=getattr(self.crosswalk, side))
            kwargs["queryset"] = indicators
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CrosswalkImportForm(forms.Form):
    crosswalk = forms.ModelChoiceField(
        label=gettext_lazy("Crosswalk"),
        queryset=Crosswalk.objects.select_related("source_framework", "target_framework"),
        help_text=gettext_lazy("Its links are replaced by the file's."),
    )
    file = UploadField(
        label=gettext_lazy("File"),
        extensions=SPREADSHEET_TYPES,
        what=SPREADSHEET_WHAT,
        help_text=gettext_lazy("A .csv or .xlsx file of one row per link."),
    )


@admin.register(Crosswalk)
class CrosswalkAdmin(FileImportAdminMixin, admin.ModelAdmin):
    """Crosswalks with their links inline; each is imported from and exported to a CSV file of its links."""

    list_display = ["name", "source_framework", "target_framework", "approximate", "link_count", "export_link"]
    list_select_related = ["source_framework", "target_framework"]
    inlines = [CrosswalkLinkInline]
    import_form = CrosswalkImportForm
    import_title = gettext_lazy("Import a crosswalk's links")
    import_help = gettext_lazy(
        "A header row naming the crosswalk's two frameworks, e.g. jee2_indicator and jee3_indicator, then one row "
        "per link: an indicator code of the first framework and one of the second, as in the files of "
        "planning/reference/. The file is checked whole; any problem (an unknown code, an indicator of another "
        "framework, the same pair twice) is listed by row and column and nothing changes."
    )
    import_kind = PlanningJob.CROSSWALK_IMPORT

    def import_params(self, form: forms.Form) -> dict[str, Any]:
        return {"crosswalk": form.cleaned_data["crosswalk"].pk}

    def may_import(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request)  # an import replaces a crosswalk's links

    def get_queryset(self, request: HttpRequest) -> QuerySet[Crosswalk]:
        return super().get_queryset(request).annotate(link_count=Count("links"))

    @admin.display(description=gettext_lazy("links"), ordering="link_count")
    def link_count(self, crosswalk: Crosswalk) -> int:
        return crosswalk.link_count  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description=gettext_lazy("export"))
    def export_link(self, crosswalk: Crosswalk) -> str:
        url = reverse("admin:planning_crosswalk_export", args=[crosswalk.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("CSV"))

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.export_view)
        return [path("<int:crosswalk_id>/export/", view, name="planning_crosswalk_export"), *super().get_urls()]

    def export_view(self, request: HttpRequest, crosswalk_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        crosswalk = get_object_or_404(
            Crosswalk.objects.select_related("source_framework", "target_framework"), pk=crosswalk_id
        )
        response = HttpResponse(crosswalk_export(crosswalk=crosswalk), content_type="text/csv; charset=utf-8")
        filename = f"crosswalk_{crosswalk.source_framework.code.lower()}_{crosswalk.target_framework.code.lower()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class UploadFilesField(UploadField):
    """One file or several, each checked as UploadField checks one; cleaned to a list."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(widget=MultipleFileInput(attrs={"accept": ",".join(kwargs["extensions"])}), **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        given = list(data) if isinstance(data, list | tuple) else [data]
        files = [UploadField.clean(self, item, initial) for item in given if item] or [super().clean(None, initial)]
        return [file for file in files if file]


class LibraryImportForm(forms.Form):
    framework = forms.ModelChoiceField(
        label=gettext_lazy("Framework"), queryset=Framework.objects.all(), initial=_jee3_framework
    )
    codes_of = forms.ModelChoiceField(
        label=gettext_lazy("Indicator codes of"),
        queryset=Framework.objects.all(),
        required=False,
        help_text=gettext_lazy(
            "When the file is keyed by another framework's indicator codes (a library written for JEE 2), choose "
            "it: each action goes to the indicators of the framework above that its indicator corresponds to "
            "through the crosswalks. Actions whose indicator corresponds to none are left out and listed."
        ),
    )
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=200,
        required=False,
    )
    source = forms.CharField(
        label=gettext_lazy("Source"),
        max_length=250,
        required=False,
        help_text=gettext_lazy("Where the actions come from."),
    )
    file = UploadFilesField(
        label=gettext_lazy("Files"),
        extensions=(*SPREADSHEET_TYPES, ".json", ".zip"),
        what=gettext_lazy(
            "an Excel workbook (.xlsx), a CSV file (.csv), a JSON file (.json), or the WHO Benchmarks platform's "
            "JSON seed files or a .zip archive of them"
        ),
        help_text=gettext_lazy(
            "One .xlsx, .csv or .json file in the layout described in the README; or the WHO Benchmarks platform's "
            "seed files (benchmark_indicators.json, benchmark_indicator_actions.json, ...: choose several) or a "
            ".zip of them."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].help_text = gettext(
            "An existing library of this name has its actions replaced. For the WHO Benchmarks platform's files, "
            "leave it empty for “%(name)s”."
        ) % {"name": PLATFORM_LIBRARY_NAME}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        files = data.get("file") or []
        platform = is_platform_upload(file.name or "" for file in files)
        if files and not platform and len(files) > 1:
            self.add_error("file", gettext("Choose one file, or the WHO Benchmarks platform's seed files."))
        if files and not platform and not data.get("name"):
            self.add_error("name", gettext("Give the library a name."))
        return data


def _packed(files: list[UploadedFile]) -> UploadedFile:
    """Several files as one .zip, the one file the import's job reads."""
    if len(files) == 1:
        return files[0]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.writestr((file.name or "file").rsplit("/", 1)[-1], file.read())
    if buffer.tell() > settings.UPLOAD_MAX_BYTES:
        raise ValidationError(
            gettext("The files together are larger than %(limit)s; nothing was saved.")
            % {"limit": filesizeformat(settings.UPLOAD_MAX_BYTES)}
        )
    return SimpleUploadedFile(PACKED_FILES_NAME, buffer.getvalue(), content_type="application/zip")


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
        "(separated by “;”) and optionally hazard. Or the WHO Benchmarks platform's JSON seed files as they are, "
        "several files or a .zip of them: their benchmark indicators go to the framework's indicators through the "
        "benchmark indicator mapping."
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

    def import_file(self, form: forms.Form) -> UploadedFile:
        return _packed(form.cleaned_data["file"])

    def import_params(self, form: forms.Form) -> dict[str, Any]:
        framework, codes_of = form.cleaned_data["framework"], form.cleaned_data["codes_of"]
        return {
            "framework": framework.pk if framework else None,
            "codes_of": codes_of.pk if codes_of else None,
            "name": form.cleaned_data["name"],
            "source": form.cleaned_data["source"],
        }


class MappingImportForm(forms.Form):
    file = UploadField(
        label=gettext_lazy("File"),
        extensions=SPREADSHEET_TYPES,
        what=SPREADSHEET_WHAT,
        help_text=gettext_lazy("A .csv or .xlsx file with the columns framework, benchmark_indicator and indicator."),
    )


@admin.register(BenchmarkIndicatorLink)
class BenchmarkIndicatorLinkAdmin(FileImportAdminMixin, admin.ModelAdmin):
    """The mapping of the WHO Benchmarks platform's benchmark indicators to frameworks' indicators, which the
    import of the platform's files follows; exported and imported whole as CSV."""

    list_display = ["benchmark_indicator", "indicator", "framework"]
    list_select_related = ["indicator__framework"]
    list_filter = ["indicator__framework"]
    search_fields = ["benchmark_indicator", "indicator__code", "indicator__name"]
    autocomplete_fields = ["indicator"]
    import_form = MappingImportForm
    import_title = gettext_lazy("Import the benchmark indicator mapping")
    import_help = gettext_lazy(
        "One row per link, with the columns framework (e.g. JEE3), benchmark_indicator (the WHO Benchmarks "
        "platform's number, e.g. 1.1) and indicator (e.g. P1.1), as the export writes them. The file replaces the "
        "whole mapping of each framework it names."
    )
    import_kind = PlanningJob.MAPPING_IMPORT

    def import_params(self, form: forms.Form) -> dict[str, Any]:
        return {}

    @admin.display(description=gettext_lazy("framework"), ordering="indicator__framework__code")
    def framework(self, link: BenchmarkIndicatorLink) -> str:
        return link.indicator.framework.code

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.export_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        return [path("export/", view, name=name), *super().get_urls()]

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = HttpResponse(benchmark_mapping_export(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="benchmark_indicator_mapping.csv"'
        return response


@admin.register(BenchmarkAction)
class BenchmarkActionAdmin(admin.ModelAdmin):
    list_display = ["indicator", "level", "hazard", "text", "library", "benchmark_indicator", "platform_id"]
    list_select_related = ["indicator", "library"]
    list_filter = ["library", "level", "hazard"]
    search_fields = ["text", "indicator__code", "benchmark_indicator"]


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
