"""Start the product's own processes for tests and benchmarks: Celery workers and beat, gunicorn, manage.py.

Every process runs in a session (process group) of its own, so it can be killed with its children, as a
machine losing it would; its output goes to a log file that a failing test prints. `production_stack` runs
what docker-compose.yml runs, read from that file: migrations then gunicorn (static files collected first, as
the Dockerfile does, and served by WhiteNoise), a Celery worker and beat, on a PostgreSQL database of its own
(created, then dropped) and Redis, with DEBUG=false, on a free port of 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

PROJECT_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # this virtualenv's python, celery and gunicorn
CELERY = BIN / "celery"
GUNICORN = BIN / "gunicorn"
# What a process needs of this machine's environment; nothing of the test run (settings, CI, pytest) leaks in.
PASSED_THROUGH = ("HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "TZ")


class ProcessFailed(AssertionError):
    """A process exited, or a condition was not met in time; the message carries its output."""


@dataclass
class Process:
    name: str
    command: Sequence[str]
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else "(no output)"

    def running(self) -> bool:
        return self.popen.poll() is None

    def report(self) -> str:
        return f"----- {self.name}: {shlex.join(self.command)} -----\n{self.output()}"

    def wait_until(self, condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
        """Poll `condition` until true; fail, showing this process's output, if it exits or time runs out."""
        deadline = time.monotonic() + seconds
        while not condition():
            if not self.running():
                raise ProcessFailed(f"{self.name} exited ({self.popen.returncode}) before {what}:\n{self.report()}")
            if time.monotonic() > deadline:
                raise ProcessFailed(f"Timed out after {seconds} s waiting for {what}.\n{self.report()}")
            time.sleep(0.2)

    def children(self) -> set[int]:
        """The process's direct children (a Celery worker's pool processes, gunicorn's workers)."""
        found = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.pid:
                found.add(int(stat.parent.name))
        return found

    def kill(self) -> None:
        """SIGKILL the whole process group at once: no shutdown, no acknowledgement, nothing given back."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=15)

    def stop(self, seconds: float = 15) -> None:
        """A warm shutdown (SIGTERM), then SIGKILL for the group and whatever it left behind."""
        if self.running():
            self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=seconds)
        self.kill()


def stop_all(running: Sequence[Process], seconds: float = 15) -> None:
    """Stop processes side by side: SIGTERM to each, a shared wait, then SIGKILL to what is left of them."""
    for process in running:
        if process.running():
            process.popen.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + seconds
    for process in running:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        process.kill()


def start(name: str, command: Sequence[str], *, env: Mapping[str, str], log_dir: Path) -> Process:
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    with log.open("ab") as output:
        popen = subprocess.Popen(
            list(command),
            cwd=PROJECT_DIR,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Process(name=name, command=list(command), popen=popen, log=log)


def run(command: Sequence[str], *, env: Mapping[str, str], timeout: float = 120, check: bool = True) -> str:
    """Run a command to its end in the project folder; its output, or ProcessFailed showing it."""
    result = subprocess.run(
        list(command), cwd=PROJECT_DIR, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
    )
    output = result.stdout + result.stderr
    if check and result.returncode:
        raise ProcessFailed(f"$ {shlex.join(command)} (exit {result.returncode})\n{output}")
    return output


def manage(*args: str, env: Mapping[str, str], timeout: float = 120) -> str:
    return run([sys.executable, "manage.py", *args], env=env, timeout=timeout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_env(**values: str) -> dict[str, str]:
    """This machine's basics, this virtualenv first on PATH, and `values`: nothing else of the test run."""
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    env["PATH"] = os.pathsep.join([str(BIN), os.environ.get("PATH", "/usr/bin:/bin")])
    env["PYTHONPATH"] = str(PROJECT_DIR)  # tests.worker_handlers, for workers of the tests
    env["PYTHONUNBUFFERED"] = "1"
    env["DJANGO_SETTINGS_MODULE"] = "naphs.settings"
    env.update(values)
    return env


# Databases and Redis.


def database_url(settings_dict: Mapping[str, Any], name: str | None = None) -> str:
    """A postgres:// URL for a Django DATABASES entry, for another process (or another database on its server)."""
    credentials = quote(settings_dict["USER"] or "", safe="")
    if settings_dict["PASSWORD"]:
        credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
    host = settings_dict["HOST"] or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    database = quote(name or settings_dict["NAME"], safe="")
    return f"postgres://{credentials}{'@' if credentials else ''}{host}{port}/{database}"


