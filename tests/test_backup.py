"""Backup and restore as README.md says (PostgreSQL only): the commands are read from README and run as written.

The plan is the demo's national plan (activities, cost lines, funding) with a job's file; it is dumped with
pg_dump and archived with tar, restored with pg_restore into an empty database and untarred into an empty
folder, and then every row of every table (a dumpdata of the whole database) and every file are compared.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection

from costing.models import CostLine
from naphs.jobs import job_run
from naphs.management.commands.demo_load import NATIONAL_PLAN
from naphs.models import Job
from planning.models import Activity, Plan
from stakeholders.job_kinds import StakeholdersJob
from stakeholders.models import User
from tests import processes
from tests.conftest import need_service

pytestmark = [pytest.mark.production, pytest.mark.django_db(transaction=True)]

README = processes.PROJECT_DIR / "README.md"


def readme_block(marker: str) -> str:
    """The shell commands README shows right after `<!-- marker -->`."""
    after = README.read_text().split(f"<!-- {marker} -->", 1)
    assert len(after) == 2, f"README.md has no <!-- {marker} --> block"
    block = re.match(r"\s*```sh\n(.*?)```", after[1], re.DOTALL)
    assert block, f"README.md: no ```sh block after <!-- {marker} -->"
    return block[1]


def run_readme_block(marker: str, **env: str) -> None:
    script = readme_block(marker)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=processes.PROJECT_DIR,
        env=processes.clean_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"README's {marker} failed (exit {result.returncode}):\n{script}\n{result.stderr}"


def every_row(url: str) -> list[dict]:
    """Every row of every table of the product (Django's dumpdata), in a stable order."""
    output = processes.manage("dumpdata", "--format=json", env=processes.clean_env(DATABASE_URL=url), timeout=300)
    rows = json.loads(output)
    return sorted(rows, key=lambda row: (row["model"], json.dumps(row["pk"])))


def every_file(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def restored_url():
    url = processes.database_url(connection.settings_dict, name=f"naphs_restore_{uuid.uuid4().hex[:10]}")
    yield url
    processes.database_drop(url)


def test_a_plan_backed_up_and_restored_as_readme_says_is_identical(tmp_path, jee3, monkeypatch, restored_url, settings):
    need_service(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    for command in ("pg_dump", "pg_restore", "tar"):
        need_service(shutil.which(command) is not None, f"the {command} command")

    monkeypatch.setenv("DEMO_ALLOW_PRODUCTION", "1")
    call_command("demo_load", password="backup-and-restore-2026", verbosity=0)
    plan = Plan.objects.get(title=NATIONAL_PLAN)
    activities = Activity.objects.filter(plan=plan).count()
    cost_lines = CostLine.objects.filter(plan=plan).count()
    assert activities > 50 and cost_lines > 100, (activities, cost_lines)
    job = Job.objects.create(
        kind=StakeholdersJob.DIRECTORY_EXPORT, plan=plan, requested_by=User.objects.get(username="lead")
    )
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    media = Path(django_settings.MEDIA_ROOT)
    files = every_file(media)
    assert job.result.name in files

    source_url = processes.database_url(connection.settings_dict)
    backup = tmp_path / "backup"
    backup.mkdir()
    run_readme_block("backup-commands", DATABASE_URL=source_url, MEDIA_ROOT=str(media), BACKUP=str(backup))
    assert sorted(path.name for path in backup.iterdir()) == ["naphs-db.dump", "naphs-media.tar.gz"]

    # A new machine: an empty database and an empty media folder.
    processes.database_create(restored_url)
    restored_media = tmp_path / "restored-media"
    run_readme_block("restore-commands", DATABASE_URL=restored_url, MEDIA_ROOT=str(restored_media), BACKUP=str(backup))

    rows = every_row(source_url)
    assert rows == every_row(restored_url)
    restored_plan = [row for row in rows if row["model"] == "planning.plan" and row["pk"] == plan.pk]
    assert restored_plan and restored_plan[0]["fields"]["title"] == NATIONAL_PLAN
    assert sum(1 for row in rows if row["model"] == "planning.activity" and row["fields"]["plan"] == plan.pk) == (
        activities
    )
    assert every_file(restored_media) == files

    # The restored installation goes on: its sequences were restored too, so new rows get new ids.
    created = processes.manage(
        "shell",
        "-c",
        "from stakeholders.models import Organization; from planning.models import Jurisdiction; "
        "print(Organization.objects.create(name='After the restore', kind='ngo', "
        "jurisdiction=Jurisdiction.objects.get(code='XD')).pk)",
        env=processes.clean_env(DATABASE_URL=restored_url, MEDIA_ROOT=str(restored_media)),
    )
    assert int(created.split()[-1]) > max(row["pk"] for row in rows if row["model"] == "stakeholders.organization")
