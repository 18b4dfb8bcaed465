"""Every response carries the Content-Security-Policy, and no page needs anything it refuses.

The policy (naphs/settings.py, SECURE_CSP) lets scripts and styles come from the site's static files only, so
a page that still holds an inline <script>, a <style> element, a style= attribute, an on*= handler, an hx-on
attribute (htmx would have to evaluate it) or a javascript: link would break in the browser. The walk signs in
as the secretariat lead of the demo's populated plans and follows every link and every hx-get it finds, from
the home page and the API docs down, and visits each route (per set of query parameters) twice at most; the
anonymous pages (login, password reset, invitation) and the Django admin, as its administrator, are walked
the same way. tests/browser/ checks the same in Chromium, where a refusal shows as a console message.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from naphs.permissions import Role
from planning.models import Plan
from stakeholders.models import PlanMembership, User
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Script elements that only carry data (json_script): the browser never runs them, the policy does not apply.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}
VISITS_PER_ROUTE = 2
NOT_WALKED = ("/static/", "/media/", "/accounts/logout/")


class Markup(HTMLParser):
    """The inline code a page holds, and the addresses it leads to (links, hx-get, redirects)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inline: list[str] = []
        self.links: list[tuple[str, bool]] = []  # (address, asked by htmx)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on") or name.startswith("hx-on"):
                self.inline.append(f"line {line}: <{tag} {name}={value!r}>")
            elif name == "style":
                self.inline.append(f"line {line}: <{tag} style={value!r}>")
            elif name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.inline.append(f"line {line}: <{tag} {name}={value!r}>")
        if tag == "style":
            self.inline.append(f"line {line}: a <style> element")
        if tag == "script" and not values.get("src") and (values.get("type") or "") not in DATA_SCRIPT_TYPES:
            self.inline.append(f"line {line}: an inline <script> without src")
        if tag == "a" and values.get("href"):
            self.links.append((values["href"], False))
        if values.get("hx-get"):
            self.links.append((values["hx-get"], True))

    handle_startendtag = handle_starttag


@dataclass
class Walk:
    """Every page reachable from `start` by GET, each route visited at most twice."""

    client: Client
    queries: bool = True  # False: the same route with other query parameters (sorting, filters) is not walked again
    problems: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)
    html_pages: int = 0
    _seen: set[str] = field(default_factory=set)
    _per_route: Counter = field(default_factory=Counter)

    def _route(self, path: str, query: str) -> tuple[str, frozenset[str]] | None:
        try:
            match = resolve(path)
        except Resolver404:
            return ("not found", frozenset())
        return (match.view_name, frozenset(part.split("=")[0] for part in query.split("&") if part))

    def run(self, *start: str) -> Walk:
        queue: deque[tuple[str, bool]] = deque((address, False) for address in start)
        while queue:
            address, htmx = queue.popleft()
            parts = urlsplit(address)
            if parts.scheme not in {"", "http"} or parts.netloc not in {"", "testserver"}:
                continue  # mailto:, another site
            if parts.path.startswith(NOT_WALKED):
                continue
            url = parts.path + (f"?{parts.query}" if parts.query and self.queries else "")
            if url in self._seen:
                continue
            route = self._route(parts.path, parts.query if self.queries else "")
            if self._per_route[route] >= VISITS_PER_ROUTE:
                continue
            self._seen.add(url)
            self._per_route[route] += 1
            for next_url in self.visit(url, htmx=htmx):
                queue.append(next_url)
        return self

    def visit(self, url: str, *, htmx: bool) -> list[tuple[str, bool]]:
        response = self.client.get(url, headers={"HX-Request": "true"} if htmx else {})
        self.visited.append(url)
        policy = response.headers.get("Content-Security-Policy")
        if not policy:
            self.problems.append(f"{url} ({response.status_code}): no Content-Security-Policy header")
        elif "unsafe-inline" in policy or "unsafe-eval" in policy or "script-src 'self';" not in policy:
            self.problems.append(f"{url}: a weakened policy: {policy}")
        if response.status_code in {301, 302}:
            return [(urljoin(url, response.headers["Location"]), htmx)]
        if not response.headers.get("Content-Type", "").startswith("text/html"):
            return []
        self.html_pages += 1
        markup = Markup()
        markup.feed(response.content.decode())
        self.problems.extend(f"{url}: {found}" for found in markup.inline)
        return [(urljoin(url, link), link_htmx) for link, link_htmx in markup.links]


