"""Planning API: SPAR results as WHO publishes them, in two calls, as on the assessment's page. POST the table to
an assessment (multipart `file`): it is kept for the caller and the answer lists its countries (as WHO writes
them, with their WHO region and how many indicators each reports) and the plan's country when the table has it.
Then POST the country to import to the kept table's `import/`: a background job imports that row and its outcome
lists what was scored and what was not reported (`summary` in the job's params is not exposed; the job's message
says it)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from naphs.api import JobSerializer, StrictFieldsMixin, job_accepted
from naphs.permissions import Permission
from naphs.spreadsheets import ImportRefused
from naphs.uploads import upload_file_check, upload_job_start, upload_keep
from planning.assessments import SparCountry, spar_country_preselected, spar_table_rows
from planning.forms import SPAR_TABLE_TYPES, SPAR_TABLE_WHAT
from planning.imports import spar_table_kept
from planning.job_kinds import PlanningJob
from planning.models import Assessment
from stakeholders.access import PlanScopedMixin, assessment_get_for_user


class SparTableUploadSerializer(StrictFieldsMixin, serializers.Serializer):
    file = serializers.FileField(
        help_text=_("WHO's SPAR results table (.xlsx, .csv or .tsv), regional averages above the countries included.")
    )


class SparCountrySerializer(serializers.Serializer):
    name = serializers.CharField(help_text=_("The country's name as the table writes it."))
    region = serializers.CharField(help_text=_("Its WHO region; empty when the table has no region column."))
    reported = serializers.IntegerField(help_text=_("How many of the table's indicators it reports."))
    indicators = serializers.IntegerField(help_text=_("How many indicators the table has."))


class SparTableSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("The kept table: name it in the import's address."))
    filename = serializers.CharField()
    countries = SparCountrySerializer(many=True)
    chosen = serializers.CharField(help_text=_("The plan's country as the table writes it; empty when it lacks it."))


class SparImportSerializer(StrictFieldsMixin, serializers.Serializer):
    country = serializers.CharField(max_length=200, help_text=_("One of the table's countries, as it writes it."))


def _assessment(view: PlanScopedMixin, assessment_id: int) -> Assessment:
    """The assessment to import into, as assessment_get_for_user gives it to write: a baseline assessment of an
    endorsed plan is refused (423), a follow-up goes on."""
    assessment, _membership = assessment_get_for_user(
        user=view.request.user, plan_id=view.plan.pk, assessment_id=assessment_id, write=True
    )
    return assessment


class _AssessmentImportMixin(PlanScopedMixin):
    # The secretariat's; whether the plan's being endorsed refuses it depends on the assessment (_assessment).
    write_need = Permission.MANAGE


class SparTableView(_AssessmentImportMixin, APIView):
    """Upload WHO's SPAR results table to an assessment (the secretariat; multipart, field `file`): 201 with the
    kept table's id, its countries and the plan's country when the table has it. A file that is no SPAR table, or
    one of another edition, is refused (400, `file`, naming the sheet, row and column). The table is the caller's
    for this plan until imported or until it expires (an hour, as every upload waiting for its job)."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=SparTableUploadSerializer, responses={201: SparTableSerializer})
    def post(self, request, plan_id: int, assessment_id: int) -> Response:
        assessment = _assessment(self, assessment_id)
        body = SparTableUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        file = body.validated_data["file"]
        try:
            upload_file_check(file, extensions=SPAR_TABLE_TYPES, what=SPAR_TABLE_WHAT)
            countries = spar_table_rows(upload=file, filename=file.name or "", assessment=assessment)
            if not countries:
                raise ImportRefused([gettext("The table lists no country.")])
            file.seek(0)
            kept = upload_keep(kind=PlanningJob.SPAR_IMPORT, by=request.user, plan=self.plan, file=file)
        except ImportRefused as refused:
            raise serializers.ValidationError({"file": [str(problem) for problem in refused.problems]}) from None
        except DjangoValidationError as error:
            raise serializers.ValidationError({"file": error.messages}) from None
        return Response(_table_data(kept.pk, kept.filename, countries, self.plan), status=status.HTTP_201_CREATED)


def _table_data(upload_id: int, filename: str, countries: list[SparCountry], plan) -> dict:
    country = (plan.jurisdiction.country or plan.jurisdiction).name
    return SparTableSerializer(
        {
            "id": upload_id,
            "filename": filename,
            "countries": countries,
            "chosen": spar_country_preselected(country, countries),
        }
    ).data


class SparTableImportView(_AssessmentImportMixin, APIView):
    """Import one country of a kept SPAR results table into the assessment (the secretariat): 202 with the job.
    A country the table does not hold is refused (400, `country`); a table that is not the caller's, of this plan,
    still waiting, is 404."""

    @extend_schema(request=SparImportSerializer, responses={202: JobSerializer})
    def post(self, request, plan_id: int, assessment_id: int, upload_id: int) -> Response:
        assessment = _assessment(self, assessment_id)
        upload, countries = spar_table_kept(by=request.user, plan=self.plan, upload_id=upload_id)
        body = SparImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        country = body.validated_data["country"]
        if country not in [known.name for known in countries]:
            message = gettext("“%(value)s” is not a country of this table; choose one of the list.")
            raise serializers.ValidationError({"country": [message % {"value": country}]})
        try:
            job = upload_job_start(
                upload=upload, by=request.user, params={"assessment": assessment.pk, "country": country}
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError({"country": error.messages}) from None
        return job_accepted(job, request)


routes: list = []
urlpatterns = [
    path(
        "plans/<int:plan_id>/assessments/<int:assessment_id>/spar-tables/",
        SparTableView.as_view(),
        name="api-spar-tables",
    ),
    path(
        "plans/<int:plan_id>/assessments/<int:assessment_id>/spar-tables/<int:upload_id>/import/",
        SparTableImportView.as_view(),
        name="api-spar-table-import",
    ),
]