def _server_connection(url: str):
    """A connection in autocommit to the server of `url`, on its maintenance database."""
    import psycopg2

    parts = urllib.parse.urlsplit(url)
    connection = psycopg2.connect(
        dbname="postgres",
        user=urllib.parse.unquote(parts.username or "") or None,
        password=urllib.parse.unquote(parts.password or "") or None,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
    )
    connection.autocommit = True
    return connection


def database_create(url: str) -> None:
    """Create the empty database `url` names (owned by its user)."""
    from psycopg2 import sql

    name = urllib.parse.unquote(urllib.parse.urlsplit(url).path.lstrip("/"))
    with contextlib.closing(_server_connection(url)) as connection, connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_drop(url: str) -> None:
    from psycopg2 import sql

    name = urllib.parse.unquote(urllib.parse.urlsplit(url).path.lstrip("/"))
    with contextlib.closing(_server_connection(url)) as connection, connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=3).ping())
    except redis.RedisError:
        return False


def queue_forget(redis_url: str, queue: str) -> None:
    """Remove what a queue left in Redis: waiting and unacknowledged messages, its bindings."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    for tag, payload in client.hscan_iter("unacked"):
        if queue.encode() in payload:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


# Static files.

STATIC_CACHE = PROJECT_DIR / "var" / "test-static"


def _static_sources_digest() -> str:
    """A digest of every file collectstatic would collect (name, size, time) and of the settings that shape it."""
    import hashlib

    import django
    import whitenoise
    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders

    digest = hashlib.sha256(f"{django.__version__} {getattr(whitenoise, '__version__', '')}".encode())
    digest.update(repr(getattr(settings, "WHITENOISE_SKIP_COMPRESS_EXTENSIONS", None)).encode())
    for finder in get_finders():
        for path, storage in sorted(finder.list([]), key=lambda item: item[0]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def static_collected(env: Mapping[str, str]) -> Path:
    """A STATIC_ROOT filled by `manage.py collectstatic --no-input` (as the Dockerfile's build does) with the
    production storage (hashed names, compressed), kept in var/test-static/ and reused while the sources are the
    same: compressing the API docs' bundles takes most of a minute of CPU."""
    target = STATIC_CACHE / _static_sources_digest()
    if (target / "staticfiles.json").exists():
        return target
    STATIC_CACHE.mkdir(parents=True, exist_ok=True)
    building = STATIC_CACHE / f"{target.name}.{uuid.uuid4().hex[:8]}.tmp"
    manage("collectstatic", "--no-input", env={**env, "STATIC_ROOT": str(building)}, timeout=900)
    try:
        building.rename(target)
    except OSError:  # another run finished first: use its copy
        import shutil

        shutil.rmtree(building, ignore_errors=True)
    return target


# What docker compose runs.


def compose_services(path: Path = PROJECT_DIR / "docker-compose.yml") -> dict[str, dict[str, Any]]:
    import yaml

    return yaml.safe_load(path.read_text())["services"]


def compose_command(service: str) -> list[str]:
    command = compose_services()[service]["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def dockerfile_command(path: Path = PROJECT_DIR / "Dockerfile") -> list[str]:
    """The image's default command (its CMD line, in exec form)."""
    line = next(line for line in path.read_text().splitlines() if line.startswith("CMD "))
    return json.loads(line.removeprefix("CMD "))


# A signed-in HTTP client.


class HttpError(AssertionError):
    pass


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is an answer to look at, not to follow
        return None


class Client:
    """A browser in miniature on the standard library: cookies, the CSRF token, no redirects followed."""

    def __init__(self, base_url: str, timeout: float = 30) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect, urllib.request.ProxyHandler({})
        )

    def request(self, method: str, path: str, data: Mapping[str, str] | None = None) -> Response:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body, method=method)  # noqa: S310 (http only)
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
            request.add_header("X-CSRFToken", self.cookie("csrftoken") or "")
            request.add_header("Referer", self.base_url + path)
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                return Response(answer.status, dict(answer.headers), answer.read(), answer.url)
        except urllib.error.HTTPError as answer:
            return Response(answer.code, dict(answer.headers), answer.read(), answer.url)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, data: Mapping[str, str] | None = None) -> Response:
        return self.request("POST", path, data or {})

    def cookie(self, name: str) -> str | None:
        return next((cookie.value for cookie in self.cookies if cookie.name == name), None)

    def sign_in(self, username: str, password: str) -> None:
        page = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if page.status != 200 or token is None:
            raise HttpError(f"The login page answered {page.status} without a form:\n{page.text[:2000]}")
        answer = self.post(
            "/accounts/login/", {"csrfmiddlewaretoken": token[1], "username": username, "password": password}
        )
        if answer.status != 302 or not self.cookie("sessionid"):
            raise HttpError(f"Signing in as {username} answered {answer.status}:\n{answer.text[:2000]}")


