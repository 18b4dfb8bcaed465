"""`make bench`, load part: a mixed load against gunicorn on PostgreSQL, as people use the product.

The demo is loaded into a database of its own; gunicorn serves it with DEBUG=false (4 workers, static files
collected for WhiteNoise), on 127.0.0.1 only. wrk (a C load generator, so the load costs little CPU beside
the server's) sends 8 and then 50 signed-in clients rotating over the plan overview, the activity table, an
activity page, the costing dashboard, funding, targets, members and the activities API, each for a bounded
time. The same run loads the health check the same way, so each figure is also printed as a ratio to that
trivial page of the same server: machines of different speed compare by the ratios. Figures, never
assertions. PostgreSQL and Redis only (the production services); the API's per-person rate is raised for the
run, since a few sessions stand for many people.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import statistics
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import need_service
from tests.processes import database_url, production_stack

DURATION_SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "15"))
CLIENTS = (8, 50)
SINGLE_REPEAT = 15
WORKERS = 4
PASSWORD = "naphs-bench-load-2026"
PEOPLE = ("lead", "secretariat", "techlead", "focalpoint", "reviewer", "viewer")


def _cookie_header(stack, username: str) -> str:
    """Sign in through the login form, as a browser does; the session and CSRF cookies as one header."""
    client = stack.client()
    client.sign_in(username, PASSWORD)
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in client.cookies)


def _get(port: int, path: str, cookie: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path, headers={"Cookie": cookie})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


WRK_SCRIPT = textwrap.dedent(
    """
    local paths = {PATHS}
    local cookies = {COOKIES}
    local threads = {}
    local offset = 0
    function setup(thread)
        thread:set("offset", offset)
        offset = offset + 7
        table.insert(threads, thread)
    end
    function init(args)
        n = offset
    end
    function request()
        n = n + 1
        local cookie = cookies[(n % #cookies) + 1]
        return wrk.format("GET", paths[(n % #paths) + 1], {["Cookie"] = cookie})
    end
    function done(summary, latency, requests)
        local e = summary.errors
        io.write(string.format(
            "RESULT {\\"requests\\": %d, \\"seconds\\": %f, \\"p50_ms\\": %f, \\"p95_ms\\": %f, \\"errors\\": %d}\\n",
            summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
            e.connect + e.read + e.write + e.status + e.timeout))
    end
    """
)


def _lua_list(items: list[str]) -> str:
    return "{" + ", ".join(json.dumps(item) for item in items) + "}"


def _wrk(port: int, paths: list[str], cookies: list[str], clients: int, folder: Path) -> dict[str, float]:
    script = folder / f"load-{clients}-{len(paths)}.lua"
    script.write_text(WRK_SCRIPT.replace("{PATHS}", _lua_list(paths)).replace("{COOKIES}", _lua_list(cookies)))
    output = subprocess.run(
        [
            "wrk",
            "--threads",
            "2",
            "--connections",
            str(clients),
            "--duration",
            f"{DURATION_SECONDS}s",
            "--timeout",
            "20s",
            "--script",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=DURATION_SECONDS + 60,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def _single(port: int, path: str, cookie: str) -> float:
    """Median time of one request at a time: the page's server time, seen from loopback."""
    times = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(SINGLE_REPEAT):
        started = time.perf_counter()
        connection.request("GET", path, headers={"Cookie": cookie})
        response = connection.getresponse()
        response.read()
        times.append(time.perf_counter() - started)
        assert response.status == 200, f"{path}: {response.status}"
    connection.close()
    return statistics.median(times) * 1000


@pytest.mark.timeout(1800)
def test_bench_load(tmp_path, capsys):
    need_service(settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql", "PostgreSQL")
    need_service(shutil.which("wrk") is not None, "wrk (Debian package wrk)")
    redis_url = os.environ.get("REDIS_URL", "")
    need_service(bool(redis_url), "Redis (REDIS_URL)")
    with production_stack(
        tmp_path,
        postgres_url=database_url(settings.DATABASES["default"]),
        redis_url=redis_url,
        env={"DEMO_PASSWORD": PASSWORD, "DEMO_ALLOW_PRODUCTION": "1", "API_RATE_PER_USER": "1000000/minute"},
        web_workers=WORKERS,
        start_processes=False,
    ) as stack:
        stack.manage("migrate", "--no-input", timeout=600)
        stack.manage("demo_load", timeout=600)
        stack.start_web()
        port = int(stack.base_url.rsplit(":", 1)[1])
        cookies = [_cookie_header(stack, person) for person in PEOPLE]
        _status, body = _get(port, "/api/plans/", cookies[0])
        plans = json.loads(body)["results"]
        plan = next(p for p in plans if p["parent"] is None)["id"]
        _status, body = _get(port, f"/api/plans/{plan}/activities/", cookies[0])
        activity = json.loads(body)["results"][0]["id"]
        pages = {
            "plan overview": f"/plans/{plan}/",
            "activity table": f"/plans/{plan}/activities/",
            "activity page": f"/plans/{plan}/activities/{activity}/",
            "costing dashboard": f"/plans/{plan}/costing/",
            "funding": f"/plans/{plan}/funding/",
            "targets": f"/plans/{plan}/targets/",
            "members": f"/plans/{plan}/members/",
            "activities API": f"/api/plans/{plan}/activities/",
        }
        # Every demo member who may see every page takes part; the rest would only measure refusals.
        allowed = [c for c in cookies if all(_get(port, path, c)[0] == 200 for path in pages.values())]
        assert allowed, "nobody may see every page"
        single = {name: _single(port, path, allowed[0]) for name, path in pages.items()}
        single_health = _single(port, "/healthz", "")
        loads = {}
        for clients in CLIENTS:
            loads[clients] = (
                _wrk(port, list(pages.values()), allowed, clients, tmp_path),
                _wrk(port, ["/healthz"], [""], clients, tmp_path),
            )
    with capsys.disabled():
        print(
            f"\nLoad benchmark: gunicorn {WORKERS} workers, DEBUG=false, PostgreSQL, the demo plan, "
            f"{len(allowed)} signed-in people rotating over {len(pages)} pages, {DURATION_SECONDS} s per run, "
            f"{os.cpu_count()} cores"
        )
        print(f"{'':26} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}   ratio to the health check")
        for clients, (mixed, health) in loads.items():
            for name, figures in ((f"{clients} clients, mixed", mixed), (f"{clients} clients, health", health)):
                print(
                    f"{name:26} {figures['rps']:8.1f} {figures['p50_ms']:8.1f} {figures['p95_ms']:8.1f} "
                    f"{figures['errors']:7d}",
                    end="",
                )
                if figures is mixed and health["requests"] and health["p50_ms"] and health["p95_ms"]:
                    print(
                        f"   req/s {mixed['rps'] / health['rps']:.3f}, p50 {mixed['p50_ms'] / health['p50_ms']:.1f}x, "
                        f"p95 {mixed['p95_ms'] / health['p95_ms']:.1f}x"
                    )
                else:
                    print()
        print(f"{'one at a time':26} {'ms':>8}   ratio to the health check ({single_health:.1f} ms)")
        for name, ms in single.items():
            print(f"{name:26} {ms:8.1f}   {ms / single_health:6.1f}x")