@pytest.fixture
def demo(monkeypatch) -> dict[str, Plan]:
    """The demo's populated plans: assessed, drafted, costed and funded, with a member per role."""
    monkeypatch.setenv("DEMO_ALLOW_PRODUCTION", "1")  # the tests run with DEBUG off
    call_command("demo_load", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return {plan.jurisdiction.level: plan for plan in Plan.objects.select_related("jurisdiction")}


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_the_policy_is_sent_on_every_kind_of_response(client, db):
    for url in ("/accounts/login/", "/healthz", "/api/", "/plans/999999/", "/static/css/app.css"):
        response = client.get(url)
        assert response.headers.get("Content-Security-Policy") == POLICY, (url, response.status_code)


def test_no_page_of_a_populated_plan_holds_inline_code_for_its_secretariat_lead(demo):
    lead = User.objects.get(username="lead")
    assert PlanMembership.objects.filter(user=lead, role=Role.SECRETARIAT_LEAD).count() == 2
    client = signed_in("lead")
    # A finished job, so that its page and fragment are walked too.
    national = demo["country"]
    export = client.post(f"/plans/{national.pk}/directory/export/", headers={"HX-Request": "true"})
    assert export.status_code == 200, export.content[:500]
    walk = Walk(client).run("/", "/api/docs/", "/api/redoc/", f"/plans/{national.pk}/", "/plans/999999/")
    assert not walk.problems, "\n".join(walk.problems)
    # The walk really went through the plan: its costing, its activities and their costs, its people.
    routes = {walk._route(urlsplit(url).path, "")[0] for url in walk.visited}
    for route in ("plan_detail", "activities", "activity_detail", "activity_costs", "costing_dashboard", "funding"):
        assert route in routes, sorted(routes)
    for route in ("members", "member_update", "directory", "plan_settings", "targets", "job_detail", "api-docs"):
        assert route in routes, sorted(routes)
    assert walk.html_pages >= 40, walk.visited


def test_no_page_for_visitors_who_are_not_signed_in_holds_inline_code(client, people):
    viewer = people[Role.VIEWER]
    uid = urlsafe_base64_encode(force_bytes(viewer.pk))
    token = default_token_generator.make_token(viewer)
    walk = Walk(client).run(
        "/accounts/login/",
        "/accounts/password/reset/",
        "/accounts/password/reset/sent/",
        "/accounts/password/reset/done/",
        f"/accounts/password/reset/{uid}/{token}/",
        f"/accounts/invitation/{uid}/{token}/",
    )
    assert not walk.problems, "\n".join(walk.problems)
    assert walk.html_pages >= 6, walk.visited


def test_the_django_admin_holds_no_inline_code(plan, people):
    make_user("admin", is_staff=True, is_superuser=True)
    walk = Walk(signed_in("admin"), queries=False).run("/admin/", f"/admin/planning/plan/{plan.pk}/change/")
    assert not walk.problems, "\n".join(walk.problems)
    assert any("/change/" in url for url in walk.visited), walk.visited
    assert walk.html_pages >= 20, walk.visited


def test_the_walk_finds_inline_code_where_there_is_some():
    """The walk's own check: each kind of inline code it must refuse, and what it lets through."""
    markup = Markup()
    markup.feed(
        '<form onsubmit="return confirm()"><button hx-on:click="go()"></button></form><span style="width: 4%"></span>'
        '<style>p {}</style><script>alert(1)</script><a href="javascript:void(0)">x</a>'
        '<script src="/static/js/app.js"></script><script type="application/json" id="data">{}</script>'
        '<svg><rect width="40%" height="100%"/></svg><form data-confirm="Delete?"></form>'
    )
    assert len(markup.inline) == 6, markup.inline
