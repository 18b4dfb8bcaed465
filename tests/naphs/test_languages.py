"""The language a person reads the product in: the browser's until they choose, then their own choice, kept on
their account and applied on every device, to pages, API error messages and the e-mails they receive."""

from __future__ import annotations

import datetime
import re

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import translation
from rest_framework.authtoken.models import Token

from stakeholders.models import User
from stakeholders.services import invitation_create
from tests import translations
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, scope="module")
def _catalogues_compiled():
    """The compiled catalogues, as `make test` leaves them, for a run of this file on its own."""
    translations.catalogues_compile()


def choose(client: Client, code: str, next_url: str = "/accounts/login/"):
    return client.post("/language/", {"language": code, "next": next_url})


def test_before_a_choice_pages_are_in_the_browsers_language_and_right_to_left_for_arabic(client):
    arabic = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ar,en;q=0.5").content.decode()
    assert '<html lang="ar" dir="rtl"' in arabic
    assert "تسجيل الدخول" in arabic  # "Log in"
    french = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").content.decode()
    assert '<html lang="fr" dir="ltr"' in french
    assert "Se connecter" in french
    chinese = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="zh-hans" dir="ltr"' in chinese
    unknown = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="xx-YY").content.decode()
    assert '<html lang="en" dir="ltr"' in unknown


def test_a_visitors_choice_is_kept_in_a_cookie(client):
    response = choose(client, "es")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="es" dir="ltr"' in page


def test_a_signed_in_persons_choice_follows_them_to_another_device(client, lead):
    client.force_login(lead)
    assert choose(client, "ar", "/").status_code == 302
    lead.refresh_from_db()
    assert lead.language == "ar"
    # Another device: no cookie, a browser asking for French. The account's choice wins.
    other_device = Client()
    other_device.force_login(lead)
    page = other_device.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="ar" dir="rtl"' in page
    assert "خططي" in page  # "My plans"


def test_signing_in_applies_the_persons_language(client):
    make_user("amina", language="ru")
    choose(client, "fr")  # chosen on this device before signing in
    response = client.post("/accounts/login/", {"username": "amina", "password": PASSWORD}, follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert '<html lang="ru"' in response.content.decode()


@pytest.mark.parametrize("code", ["xx", "EN", "zh", "../../etc", "", "fr" * 20])
def test_a_language_the_site_does_not_offer_is_refused_with_a_clear_message(client, lead, code):
    client.force_login(lead)
    response = choose(client, code, "/")
    assert response.status_code == 400
    page = response.content.decode()
    assert "is not a language this site offers" in page
    assert "Français (fr)" in page
    lead.refresh_from_db()
    assert lead.language == ""
    assert "naphs_language" not in response.cookies


def test_the_chooser_goes_back_only_to_this_site(client):
    response = choose(client, "fr", "https://elsewhere.example/steal")
    assert response["Location"] == "/"


def test_api_errors_are_in_the_persons_language_and_values_stay_locale_free(api_client, lead, plan):
    token = Token.objects.create(user=lead)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    english = api_client.get(f"/api/plans/{plan.pk}/").json()
    User.objects.filter(pk=lead.pk).update(language="fr")
    refused = api_client.post("/api/organizations/", {}, format="json")
    assert refused.status_code == 400
    assert refused.json()["name"] == ["Ce champ est obligatoire."]  # "This field is required."
    assert api_client.get(f"/api/plans/{plan.pk}/").json() == english
    translation.activate("en")


def test_an_invitation_is_written_in_the_language_its_recipient_chose(
    lead, plan, mailoutbox, django_capture_on_commit_callbacks
):
    make_user("nadia", language="fr")
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        invitation_create(plan=plan, by=lead, email="nadia@example.org", role="viewer")
        invitation_create(plan=plan, by=lead, email="newcomer@example.org", role="viewer")
    subjects = {message.to[0]: message.subject for message in mailoutbox}
    assert subjects["nadia@example.org"] == f"Vous êtes invité(e) à rejoindre {plan.title} sur NAPHS Planner"
    # An address without an account, or an account without a choice: the language of the person inviting.
    assert subjects["newcomer@example.org"] == f"You are invited to {plan.title} on NAPHS Planner"


def test_a_job_runs_in_the_language_of_the_person_who_asked(plan, lead, monkeypatch):
    """Its progress, problems and file are written for them: the worker runs the handler in their language."""
    from naphs import job_kinds, jobs
    from naphs.services import job_create
    from stakeholders.job_kinds import StakeholdersJob

    seen = []

    def handler(*, job, progress):
        seen.append(translation.get_language())
        raise jobs.JobFailed(translation.gettext("Log in"))

    kind = StakeholdersJob.DIRECTORY_EXPORT
    monkeypatch.setitem(job_kinds.KINDS, kind, job_kinds.JobKind(kind, kind.label, handler))
    User.objects.filter(pk=lead.pk).update(language="es")
    job = job_create(kind=StakeholdersJob.DIRECTORY_EXPORT, by=User.objects.get(pk=lead.pk), plan=plan)
    with translation.override("en"):
        jobs.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert seen == ["es"]
    assert job.message == "Iniciar sesión"


DATE_FILTER = re.compile(r"""\|date:(?P<q>["'])(?P<format>[^"']*)(?P=q)""")
NAMED_FORMATS = {
    "DATE_FORMAT",
    "DATETIME_FORMAT",
    "YEAR_MONTH_FORMAT",
    "MONTH_DAY_FORMAT",
    "SHORT_DATE_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "TIME_FORMAT",
    "c",
}


@pytest.mark.parametrize(
    ("code", "date", "moment"),
    [
        ("en", "20 Nov 2025", "20 Nov 2025 14:05"),
        ("fr", "20 novembre 2025", "20 novembre 2025 14:05"),
        ("es", "20 de noviembre de 2025", "20 de noviembre de 2025 a las 14:05"),
        ("ar", "20 نوفمبر، 2025", "20 نوفمبر، 2025، 14:05"),
        ("ru", "20 ноября 2025 г.", "20 ноября 2025 г. 14:05"),
        ("zh-hans", "2025年11月20日", "2025年11月20日 14:05"),
    ],
)
def test_dates_on_pages_are_written_the_way_the_persons_language_writes_them(code, date, moment):
    page = Template('{{ day|date:"DATE_FORMAT" }}|{{ moment|date:"DATETIME_FORMAT" }}')
    with translation.override(code):
        written = page.render(
            Context({"day": datetime.date(2025, 11, 20), "moment": datetime.datetime(2025, 11, 20, 14, 5)})
        )
    assert written == f"{date}|{moment}"


def test_templates_name_a_date_format_instead_of_writing_a_pattern_of_their_own():
    """A pattern such as "j M Y" would put the day, month and year in English's order in every language."""
    patterns = [
        f"{path.relative_to(translations.ROOT)}: {match['format']}"
        for path in sorted((translations.ROOT / "templates").rglob("*.*"))
        for match in DATE_FILTER.finditer(path.read_text(encoding="utf-8"))
        if match["format"] not in NAMED_FORMATS
    ]
    assert not patterns, "Dates written with a pattern instead of a named format:\n" + "\n".join(patterns)


@pytest.mark.parametrize(("code", "arrow"), [("en", "→"), ("fr", "→"), ("ar", "←")])
def test_the_arrow_from_a_value_to_the_next_points_the_way_the_page_reads(code, arrow):
    with translation.override(code):
        assert Template("{% load naphs %}2 {% onward %} 4").render(Context()) == f"2 {arrow} 4"
