"""`make run` as a new user runs it: it serves, and one Ctrl-C (or a TERM to its process group) stops the web
server and the Celery worker with beat within seconds, with one warm shutdown and no process left behind.

The test runs the Makefile's own `run` target on a free port, with this virtualenv (BIN) and a SQLite database
and file-system broker of its own (VAR_DIR), without its setup prerequisite (`-o demo`: installing, migrating
and loading the demo are not what is tried here, and nothing is installed).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from tests import processes
from tests.conftest import need_service

pytestmark = pytest.mark.timeout(240)

STOPPED_WITHIN = 15  # seconds: serve.py allows its children 10 before killing them


def session_members(session: int) -> list[str]:
    """The live processes of a session (pid and command line), whatever their process group; zombies are gone."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(f"{stat.parent.name} {command}")
    return found


def gone_within(session: int, seconds: float) -> tuple[float, list[str]]:
    """Seconds until the session has no live process (or `seconds`, with what is left)."""
    started = time.monotonic()
    while (left := session_members(session)) and time.monotonic() - started < seconds:
        time.sleep(0.1)
    return time.monotonic() - started, left


def serving(run: processes.Process, port: int) -> None:
    client = processes.Client(f"http://127.0.0.1:{port}", timeout=5)

    def answers() -> bool:
        try:
            return client.get("/healthz").status == 200
        except OSError:
            return False

    run.wait_until(answers, "the web server to answer /healthz", 120)
    run.wait_until(lambda: " ready." in run.output(), "the worker to be ready", 120)


@pytest.fixture
def make_run(tmp_path):
    need_service(shutil.which("make") is not None, "make")
    port = processes.free_port()
    env = processes.clean_env(VAR_DIR=str(tmp_path / "var"), DEBUG="true")
    command = ["make", "-o", "demo", "run", f"RUN_ADDRESS=127.0.0.1:{port}", f"BIN={processes.BIN}"]
    run = processes.start("make-run", command, env=env, log_dir=tmp_path)
    try:
        serving(run, port)
        yield run
    finally:
        for member in session_members(run.pid):  # a failed test leaves nothing running either
            os.kill(int(member.split()[0]), signal.SIGKILL)
        run.popen.wait(timeout=15)
        print(run.report())


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "term"])
def test_one_signal_to_make_runs_group_stops_everything_at_once(make_run, stop):
    os.killpg(make_run.pid, stop)  # what the terminal does on Ctrl-C: the signal to the foreground group

    seconds, left = gone_within(make_run.pid, STOPPED_WITHIN)

    print(f"stopped in {seconds:.1f} s")
    assert not left, f"still running {seconds:.1f} s after the signal: {left}"
    make_run.popen.wait(timeout=5)
    output = make_run.output()
    assert output.count("Warm shutdown") == 1, output[-3000:]  # the worker heard one TERM, and stopped warm
    assert "Segmentation fault" not in output and "Killed" not in output
    assert make_run.popen.returncode != -signal.SIGSEGV


def test_when_the_web_server_cannot_start_the_worker_is_stopped_too(tmp_path):
    with socket.socket() as taken:  # the port is someone else's: runserver exits at once
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = processes.clean_env(VAR_DIR=str(tmp_path / "var"), DEBUG="true")
        serve = processes.start(
            "serve", [sys.executable, "manage.py", "serve", f"127.0.0.1:{port}"], env=env, log_dir=tmp_path
        )
        try:
            serve.popen.wait(timeout=60)
            seconds, left = gone_within(serve.pid, STOPPED_WITHIN)
            assert serve.popen.returncode == 1, serve.report()
            assert not left, f"still running {seconds:.1f} s after the server gave up: {left}"
            assert "That port is already in use" in serve.output()
        finally:
            serve.kill()