# The production-like stack.


@dataclass
class Stack:
    """The processes of docker-compose.yml on this machine, and where they keep their state."""

    base_url: str
    env: dict[str, str]
    database_url: str
    redis_url: str
    queue: str
    media_root: Path
    log_dir: Path
    worker_args: Sequence[str]
    web: Process | None = None
    beat: Process | None = None
    workers: list[Process] = field(default_factory=list)

    @property
    def worker(self) -> Process:
        """The worker started last."""
        return self.workers[-1]

    def processes(self) -> list[Process]:
        return [process for process in (self.web, self.beat, *self.workers) if process is not None]

    def report(self) -> str:
        return "\n".join(process.report() for process in self.processes())

    def manage(self, *args: str, timeout: float = 120, **env: str) -> str:
        return manage(*args, env={**self.env, **env}, timeout=timeout)

    def client(self) -> Client:
        return Client(self.base_url)

    def start_worker(self, *, wait: bool = True) -> Process:
        """`worker` of docker-compose.yml (plus `worker_args`); ready once it consumes its queue."""
        command = [*compose_command("worker"), *self.worker_args]
        worker = start(f"worker-{len(self.workers) + 1}", command, env=self.env, log_dir=self.log_dir)
        self.workers.append(worker)
        if wait:
            self.worker_ready(worker)
        return worker

    def worker_ready(self, worker: Process, seconds: float = 120) -> None:
        worker.wait_until(lambda: " ready." in worker.output(), "the worker to be ready", seconds)

    def start_beat(self) -> Process:
        self.beat = start("beat", compose_command("beat"), env=self.env, log_dir=self.log_dir)
        return self.beat

    def start_web(self, seconds: float = 120) -> Process:
        """`web` of docker-compose.yml: migrations, then gunicorn; ready once /healthz answers."""
        self.web = start("web", compose_command("web"), env=self.env, log_dir=self.log_dir)
        client = self.client()

        def healthy() -> bool:
            try:
                return client.get("/healthz").status == 200
            except OSError:
                return False

        self.web.wait_until(healthy, "the web server to answer /healthz", seconds)
        return self.web


@contextlib.contextmanager
def production_stack(
    workdir: Path,
    *,
    postgres_url: str,
    redis_url: str,
    env: Mapping[str, str] | None = None,
    worker_args: Sequence[str] = (),
    web_workers: int = 2,
    start_processes: bool = True,
) -> Iterator[Stack]:
    """A fresh database (naphs_smoke_<random>, dropped at the end) on the server of `postgres_url`, a queue of
        its own on `redis_url`, static files collected as the Dockerfile does (static_collected), then beat, a worker
    and web.

        `env` adds or overrides settings (e.g. a shorter heartbeat). Everything is stopped at the end, and the
        processes' output is kept in workdir/logs."""
    suffix = uuid.uuid4().hex[:10]
    name = f"naphs_smoke_{suffix}"
    parts = urllib.parse.urlsplit(postgres_url)
    url = urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    queue = f"naphs-smoke-{suffix}"
    port = free_port()
    media, var, logs = (workdir / part for part in ("media", "var", "logs"))
    for folder in (media, var, logs):
        folder.mkdir(parents=True, exist_ok=True)
    stack_env = clean_env(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="127.0.0.1",
        # Plain http on the loopback: no redirect to https, cookies sent without TLS.
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SITE_URL=f"http://127.0.0.1:{port}",
        DATABASE_URL=url,
        REDIS_URL=redis_url,
        CELERY_TASK_DEFAULT_QUEUE=queue,
        MEDIA_ROOT=str(media),
        VAR_DIR=str(var),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(web_workers),
        **(env or {}),
    )
    stack = Stack(
        base_url=f"http://127.0.0.1:{port}",
        env=stack_env,
        database_url=url,
        redis_url=redis_url,
        queue=queue,
        media_root=media,
        log_dir=logs,
        worker_args=list(worker_args),
    )
    stack_env["STATIC_ROOT"] = str(static_collected(stack_env))
    database_create(url)
    try:
        if start_processes:
            # As docker compose starts them, but beat once the migrations are applied (its sweep reads jobs).
            worker = stack.start_worker(wait=False)
            stack.start_web()
            stack.start_beat()
            stack.worker_ready(worker)
        yield stack
    finally:
        stop_all(stack.processes())
        with contextlib.suppress(Exception):
            queue_forget(redis_url, queue)
        database_drop(url)
