"""The plan document (costing/document.py): what its pages say, in which language and direction, the draft mark on
every page, the stored render served while the plan is unchanged, and a renderer that fetches nothing but the
product's static files, whatever the plan's text says. Rendered in-process here; tests/naphs/test_worker.py
renders it in a real worker."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.utils import translation
from pypdf import PdfReader

from costing.document import (
    BASE_URL,
    Endorsement,
    FetchRefused,
    css_string,
    document_data,
    document_html,
    document_key,
    document_render,
    document_stored,
    plan_document_build,
    static_file_for,
    static_files_only,
)
from costing.job_kinds import CostingJob
from costing.rollups import plan_rollup
from costing.services import cost_line_create
from naphs.models import Job
from planning.models import Activity, AreaPriority, PlanContext
from tests.conftest import need_service
from tests.costing.conftest import area, line_fields
from tests.planning.test_baseline import spar_baseline, topped_up  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

HOSTILE_TITLE = '<img src="file:///etc/passwd"> <link rel="stylesheet" href="http://127.0.0.1:9/x.css"> see https://example.org/a.png'


def pages_text(content: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages]


@pytest.fixture
def costed(plan, costing, moa_line, moh_activity, lead):
    cost_line_create(
        activity=moh_activity, by=lead, fields=line_fields(description="Reagents", category="supplies"),
        frequencies={2026: 1},
    )  # fmt: skip
    PlanContext.objects.create(plan=plan, narrative="Testland borders three countries and has two seaports.")
    AreaPriority.objects.create(plan=plan, technical_area=area("D1"), rank=1, rationale="The laboratory is weakest.")
    plan_rollup(plan_id=plan.pk)
    return plan


def render(plan, language="en", endorsement=None):
    with translation.override(language):
        return document_render(data=document_data(plan=plan, endorsement=endorsement))


def test_the_document_has_a_cover_contents_figures_areas_costs_and_annexes(costed, moa_activity, moh_activity):
    rendered = render(costed)
    pages = pages_text(rendered.content)
    assert rendered.pages == len(pages) >= 8
    text = "\n".join(pages)
    assert pages[0].count("Testland NAPHS 2026–2030") == 1 and "Strategic plan, 2026–2030" in pages[0]
    assert "Not endorsed: this document is a draft." in pages[0]
    assert "Contents" in pages[1] and "Summary of the figures" in pages[1]
    assert "Testland borders three countries" in text
    assert "The laboratory is weakest." in text
    assert "Train border veterinarians" in text and "Equip the reference laboratory" in text
    assert "Baseline and target levels" in text and "Costs by year (USD)" in text
    assert "Costing summary and funding gap" in text and "Needed and funded, by technical area" in text
    assert "Workshop venue" in text and "Reagents" in text  # the annex's cost lines
    assert "Annex: the secretariat and the organizations" in text
    # The contents give each part's page: the costing summary's own page number follows its title there.
    costing_page = next(
        i for i, page in enumerate(pages) if page.lstrip().startswith("Costing summary and funding gap")
    )
    contents_line = next(line for line in pages[1].splitlines() if line.startswith("Costing summary and funding gap"))
    assert contents_line.rstrip(" .").endswith(str(costing_page + 1))
    assert rendered.refused == []
    # The contents' entries link to their pages, and the outline lists the chapters.
    reader = PdfReader(io.BytesIO(rendered.content))
    numbers = {page.indirect_reference.idnum: number for number, page in enumerate(reader.pages)}
    targets = {numbers[link.get_object()["/Dest"][0].idnum] for link in reader.pages[1]["/Annots"]}
    assert {2, costing_page} <= targets
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert titles[:2] == ["Contents", "Summary of the figures"] and "Costing summary and funding gap" in titles


def test_a_document_rendered_in_several_parts_numbers_its_pages_across_them(costed, moa_activity, monkeypatch):
    import costing.document as module

    monkeypatch.setattr(module, "PART_ROWS", 12)  # a part for about each chapter, as a plan of thousands has
    data = document_data(plan=costed)
    assert len(module.document_parts(data)) >= 6
    with translation.override("en"):
        rendered = document_render(data=data)
    pages = pages_text(rendered.content)
    assert rendered.pages == len(pages)
    assert all("DRAFT: not endorsed" in page for page in pages)
    assert "Page 1 of" not in pages[0]  # the cover has no number
    for number, page in enumerate(pages[1:], start=2):
        assert f"Page {number} of {len(pages)}" in page
    for title in ("Costing summary and funding gap", "Annex: the secretariat and the organizations", "D1 National"):
        page = next(i for i, text in enumerate(pages) if text.lstrip().startswith(title))
        line = next(line for line in pages[1].splitlines() if line.lstrip().startswith(title))
        assert line.rstrip(" .").endswith(str(page + 1)), (title, line, page)
    assert rendered.fetched == [f"{BASE_URL}static/css/document.css"] and rendered.refused == []


def test_every_page_of_a_draft_is_marked_draft_and_an_endorsed_version_is_not(costed):
    draft = pages_text(render(costed).content)
    assert all("DRAFT: not endorsed" in page for page in draft)

    endorsed = render(costed, endorsement=Endorsement(version=2, endorsed_on=date(2026, 3, 4), authority="Cabinet"))
    pages = pages_text(endorsed.content)
    assert not any("DRAFT" in page for page in pages)
    assert "Version 2, endorsed" in pages[0] and "Cabinet" in pages[0]


def _installed_fonts() -> str:
    import shutil
    import subprocess

    if not shutil.which("fc-list"):
        return ""
    return subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, check=False).stdout


def test_the_document_is_in_the_requesters_language_arabic_right_to_left_and_chinese_with_its_fonts(
    costed, catalogues_compiled
):
    fonts = _installed_fonts()
    need_service("Noto Naskh Arabic" in fonts and "Noto Sans CJK SC" in fonts, "fonts-noto-core and fonts-noto-cjk")
    french = pages_text(render(costed, "fr").content)
    assert "Contexte national" in french[1] and "Domaines techniques" in french[2]

    with translation.override("ar"):
        html = document_html(data=document_data(plan=costed))
    assert '<html lang="ar" dir="rtl">' in html
    arabic = render(costed, "ar")
    assert arabic.refused == []
    fonts = _fonts(PdfReader(io.BytesIO(arabic.content)))
    assert any("Arabic" in name for name in fonts), fonts
    assert "السياق القطري" in pages_text(arabic.content)[3]

    chinese = render(costed, "zh-hans")
    fonts = _fonts(PdfReader(io.BytesIO(chinese.content)))
    assert any("CJK" in name for name in fonts), fonts
    assert "国家背景" in pages_text(chinese.content)[1]


def _fonts(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        for font in (page.get("/Resources", {}).get("/Font", {}) or {}).values():
            names.add(str(font.get_object().get("/BaseFont")))
    return names


def test_user_text_cannot_make_the_renderer_read_a_file_or_a_url(costed, moa_activity):
    Activity.objects.filter(pk=moa_activity.pk).update(title=HOSTILE_TITLE)
    PlanContext.objects.filter(plan=costed).update(narrative='<style>@import url("file:///etc/hostname");</style>')

    rendered = render(costed)
    text = "\n".join(pages_text(rendered.content))
    # The title is printed as the text it is, and the only thing fetched was the product's stylesheet.
    assert '<img src="file:///etc/passwd">' in text.replace("\n", " ")
    assert "root:" not in text
    assert rendered.fetched == [f"{BASE_URL}static/css/document.css"]
    assert rendered.refused == []  # escaped, the plan's text asked for nothing


def test_html_that_reached_the_renderer_unescaped_still_reads_no_file_and_no_url():
    from weasyprint import HTML

    fetcher = static_files_only()
    hostile = (
        '<link rel="stylesheet" href="http://127.0.0.1:9/x.css"><img src="file:///etc/passwd">'
        '<img src="/static/../../../../etc/passwd"><style>@import url("file:///etc/hostname");</style>'
        '<p style="background: url(https://example.org/a.png)">text</p><iframe src="file:///etc/passwd"></iframe>'
        '<object data="file:///etc/passwd"></object><embed src="file:///etc/passwd"><svg><image href="file:///etc/passwd"/></svg>'
    )
    content = HTML(string=hostile, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()
    assert fetcher.fetched == []
    assert set(fetcher.refused) >= {
        "http://127.0.0.1:9/x.css",
        "file:///etc/passwd",
        "file:///etc/hostname",
        "https://example.org/a.png",
    }
    assert "root:" not in "".join(pages_text(content))


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:9/x.css",
        "https://example.org/a.png",
        "data:text/css,body{}",
        f"{BASE_URL}static/../../../../etc/passwd",
        f"{BASE_URL}static/%2e%2e/%2e%2e/etc/passwd",
        f"{BASE_URL}static/css/../../naphs/settings.py",
        f"{BASE_URL}media/jobs/anything.pdf",
        f"{BASE_URL}static//etc/passwd",
        f"{BASE_URL}static/no-such-file.css",
        "https://document.invalid.example.org/static/css/document.css",
    ],
)
def test_the_fetcher_refuses_anything_but_the_products_static_files(url):
    fetcher = static_files_only()
    with pytest.raises(FetchRefused):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_the_fetcher_answers_the_products_static_files():
    response = static_files_only().fetch(f"{BASE_URL}static/css/document.css")
    assert b"@page" in response.read()
    assert static_file_for(f"{BASE_URL}static/favicon.svg").name == "favicon.svg"


def test_a_css_string_cannot_close_the_style_element_or_the_string():
    assert css_string('a"b</style>\\') == '"a\\22 b\\3c \\2f style\\3e \\5c "'


def test_the_key_moves_with_each_change_to_what_the_document_shows(costed, moa_activity, moa_line, lead):
    from costing.services import cost_line_update
    from planning.activities import activity_update

    keys = [document_key(plan=costed, language="en")]
    assert document_key(plan=costed, language="en") == keys[-1]  # nothing changed: the same key
    assert document_key(plan=costed, language="fr") != keys[-1]

    activity_update(activity=moa_activity, by=lead, version=moa_activity.version, title="Train vets")
    keys.append(document_key(plan=costed, language="en"))
    cost_line_update(line=moa_line, by=lead, version=moa_line.version, fields={"quantity": Decimal("4")})
    keys.append(document_key(plan=costed, language="en"))
    AreaPriority.objects.filter(plan=costed).delete()  # priorities are saved by replacing them
    keys.append(document_key(plan=costed, language="en"))
    Activity.objects.create(plan=costed, technical_area=area("R1"), title="Simulation exercise")
    keys.append(document_key(plan=costed, language="en"))
    assert len(set(keys)) == len(keys)


def test_an_unchanged_plan_is_served_from_its_last_render_and_a_change_renders_again(
    client, costed, people, lead, moa_activity, monkeypatch, django_capture_on_commit_callbacks
):
    renders = []
    import costing.document as module

    real = module.document_render
    monkeypatch.setattr(module, "document_render", lambda **kw: renders.append(1) or real(**kw))
    client.force_login(people["reviewer"])  # any member may have the document

    with django_capture_on_commit_callbacks(execute=True):  # the job runs in-process (a worker in test_worker.py)
        response = client.post(f"/plans/{costed.pk}/document/request/")
    job = Job.objects.get(plan=costed, kind=CostingJob.PLAN_DOCUMENT)
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert len(renders) == 1
    assert document_stored(plan=costed, language="en") is not None

    response = client.post(f"/plans/{costed.pk}/document/request/")
    assert response.status_code == 302 and response["Location"] == f"/plans/{costed.pk}/document/download/"
    assert Job.objects.filter(kind=CostingJob.PLAN_DOCUMENT).count() == 1 and len(renders) == 1
    download = client.get(response["Location"])
    assert download["Content-Type"] == "application/pdf"
    content = b"".join(download.streaming_content)
    assert content == job.result.read()
    assert 'filename="testland-naphs-2026-2030-en.pdf"' in download["Content-Disposition"]

    # Another member in another language: another render, kept beside the English one.
    client.force_login(people["viewer"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/plans/{costed.pk}/document/request/", HTTP_ACCEPT_LANGUAGE="fr")
    assert len(renders) == 2

    Activity.objects.create(plan=costed, technical_area=area("R1"), title="Simulation exercise")
    assert document_stored(plan=costed, language="en") is None
    assert client.get(f"/plans/{costed.pk}/document/download/").status_code == 404
    client.force_login(people["reviewer"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/plans/{costed.pk}/document/request/")
    assert len(renders) == 3
    # The English render of the older plan was replaced; the French one stays until the next French render.
    names = sorted(default_storage.listdir(f"documents/plan-{costed.pk}")[1])
    assert [name[:3] for name in names] == ["en-", "fr-"]


def test_the_page_offers_the_document_and_outsiders_get_not_found(client, costed, people):
    client.force_login(people["viewer"])
    response = client.get(f"/plans/{costed.pk}/document/")
    assert response.status_code == 200
    assert "Prepare the plan document (PDF)" in response.text
    assert "every page of its document is marked draft" in response.text
    client.force_login(people["outsider"])
    assert client.get(f"/plans/{costed.pk}/document/").status_code == 404
    assert client.post(f"/plans/{costed.pk}/document/request/").status_code == 404
    assert client.get(f"/plans/{costed.pk}/document/download/").status_code == 404
    assert not Job.objects.filter(kind=CostingJob.PLAN_DOCUMENT).exists()


def test_the_handler_reports_progress_and_refuses_an_unknown_language(costed, lead):
    job = Job(kind=CostingJob.PLAN_DOCUMENT, plan=costed, requested_by=lead, params={"language": "en"})
    seen: list[int] = []
    result = plan_document_build(job=job, progress=lambda percent, message: seen.append(percent))
    assert result.filename.endswith("-en.pdf") and result.content.startswith(b"%PDF")
    assert seen == sorted(seen) and seen[0] < 30 < seen[-1]

    from naphs.jobs import JobFailed

    job.params = {"language": "xx"}
    with pytest.raises(JobFailed):
        plan_document_build(job=job, progress=lambda percent, message: None)


def test_the_levels_table_names_each_baselines_source(costed, spar_baseline, topped_up):  # noqa: F811
    """A SPAR baseline topped up by a partial JEE 3 self-assessment: each level says which assessment gives it and
    when, and that a SPAR score came through the crosswalk."""
    with translation.override("en"):
        html = document_html(data=document_data(plan=costed))

    levels = html[html.index("Baseline and target levels") :]
    levels = levels[: levels.index("</table>")]
    assert "Source of the baseline" in levels
    p11 = levels[levels.index("P1.1 ") :]
    p11 = p11[: p11.index("</tr>")]
    assert "from the Self-assessment of" in p11 and "2025" in p11 and "crosswalk" not in p11
    p12 = levels[levels.index("P1.2 ") :]
    p12 = p12[: p12.index("</tr>")]
    assert "State Party self-assessment annual report (SPAR)" in p12 and "2024" in p12
    assert "through the crosswalk" in p12
