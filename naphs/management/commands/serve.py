"""Serve the embedded mode, as `make run` does: the development web server and a Celery worker (with beat) side
by side, stopped together.

Each runs in a process group of its own, so that a Ctrl-C at the terminal (or a TERM to `make run`'s group)
reaches this command only, and each child hears one TERM from it: the worker's main process, which then makes one
warm shutdown of its pool and beat, and the web server's whole group (its autoreloader and the server). A shell
trap that signals its own group, as `make run` had, signals itself again and again: thousands of "Warm shutdown"
lines, then the shell overflowing its stack. Whatever is left after `--stop-seconds` (a job still running, a pool
process) is killed with its whole group, so nothing outlives the command. If either child ends by itself, the
other is stopped too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Command(BaseCommand):
    help = "Serve the embedded mode: runserver and a Celery worker with beat; one Ctrl-C stops both."

    def add_arguments(self, parser) -> None:
        parser.add_argument("address", nargs="?", default="127.0.0.1:8000", help="host:port for runserver")
        parser.add_argument("--concurrency", type=int, default=2, help="the worker's pool processes")
        parser.add_argument(
            "--stop-seconds", type=float, default=10, help="how long the children may take to stop before a kill"
        )

    def handle(self, *args, address: str, concurrency: int, stop_seconds: float, **options) -> None:
        stopping: list[int] = []  # the signals received; the first one starts the stop, later ones change nothing
        for number in STOP_SIGNALS:
            signal.signal(number, lambda received, _frame: stopping.append(received))
        bin_dir = Path(sys.executable).parent
        # Each command, and whether its stop signal goes to its whole group or to its main process only.
        commands = [
            ([str(bin_dir / "celery"), "-A", "naphs", "worker", "--beat", "--loglevel=INFO",
              f"--concurrency={concurrency}"], False),
            ([sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "runserver", address], True),
        ]  # fmt: skip
        children: list[tuple[subprocess.Popen, bool]] = []
        try:
            for command, whole_group in commands:
                # process_group=0: a group of its own, away from the terminal's signals; no stdin to read from.
                child = subprocess.Popen(command, stdin=subprocess.DEVNULL, process_group=0)  # noqa: S603 (our own)
                children.append((child, whole_group))
            while not stopping and all(child.poll() is None for child, _ in children):
                time.sleep(0.2)
        finally:
            _stop(children, seconds=stop_seconds)
        if not stopping and any(child.returncode for child, _ in children):
            sys.exit(1)  # one of them failed (a port already in use, a broken setting): its output says why


def _stop(children: list[tuple[subprocess.Popen, bool]], *, seconds: float) -> None:
    """One TERM to each child, a shared wait, then KILL for each child's group, whatever it still holds."""
    for child, whole_group in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if whole_group:
                os.killpg(child.pid, signal.SIGTERM)
            elif child.poll() is None:
                child.terminate()
    deadline = time.monotonic() + seconds
    for child, _ in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
    for child, _ in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)  # what is left: a pool process, the server under its reloader
        child.wait()
