"""Who may reach what: every route of the project, every HTTP method it answers, every persona.

The walk goes through `get_resolver().url_patterns` recursively (the API router's routes included) and asks,
for each route and each of Django's eight HTTP methods, the table below what each persona gets. A route the
table does not cover fails the test, and so does a table entry whose route is gone: adding a route means adding
its row here. A method missing from a route's row must be refused (405) even to a superuser in the
secretariat, so a route that starts answering a new method fails too. The router's format-suffix twins
(/api/plans.json) must be the very same view as their original and are swept with one method. Only the Django
admin is left out; a separate test checks that it turns away anonymous visitors and non-staff users.

Every check runs in a savepoint rolled back afterwards, and watches the SQL the request sends: a refused write
must not write a row, a successful one must.

The rules (DESIGN.md, "Who may do what"): someone who is not a member of a plan gets 404 on everything scoped
to it, HTML and API alike; a member whose role lacks the right gets 403; the secretariat manages the plan's
settings, members and organizations; every member sees the plan and the directory and may export it.
Anonymous visitors are sent to the login page by HTML pages and refused by the API. Lists show only what the
person may see. A refused write changes nothing in the database.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import importlib
import itertools
import json
import pkgutil
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import quote

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission as AuthPermission
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.forms import BaseForm, ModelChoiceField, ModelMultipleChoiceField
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework import serializers
from rest_framework.test import APIClient

from costing.models import CatalogueItem
from naphs.models import Job
from naphs.permissions import Role
from planning.libraries import demo_library_load
from planning.models import (
    Activity,
    ActivityDependency,
    AreaPriority,
    Assessment,
    BenchmarkLibrary,
    Comment,
    CommentThread,
    Framework,
    FunctionalGroup,
    Indicator,
    Jurisdiction,
    Plan,
    PlanVersion,
    TechnicalArea,
)
from planning.shaping import priorities_digest
from planning.versions import plan_version_save
from stakeholders.job_kinds import StakeholdersJob
from stakeholders.models import Invitation, Organization, PlanMembership, User
from tests.conftest import PASSWORD, PERSONAS, give_grant, make_user

pytestmark = pytest.mark.django_db

SL, SM, TL, FP, RV, VW, OUT, ANON = PERSONAS
SIGNED_IN = PERSONAS[:-1]
# A persona from another country: the secretariat lead of a plan there, with its organizations and an
# administrator's grant for that country. Of this country's plans they must get no more than the outsider, so
# the table's outsider column is theirs too, except in FOREIGN_ROWS.
FOREIGN = "foreign_lead"
WALKED = (*PERSONAS, FOREIGN)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")  # Django's View.http_method_names
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NEW_PASSWORD = "another-correct-horse-battery"


class Saved(int):
    """A write that succeeds: this status, and the database changed."""

    def __repr__(self) -> str:
        return f"{int(self)} (saved)"


class ToLogin(int):
    """An HTML page turning an anonymous visitor away: 302 to the login page, coming back here afterwards."""

    def __repr__(self) -> str:
        return "302 to the login page"


S200, S201, S202, S204, S302 = (Saved(status) for status in (200, 201, 202, 204, 302))
LOGIN = ToLogin(302)
# Any other status is checked as is; on a write method it also means "and nothing in the database changed".

# Our HTML pages answer GET and HEAD, and POST where they hold a form; anything else gets 405. Django's own
# account views answer more: a PUT to one of their forms gets the form back (200), unsaved, as Django parses a
# form body only for POST. API calls without credentials get 401.
READ = "GET HEAD OPTIONS"

# The table: URL name -> methods -> the status each persona gets, in the order of PERSONAS.
# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    # Secretariat lead and member, technical lead, focal point, reviewer, viewer, outsider, anonymous visitor:
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    # Public: signing in, passwords, invitations, the health check, the API schema and its docs.
    "login": {
        READ:                           (302,  302,  302,  302,  302,  302,  302,  200),
        "POST":                         (302,  302,  302,  302,  302,  302,  302,  S302),
        "PUT":                          (302,  302,  302,  302,  302,  302,  302,  200),   # PUT has no form data
        "PATCH DELETE TRACE":           (302,  302,  302,  302,  302,  302,  302,  405),
    },
    "password_reset": {
        READ:                           (200,  200,  200,  200,  200,  200,  200,  200),
        "POST":                         (302,  302,  302,  302,  302,  302,  302,  302),   # sends an e-mail
        "PUT":                          (200,  200,  200,  200,  200,  200,  200,  200),
    },
    "password_reset_done": {
        READ:                           (200,  200,  200,  200,  200,  200,  200,  200),
    },
    "password_reset_confirm": {
        READ:                           (200,  200,  200,  200,  200,  200,  200,  200),
        "POST":                         (S302, S302, S302, S302, S302, S302, S302, S302),
        "PUT":                          (200,  200,  200,  200,  200,  200,  200,  200),
    },
    "password_reset_complete": {
        READ:                           (200,  200,  200,  200,  200,  200,  200,  200),
    },
    # The link of an invitation to the persona's own address (the visitor's, for the anonymous persona): anyone
    # holding it sees it; accepting needs signing in (the members among them keep their role).
    "invitation": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  200,  200),
        "POST":                         (S302, S302, S302, S302, S302, S302, S302, LOGIN),
    },
    "healthz": {
        "GET HEAD":                      (200,  200,  200,  200,  200,  200,  200,  200),
    },
    # The header's language chooser: kept on the account when signed in, in a cookie for a visitor.
    "language_set": {
        "POST":                         (S302, S302, S302, S302, S302, S302, S302, 302),
    },
    "api-token": {
        "POST":                         (S200, S200, S200, S200, S200, S200, S200, S200),  # one's own password
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  200,  200),
    },
    "api-schema": {READ:                (200,  200,  200,  200,  200,  200,  200,  200)},
    "api-docs": {"GET HEAD":            (200,  200,  200,  200,  200,  200,  200,  200)},
    "api-redoc": {"GET HEAD":           (200,  200,  200,  200,  200,  200,  200,  200)},
    # An address under /api/ that names no endpoint: 404 in JSON, for anyone, whatever the method.
    "api-not-found": {" ".join(METHODS): (404,  404,  404,  404,  404,  404,  404,  404)},

    # Signed in, no plan needed.
    "logout": {
        "POST":                         (302,  302,  302,  302,  302,  302,  302,  LOGIN),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  200,  LOGIN),
    },
    "password_change": {
        READ:                           (200,  200,  200,  200,  200,  200,  200,  LOGIN),
        "POST":                         (S302, S302, S302, S302, S302, S302, S302, LOGIN),
        "PUT":                          (200,  200,  200,  200,  200,  200,  200,  LOGIN),
    },
    "password_change_done": {
        READ:                           (200,  200,  200,  200,  200,  200,  200,  LOGIN),
    },
    "home": {
        "GET HEAD":                      (200,  200,  200,  200,  200,  200,  200,  LOGIN),
    },
    "plan_new": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  200,  LOGIN),
        # Only plans one manages are offered as parent: anyone else gets the form back, nothing saved.
        "POST":                         (S302, S302, 200,  200,  200,  200,  200,  LOGIN),
    },
    "api-root": {READ:                  (200,  200,  200,  200,  200,  200,  200,  401)},
    "jurisdiction-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  200,  401),
        "POST":                         (403,  403,  403,  403,  403,  403,  403,  401),   # administrators only
    },
    "organization-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  200,  401),
        # The outsider cannot even name the jurisdiction: "does not exist".
        "POST":                         (S201, S201, 403,  403,  403,  403,  400,  401),
    },
    "plan-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  200,  401),
        # A plan under `plan`; the outsider cannot name the parent plan or the jurisdiction: "does not exist".
        "POST":                         (S201, S201, 403,  403,  403,  403,  400,  401),
    },
    "job-list": {READ:                  (200,  200,  200,  200,  200,  200,  200,  401)},
    # One's own invitations (to one's address), answered from the home page or through the API.
    "invitation_answer": {"POST":       (S302, S302, S302, S302, S302, S302, S302, LOGIN)},
    "my-invitation-list": {READ:        (200,  200,  200,  200,  200,  200,  200,  401)},
    "my-invitation-detail": {READ:      (200,  200,  200,  200,  200,  200,  200,  401)},
    "my-invitation-accept": {
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  200,  401),
        "POST":                         (S200, S200, S200, S200, S200, S200, S200, 401),
    },
    "my-invitation-decline": {
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  200,  401),
        "POST":                         (S200, S200, S200, S200, S200, S200, S200, 401),
    },
    # One's own job. The outsider's job belongs to a plan they have since left.
    "job_detail": {"GET HEAD":               (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "job_download": {"GET HEAD":             (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "job-detail": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  401),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  200,  401),   # the same for any id
    },
    # The job's file, for token clients as for sessions (the outsider's job: a plan they have left).
    "job-file": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  401),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  200,  401),   # the same for any id
    },

    # Jurisdictions and organizations: seen in the countries of one's plans, managed by a secretariat there.
    "jurisdiction-detail": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  401),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  200,  401),   # the same for any id
    },
    "organization-detail": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  401),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  200,  401),   # the same for any id
        "PUT PATCH":                    (S200, S200, 403,  403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, 403,  403,  403,  403,  404,  401),
    },

    # Plan-scoped: members see, the secretariat manages, everyone else gets 404.
    "plan_detail": {"GET HEAD":              (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "plan_settings": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "members": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "member_update": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),   # the editor
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "member_remove": {"POST":           (S302, S302, 403,  403,  403,  403,  404,  LOGIN)},
    "invitation_resend": {"POST":       (S302, S302, 403,  403,  403,  403,  404,  LOGIN)},
    "invitation_revoke": {"POST":       (S302, S302, 403,  403,  403,  403,  404,  LOGIN)},
    "directory": {"GET HEAD":                (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "directory_export": {"POST":        (S302, S302, S302, S302, S302, S302, 404,  LOGIN)},
    # The audit trail is the secretariat's: it names invitees' addresses and what every member did.
    "audit_trail": {"GET HEAD":         (200,  200,  403,  403,  403,  403,  404,  LOGIN)},
    "audit_trail_export": {"POST":      (S302, S302, 403,  403,  403,  403,  404,  LOGIN)},
    "organization_new": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "organization_edit": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "assessments": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "assessment_detail": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),   # the score grid
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "assessment_import": {"POST":       (S302, S302, 403,  403,  403,  403,  404,  LOGIN)},
    "assessment_import_spar": {"POST":  (S302, S302, 403,  403,  403,  403,  404,  LOGIN)},
    # Targets and draft generation. A technical lead sets targets in their own areas only (they have none here).
    "targets": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    # No indicator is scored here, so there is no default to fill: the redirect saves nothing.
    "targets_fill": {"POST":            (302,  302,  403,  403,  403,  403,  404,  LOGIN)},
    "generate": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),   # audited, even if empty
    },
    # An operational plan drawn from the strategic plan: the secretariat's.
    "operational_new": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    # Context and priorities: members read; the secretariat edits (a technical lead only their own areas'
    # narratives, and the payload edits the plan's own narrative).
    "plan_context": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "plan_priorities": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "functional_groups": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "functional_group_edit": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),   # the editor
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "functional_group_delete": {"POST": (S302, S302, 403,  403,  403,  403,  404,  LOGIN)},
    "activity_dependencies": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "activity_dependency_remove": {"POST": (S302, S302, 403, 403,  403,  403,  404,  LOGIN)},
    # Activities: members read; the secretariat edits every one, a technical lead those of their areas (the walk
    # assigns the technical lead area P1, the area of the activities it makes), everyone else gets 403.
    "activities": {"GET HEAD":               (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "activity_new": {
        "GET HEAD":                     (200,  200,  200,  403,  403,  403,  404,  LOGIN),
        "POST":                         (S302, S302, S302, 403,  403,  403,  404,  LOGIN),
    },
    "activity_detail": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),   # read-only for some
        "POST":                         (S302, S302, S302, 403,  403,  403,  404,  LOGIN),
    },
    "activity_delete": {"POST":         (S302, S302, S302, 403,  403,  403,  404,  LOGIN)},
    "activity-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, S201, 403,  403,  403,  404,  401),
    },
    "activity-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, S200, 403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, S204, 403,  403,  403,  404,  401),
    },
    # Comments: members read; every member but viewers comments; the secretariat or the thread's author (the
    # walk's threads are the reviewer's) resolves and reopens.
    "comments": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),
        "POST":                         (S302, S302, S302, S302, S302, 403,  404,  LOGIN),
    },
    "comment_thread": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),
        "POST":                         (S302, S302, S302, S302, S302, 403,  404,  LOGIN),   # a reply
    },
    "comment_thread_resolve": {"POST":  (S302, S302, 403,  403,  S302, 403,  404,  LOGIN)},
    "comment_thread_reopen": {"POST":   (S302, S302, 403,  403,  S302, 403,  404,  LOGIN)},
    "activity_comments": {"POST":       (S302, S302, S302, S302, S302, 403,  404,  LOGIN)},
    "thread-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, S201, S201, S201, 403,  404,  401),
    },
    "thread-detail": {READ:             (200,  200,  200,  200,  200,  200,  404,  401)},
    "thread-comments": {
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, S201, S201, S201, 403,  404,  401),
    },
    "thread-resolve": {
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S200, S200, 403,  403,  S200, 403,  404,  401),
    },
    "thread-reopen": {
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S200, S200, 403,  403,  S200, 403,  404,  401),
    },
    "plan-detail": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  401),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  200,  401),   # the same for any id
        "PUT PATCH":                    (S200, S200, 403,  403,  403,  403,  404,  401),
    },
    # People join by accepting an invitation: nobody is added directly (POST answers 405).
    "membership-list": {READ:           (200,  200,  200,  200,  200,  200,  404,  401)},
    "membership-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, 403,  403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, 403,  403,  403,  403,  404,  401),
    },
    # Invitations are the secretariat's: the addresses of people who are not members (yet).
    "plan-invitation-list": {
        READ:                           (200,  200,  403,  403,  403,  403,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "plan-invitation-detail": {
        READ:                           (200,  200,  403,  403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, 403,  403,  403,  403,  404,  401),   # revokes
    },
    "plan-invitation-resend": {
        "OPTIONS":                      (200,  200,  403,  403,  403,  403,  404,  401),
        "POST":                         (S200, S200, 403,  403,  403,  403,  404,  401),
    },
    "api-directory-export": {
        "POST":                         (S202, S202, S202, S202, S202, S202, 404,  401),
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
    },
    "audit-event-list": {READ:          (200,  200,  403,  403,  403,  403,  404,  401)},
    "api-audit-export": {
        "POST":                         (S202, S202, 403,  403,  403,  403,  404,  401),
        "OPTIONS":                      (200,  200,  403,  403,  403,  403,  404,  401),
    },
}
# fmt: on

# Where the persona from another country gets other than the outsider: their own job, of their own plan (the
# outsider's job is from a plan they have since left).
FOREIGN_ROWS: dict[str, dict[str, int]] = {
    "job_detail": {"GET HEAD": 200},
    "job_download": {"GET HEAD": 200},
    "job-detail": {"GET HEAD": 200},
    "job-file": {"GET HEAD": 200},  # their own job's file, as job_download above
}

# The newer parts of the apps keep their rows beside their tests, one module per part (tests/costing/permissions_*.py,
# and so in planning, stakeholders and monitoring), each with a TABLE and PAYLOADS like those here, FILLERS (URL kwarg
# -> a function(scene, route name, persona, foreign, objects) returning the object it names), P1_ROUTES (routes where
# the technical lead owns area P1), and optionally EXTRA_REFERENCES.
PARTS = [
    importlib.import_module(f"tests.{app}.{module.name}")
    for app in ("costing", "planning", "stakeholders", "monitoring")
    for module in pkgutil.iter_modules([str(Path(__file__).parent / app)])
    if module.name.startswith("permissions_")
]
for _part in PARTS:
    assert not TABLE.keys() & _part.TABLE.keys(), f"{_part.__name__} repeats rows of the table"
    TABLE.update(_part.TABLE)
FILLERS: dict[str, Callable] = {name: filler for part in PARTS for name, filler in part.FILLERS.items()}


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    callback: Callable
    kwargs: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return hasattr(self.callback, "cls")  # a Django REST framework view


def walk(patterns, prefix: str = "", namespace: str = "", kwargs: tuple[str, ...] = ()) -> Iterator[Route]:
    for entry in patterns:
        entry_kwargs = (*kwargs, *entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner, entry_kwargs)
        else:
            name = f"{namespace}{entry.name}" if entry.name else ""
            yield Route(name, prefix + str(entry.pattern), entry.callback, entry_kwargs)


def expectations() -> dict[tuple[str, str], dict[str, int]]:
    """The table, one entry per (URL name, method), each persona's expected status by name."""
    expanded = {}
    for name, rows in TABLE.items():
        for methods, statuses in rows.items():
            assert len(statuses) == len(PERSONAS), f"{name} {methods}: one status per persona"
            for method in methods.split():
                assert method in METHODS, f"{name}: unknown method {method}"
                assert (name, method) not in expanded, f"{name} {method} is in the table twice"
                expanded[name, method] = dict(zip(PERSONAS, statuses, strict=True))
                expanded[name, method][FOREIGN] = expanded[name, method][OUT]
    for name, rows in FOREIGN_ROWS.items():
        for methods, status in rows.items():
            for method in methods.split():
                assert (name, method) in expanded, f"FOREIGN_ROWS: {name} {method} is not in the table"
                expanded[name, method][FOREIGN] = status
    return expanded


class WriteWatch:
    """Notes the tables a request writes to (sessions aside): with none, it changed nothing in the database."""

    STATEMENT = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(?P<table>\w+)"?', re.IGNORECASE)

    def __init__(self) -> None:
        self.tables: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        match = self.STATEMENT.match(sql)
        if match and match["table"] != "django_session" and match["table"] not in self.tables:
            self.tables.append(match["table"])
        return execute(sql, params, many, context)


class Scene:
    """The people and objects the walk fills URLs and payloads from.

    Each check runs in a savepoint that is rolled back, so a success (a removed member, a changed password, a
    signed-out session) never spills into the next check; objects a check could use up are created fresh in it.
    """

    def __init__(self, *, plan, provincial_plan, people, moh, moa, country, province, other_country) -> None:
        self.plan, self.provincial_plan, self.people = plan, provincial_plan, people
        self.moh, self.moa, self.country, self.province = moh, moa, country, province
        self.numbers = itertools.count(1)
        # Someone with an account who is not signed in: what the anonymous visitor signs in or resets as.
        self.visitor = make_user("visitor")
        # A plan in another country that none of the personas belongs to, with its own member and organization.
        self.elsewhere_lead = make_user("elsewhere_lead")
        self.elsewhere_organization = Organization.objects.create(
            name="Elsewhere Health Agency", kind="agency", jurisdiction=other_country
        )
        self.elsewhere_plan = Plan.objects.create(
            jurisdiction=other_country, title="Elsewhere NAPHS", kind="strategic", first_year=2026, last_year=2030
        )
        self.elsewhere_membership = PlanMembership.objects.create(
            plan=self.elsewhere_plan,
            user=self.elsewhere_lead,
            role=Role.SECRETARIAT_LEAD,
            organization=self.elsewhere_organization,
        )
        self.other_country = other_country
        # Their lead walks as the persona from another country: with a second organization there, and the grant
        # to open that country's national plans (the most a person of another country may hold).
        self.elsewhere_ministry = Organization.objects.create(
            name="Elsewhere Ministry of Health", kind="ministry", jurisdiction=other_country
        )
        give_grant(self.elsewhere_lead, other_country)
        # Everyone's own finished job with a file; the outsider's is from a plan they have since left. The
        # other country's job must never show up for anyone.
        self.jobs = {persona: self._job(people[persona], plan) for persona in SIGNED_IN}
        self.jobs[FOREIGN] = self._job(self.elsewhere_lead, self.elsewhere_plan)
        # A superuser in the plan's secretariat: whatever it cannot do with a method, the route does not answer.
        self.probe = make_user("probe", is_superuser=True, is_staff=True)
        PlanMembership.objects.create(plan=plan, user=self.probe, role=Role.SECRETARIAT_LEAD)
        self.jobs["probe"] = self._job(self.probe, plan)
        # Signed in once, outside the checks' savepoints, so the sessions outlive every rollback.
        self.clients: dict[tuple[str, bool], Client] = {}
        for persona, api in itertools.product([*WALKED, "probe"], (False, True)):
            self.clients[persona, api] = self._client(persona, api=api)

    def _job(self, user: User, plan: Plan) -> Job:
        job = Job.objects.create(
            kind=StakeholdersJob.DIRECTORY_EXPORT,
            plan=plan,
            requested_by=user,
            status=Job.Status.SUCCEEDED,
            progress=100,
        )
        job.result.save("directory.xlsx", ContentFile(b"not really a workbook"), save=True)
        return job

    def user(self, persona: str) -> User | None:
        if persona == "probe":
            return self.probe
        if persona == FOREIGN:
            return self.elsewhere_lead
        return None if persona == ANON else self.people[persona]

    def client(self, persona: str, *, api: bool) -> Client:
        return self.clients[persona, api]

    def _client(self, persona: str, *, api: bool) -> Client:
        """A client for HTML pages, signed in with a session, or for the API, with forced authentication."""
        user = self.user(persona)
        if api:
            client = APIClient(raise_request_exception=False)
            client.force_authenticate(user)
        else:
            client = Client(raise_request_exception=False)
            if user is not None:
                client.force_login(user)
        return client

    def account(self, persona: str) -> User:
        """Whose credentials the persona types in: their own, or the visitor's for the anonymous persona."""
        return self.user(persona) or self.visitor

    def number(self) -> int:
        return next(self.numbers)

    def fresh_membership(self) -> PlanMembership:
        user = make_user(f"member{self.number()}")
        return PlanMembership.objects.create(plan=self.plan, user=user, role=Role.VIEWER)

    def fresh_organization(self) -> Organization:
        return Organization.objects.create(name=f"Agency {self.number()}", kind="agency", jurisdiction=self.country)

    def fresh_assessment(self, plan: Plan, *, spar: bool = False) -> Assessment:
        framework = Framework.objects.get(code="SPAR2" if spar else "JEE3")
        return Assessment.objects.create(plan=plan, framework=framework, kind="jee", date=datetime.date(2024, 5, 1))

    def fresh_activity(self, plan: Plan) -> Activity:
        area = TechnicalArea.objects.get(framework__code="JEE3", code="P1")
        # The focal point's organization is responsible: they may cost it.
        return Activity.objects.create(
            plan=plan, technical_area=area, title=f"Activity {self.number()}", responsible_organization=self.moa
        )

    def fresh_group(self, plan: Plan) -> FunctionalGroup:
        return FunctionalGroup.objects.create(plan=plan, name=f"Group {self.number()}")

    def fresh_dependency(self, activity: Activity) -> ActivityDependency:
        return ActivityDependency.objects.create(activity=activity, depends_on=self.fresh_activity(activity.plan))

    def fresh_thread(self, plan: Plan, *, resolved: bool = False) -> CommentThread:
        """A thread on the plan started by its reviewer (who may then resolve and reopen it), with one comment."""
        author = self.people[RV] if plan == self.plan else self.elsewhere_lead
        thread = CommentThread.objects.create(
            plan=plan, subject="plan", author=author, state="resolved" if resolved else "open"
        )
        Comment.objects.create(thread=thread, author=author, body="Fine", html="<p>Fine</p>")
        return thread

    def fresh_invitee(self) -> User:
        number = self.number()
        user = User(username=f"invitee{number}", email=f"invitee{number}@example.org")
        user.set_unusable_password()
        user.save()
        return user

    def fresh_invitation(self, plan: Plan, *, email: str = "") -> tuple[Invitation, str]:
        """A pending invitation and the secret of its link (the e-mail is not sent: no mail in the walk)."""
        invitation = Invitation(
            plan=plan,
            email=email or f"invitee{self.number()}@example.org",
            role=Role.VIEWER,
            expires_at=timezone.now() + datetime.timedelta(days=1),
        )
        token = invitation.issue_token()
        invitation.save()
        return invitation, token

    def fill(self, route: Route, persona: str, *, foreign: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
        """URL kwargs for the route, and the objects they name (for payloads and the session).

        foreign="all": every object is one the persona may not see; foreign="object": the plan is theirs but the
        object it is paired with belongs to another plan or country.
        """
        kwargs: dict[str, Any] = {}
        objects: dict[str, Any] = {}
        other = foreign == "all"
        for name in route.kwargs:
            if name == "plan_id":
                kwargs[name] = (self.elsewhere_plan if other else self.plan).pk
            elif name == "membership_id":
                objects["membership"] = self.elsewhere_membership if foreign else self.fresh_membership()
                kwargs[name] = objects["membership"].pk
            elif name == "organization_id":
                objects["organization"] = self.elsewhere_organization if foreign else self.fresh_organization()
                kwargs[name] = objects["organization"].pk
            elif name == "assessment_id":
                objects["assessment"] = self.fresh_assessment(
                    self.elsewhere_plan if foreign else self.plan, spar=route.name.startswith("assessment_import_spar")
                )
                kwargs[name] = objects["assessment"].pk
            elif name == "activity_id":
                objects["activity"] = self.fresh_activity(self.elsewhere_plan if foreign else self.plan)
                kwargs[name] = objects["activity"].pk
            elif name == "group_id":
                objects["group"] = self.fresh_group(self.elsewhere_plan if foreign else self.plan)
                kwargs[name] = objects["group"].pk
            elif name == "thread_id":
                reopen = route.name in ("comment_thread_reopen", "thread-reopen")
                objects["thread"] = self.fresh_thread(self.elsewhere_plan if foreign else self.plan, resolved=reopen)
                kwargs[name] = objects["thread"].pk
            elif name == "dependency_id":
                objects["dependency"] = self.fresh_dependency(objects["activity"])
                kwargs[name] = objects["dependency"].pk
            elif name == "job_id" or (name == "pk" and route.name in ("job-detail", "job-file")):
                owner = persona if persona in self.jobs else SL
                if foreign:  # someone else's job, from the same plan
                    owner = SM if owner == SL else SL
                kwargs[name] = self.jobs[owner].pk
            elif (name, route.name) == ("pk", "jurisdiction-detail"):
                kwargs[name] = (self.other_country if foreign else self.country).pk
            elif name == "invitation_id" and "plan_id" in route.kwargs:
                # The secretariat's: an invitation of this plan, or (foreign) of the other country's plan.
                objects["invitation"], _ = self.fresh_invitation(self.elsewhere_plan if foreign else self.plan)
                kwargs[name] = objects["invitation"].pk
            elif name in ("invitation_id", "key"):
                # The invitee's: an invitation to the persona's own address, or (foreign) to someone else's.
                email = self.elsewhere_lead.email if foreign else self.account(persona).email
                objects["invitation"], token = self.fresh_invitation(self.plan, email=email)
                kwargs[name] = token if name == "key" else objects["invitation"].pk
            elif name == "uidb64":
                objects["invitee"] = self.fresh_invitee()
                kwargs[name] = urlsafe_base64_encode(force_bytes(objects["invitee"].pk))
            elif name == "token":
                # The second step of the link: the token is already in the session, as after following the e-mail.
                kwargs[name] = PasswordResetConfirmView.reset_url_token
                token = default_token_generator.make_token(objects["invitee"])
                objects["session"] = {INTERNAL_RESET_SESSION_TOKEN: token}
            elif name == "format":
                kwargs[name] = "json"
            elif name == "rest":
                kwargs[name] = "no/such/endpoint/"
            elif name in FILLERS:
                objects[name.removesuffix("_id")] = FILLERS[name](self, route.name, persona, foreign, objects)
                kwargs[name] = objects[name.removesuffix("_id")].pk
            else:
                raise AssertionError(f"{route.pattern}: teach this test how to fill the URL kwarg {name!r}")
        if persona == TL and route.name in ACTIVITY_ROUTES:
            # The technical lead's own area is P1, the area of the activities made here and in the payloads.
            PlanMembership.objects.get(plan=self.plan, user=self.people[TL]).technical_areas.add(_area("P1"))
        return kwargs, objects


ACTIVITY_ROUTES = frozenset(
    {"activities", "activity_new", "activity_detail", "activity_delete", "activity-list", "activity-detail"}
).union(*(part.P1_ROUTES for part in PARTS))


def _activity_form(s: Scene, o: dict) -> dict[str, Any]:
    """The browser's activity form, all fields valid; the version of the activity named in the URL, if any."""
    activity = o.get("activity")
    return {
        "technical_area": _area("P1").pk,
        "indicators": [Indicator.objects.get(framework__code="JEE3", code="P1.1").pk],
        "title": f"Revise the public health law, step {s.number()}",
        "source": "custom",
        "action_type": "planning",
        "responsible_organization": s.moh.pk,
        "supporting_organizations": [s.moa.pk],
        "implementation_level": "national",
        "start_date": "2026-03-01",
        "end_date": "2027-12-31",
        "priority": "high",
        "sectors": ["human_health"],
        "hazards": ["all_hazards"],
        "status": "planned",
        "version": _version(activity) if activity else "",
    }


def _activity_body(s: Scene, o: dict) -> dict[str, Any]:
    body = _activity_form(s, o)
    if not o.get("activity"):
        body.pop("version")
    return body


def _area(code: str) -> TechnicalArea:
    return TechnicalArea.objects.get(framework__code="JEE3", code=code)


def _version(instance) -> int:
    return type(instance).objects.get(pk=instance.pk).version


def _target_payload() -> dict[str, Any]:
    indicator = Indicator.objects.get(framework__code="JEE3", code="P1.1")
    prefix = f"t{indicator.pk}"
    return {
        "indicator": indicator.pk,
        f"{prefix}-level": 4,
        f"{prefix}-justification": "Agreed",
        f"{prefix}-version": 0,
    }


# Real, valid bodies for the write methods: each one succeeds for a persona the table allows.
PAYLOADS: dict[tuple[str, str], Callable[[Scene, str, dict], dict]] = {
    ("login", "POST"): lambda s, p, o: {"username": s.account(p).username, "password": PASSWORD},
    ("api-token", "POST"): lambda s, p, o: {"username": s.account(p).username, "password": PASSWORD},
    ("password_reset", "POST"): lambda s, p, o: {"email": s.account(p).email},
    ("language_set", "POST"): lambda s, p, o: {"language": "fr", "next": "/"},
    ("password_reset_confirm", "POST"): lambda s, p, o: {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    ("invitation", "POST"): lambda s, p, o: {"action": "accept", "version": o["invitation"].version},
    ("invitation_answer", "POST"): lambda s, p, o: {"action": "accept", "version": o["invitation"].version},
    ("my-invitation-accept", "POST"): lambda s, p, o: {"version": o["invitation"].version},
    # The same password again: a valid change that leaves every persona able to sign in.
    ("password_change", "POST"): lambda s, p, o: {
        "old_password": PASSWORD,
        "new_password1": PASSWORD,
        "new_password2": PASSWORD,
    },
    ("plan_new", "POST"): lambda s, p, o: {
        "jurisdiction": s.province.pk,
        "title": f"North Province plan {s.number()}",
        "kind": "strategic",
        "first_year": 2026,
        "last_year": 2030,
        "parent": s.plan.pk,
    },
    ("plan-list", "POST"): lambda s, p, o: {
        "jurisdiction": s.province.pk,
        "title": f"North Province plan {s.number()}",
        "kind": "strategic",
        "first_year": 2026,
        "last_year": 2030,
        "parent": s.plan.pk,
    },
    ("plan_settings", "POST"): lambda s, p, o: {
        "title": f"Testland NAPHS, edition {s.number()}",
        "kind": "strategic",
        "first_year": 2026,
        "last_year": 2030,
        "parent": "",
        "version": _version(s.plan),
    },
    ("plan-detail", "PUT"): lambda s, p, o: {
        "title": f"Testland NAPHS, edition {s.number()}",
        "kind": "strategic",
        "first_year": 2026,
        "last_year": 2030,
        "parent": None,
        "version": _version(s.plan),
    },
    ("plan-detail", "PATCH"): lambda s, p, o: {
        "title": f"Testland NAPHS, edition {s.number()}",
        "version": _version(s.plan),
    },
    ("members", "POST"): lambda s, p, o: {
        "email": f"new.member{s.number()}@example.org",
        "role": Role.VIEWER,
        "organization": "",
    },
    ("plan-invitation-list", "POST"): lambda s, p, o: {
        "email": f"new.member{s.number()}@example.org",
        "role": Role.REVIEWER,
    },
    ("member_update", "POST"): lambda s, p, o: {
        "role": Role.REVIEWER,
        "organization": "",
        "version": o["membership"].version,
    },
    ("membership-detail", "PUT"): lambda s, p, o: {
        "role": Role.REVIEWER,
        "organization": None,
        "version": o["membership"].version,
    },
    ("membership-detail", "PATCH"): lambda s, p, o: {"role": Role.REVIEWER, "version": o["membership"].version},
    ("organization_new", "POST"): lambda s, p, o: {
        "name": f"Public Health Institute {s.number()}",
        "acronym": "PHI",
        "kind": "agency",
        "sectors": ["human_health", "environment"],
        "jurisdiction": s.country.pk,
        "version": "",
    },
    ("organization-list", "POST"): lambda s, p, o: {
        "name": f"Public Health Institute {s.number()}",
        "acronym": "PHI",
        "kind": "agency",
        "sectors": ["human_health"],
        "jurisdiction": s.province.pk,
    },
    ("organization_edit", "POST"): lambda s, p, o: {
        "name": f"Renamed Agency {s.number()}",
        "acronym": "RA",
        "kind": "agency",
        "sectors": ["environment"],
        "jurisdiction": s.country.pk,
        "version": o["organization"].version,
    },
    ("organization-detail", "PUT"): lambda s, p, o: {
        "name": f"Renamed Agency {s.number()}",
        "acronym": "RA",
        "kind": "ngo",
        "sectors": ["environment"],
        "jurisdiction": s.country.pk,
        "version": o["organization"].version,
    },
    ("organization-detail", "PATCH"): lambda s, p, o: {"acronym": "RA", "version": o["organization"].version},
    ("assessments", "POST"): lambda s, p, o: {
        "framework": Framework.objects.get(code="SPAR2").pk,
        "kind": "spar",
        "date": "2025-03-01",
        "source": "SPAR report",
    },
    ("assessment_detail", "POST"): lambda s, p, o: {
        f"i{Indicator.objects.get(framework__code='JEE3', code='P1.1').pk}": "3",
    },
    ("assessment_import", "POST"): lambda s, p, o: {
        "file": SimpleUploadedFile("scores.csv", b"indicator,score\nP1.1,3\nP1.2,4\n", content_type="text/csv"),
    },
    ("assessment_import_spar", "POST"): lambda s, p, o: {
        "file": SimpleUploadedFile("spar.csv", b"WHO region,Country,C.1,C.1.1\nAFR,Testland,60,60\n"),
        "country": "Testland",
    },
    ("targets", "POST"): lambda s, p, o: _target_payload(),
    ("generate", "POST"): lambda s, p, o: {
        "library": demo_library_load(framework=Framework.objects.get(code="JEE3"))[0].pk,
        "technical_areas": list(TechnicalArea.objects.filter(framework__code="JEE3").values_list("pk", flat=True)),
    },
    ("operational_new", "POST"): lambda s, p, o: {
        "title": f"Year one {s.number()}",
        "first_year": 2026,
        "last_year": 2026,
        "activities": [s.fresh_activity(s.plan).pk],
    },
    ("plan_context", "POST"): lambda s, p, o: {"technical_area": "", "narrative": "An island state.", "version": 0},
    ("plan_priorities", "POST"): lambda s, p, o: {
        f"rank_{_area('P1').pk}": "1",
        f"rationale_{_area('P1').pk}": "Laws",
        "shown": priorities_digest(AreaPriority.objects.filter(plan=s.plan)),  # the list as the page showed it
    },
    ("functional_groups", "POST"): lambda s, p, o: {
        "name": f"Custom group {s.number()}",
        "technical_areas": [_area("P1").pk],
    },
    ("functional_group_edit", "POST"): lambda s, p, o: {
        "name": f"Renamed group {s.number()}",
        "technical_areas": [_area("D1").pk],
        "version": o["group"].version,
    },
    ("activity_dependencies", "POST"): lambda s, p, o: {"depends_on": s.fresh_activity(s.plan).pk},
    ("activity_new", "POST"): lambda s, p, o: _activity_form(s, o),
    ("activity_detail", "POST"): lambda s, p, o: _activity_form(s, o),
    ("activity-list", "POST"): lambda s, p, o: _activity_body(s, o),
    ("activity-detail", "PUT"): lambda s, p, o: _activity_body(s, o),
    ("activity-detail", "PATCH"): lambda s, p, o: {"priority": "low", "version": _version(o["activity"])},
    ("comments", "POST"): lambda s, p, o: {"subject": "plan", "technical_area": "", "body": "Reads well."},
    ("comment_thread", "POST"): lambda s, p, o: {"body": "Agreed."},
    ("comment_thread_resolve", "POST"): lambda s, p, o: {"version": _version(o["thread"])},
    ("comment_thread_reopen", "POST"): lambda s, p, o: {"version": _version(o["thread"])},
    ("activity_comments", "POST"): lambda s, p, o: {"body": "Who leads this?"},
    ("thread-list", "POST"): lambda s, p, o: {
        "subject": "activity",
        "target": s.fresh_activity(s.plan).pk,
        "body": "Who leads this?",
    },
    ("thread-comments", "POST"): lambda s, p, o: {"body": "Agreed."},
    ("thread-resolve", "POST"): lambda s, p, o: {"version": _version(o["thread"])},
    ("thread-reopen", "POST"): lambda s, p, o: {"version": _version(o["thread"])},
    **{key: payload for part in PARTS for key, payload in part.PAYLOADS.items()},
    ("jurisdiction-list", "POST"): lambda s, p, o: {
        "level": "province",
        "name": f"South Province {s.number()}",
        "parent": s.country.pk,
    },
}


@dataclass
class Result:
    url: str
    status: int
    location: str
    wrote: list[str] | None  # for write methods: the tables the request wrote to
    body: bytes = b""


def request(
    scene: Scene,
    route: Route,
    method: str,
    persona: str,
    *,
    foreign: str = "",
    tweak: Callable[[dict], dict] | None = None,
    bound: Bound | None = None,
) -> Result:
    """One request, in a savepoint rolled back afterwards: every check starts from the same database. `tweak`
    changes the payload before it is sent; `bound` collects the forms and serializers the request binds."""
    with transaction.atomic():
        result = _request(scene, route, method, persona, foreign=foreign, tweak=tweak, bound=bound)
        transaction.set_rollback(True)
    return result


def _request(
    scene: Scene,
    route: Route,
    method: str,
    persona: str,
    *,
    foreign: str,
    tweak: Callable[[dict], dict] | None = None,
    bound: Bound | None = None,
) -> Result:
    kwargs, objects = scene.fill(route, persona, foreign=foreign)
    url = reverse(route.name, kwargs=kwargs)
    assert resolve(url).func is route.callback, f"{url} does not reach the pattern {route.pattern}"
    client = scene.client(persona, api=route.is_api)
    cookies = copy.deepcopy(client.cookies)  # signing in or out during the check must not outlive it
    if "session" in objects:
        session = client.session
        session.update(objects["session"])
        session.save()
    payload = PAYLOADS.get((route.name, method))
    data = payload(scene, persona, objects) if payload else None
    if tweak is not None:
        data = tweak(dict(data or {}))
    send = getattr(client, method.lower())
    watch = WriteWatch()
    with connection.execute_wrapper(watch), bound.watching() if bound is not None else contextlib.nullcontext():
        if data is not None and route.is_api:
            response = send(url, data, format="json")
        elif data is not None:
            response = send(url, data)
        else:
            response = send(url)
        if response.streaming:  # a download: reading it to the end lets the test client close its file
            b"".join(response.streaming_content)
    client.cookies = cookies
    wrote = watch.tables if method in WRITES else None
    body = b"" if response.streaming else response.content
    return Result(url, response.status_code, response.headers.get("Location", ""), wrote, body)


def judge(result: Result, expected: int, what: str) -> list[str]:
    problems = []
    if result.status != expected:
        problems.append(f"{what}: expected {expected!r}, got {result.status}")
    elif isinstance(expected, ToLogin):
        login = f"{reverse('login')}?next={quote(result.url, safe='/')}"
        if result.location != login:
            problems.append(f"{what}: expected a redirect to {login}, got one to {result.location!r}")
    if result.wrote is not None:
        if isinstance(expected, Saved) and not result.wrote:
            problems.append(f"{what}: answered {result.status} but saved nothing")
        elif not isinstance(expected, Saved) and result.wrote:
            problems.append(f"{what}: answered {result.status} but wrote to {', '.join(result.wrote)}")
    return problems


def api_ids(scene: Scene, persona: str, name: str, **kwargs) -> set:
    response = scene.client(persona, api=True).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200, (name, persona, response.status_code)
    data = response.json()
    return {item["id"] for item in data["results"]}


def list_problems(scene: Scene) -> list[str]:
    """Lists hold exactly what the person may see: never the other country's plan, organization, jurisdiction
    or job, nor the provincial plan the personas do not belong to; the outsider sees nothing."""
    problems = []
    members_see = {
        "plan-list": {scene.plan.pk},
        "organization-list": {scene.moh.pk, scene.moa.pk},
        "jurisdiction-list": {scene.country.pk, scene.province.pk},
    }
    for persona in SIGNED_IN:
        for name, expected in members_see.items():
            seen = api_ids(scene, persona, name)
            if persona == OUT:
                expected = set()
            if seen != expected:
                problems.append(f"GET {reverse(name)} as {persona}: expected ids {expected}, got {seen}")
        own_jobs = set() if persona == OUT else {scene.jobs[persona].pk}
        if (seen := api_ids(scene, persona, "job-list")) != own_jobs:
            problems.append(f"GET {reverse('job-list')} as {persona}: expected their own jobs {own_jobs}, got {seen}")
    foreign_sees = {
        "plan-list": {scene.elsewhere_plan.pk},
        "organization-list": {scene.elsewhere_organization.pk, scene.elsewhere_ministry.pk},
        "jurisdiction-list": {scene.other_country.pk},
        "job-list": {scene.jobs[FOREIGN].pk},
    }
    for name, expected in foreign_sees.items():
        if (seen := api_ids(scene, FOREIGN, name)) != expected:
            problems.append(f"GET {reverse(name)} as {FOREIGN}: expected their country's ids {expected}, got {seen}")
    members = api_ids(scene, VW, "membership-list", plan_id=scene.plan.pk)
    expected_members = set(PlanMembership.objects.filter(plan=scene.plan).values_list("pk", flat=True))
    if members != expected_members or scene.elsewhere_membership.pk in members:
        problems.append(f"the plan's member list shows {members}, expected {expected_members}")
    return problems


@pytest.fixture
def scene(plan, provincial_plan, people, moh, moa, country, province, other_country) -> Scene:
    return Scene(
        plan=plan,
        provincial_plan=provincial_plan,
        people=people,
        moh=moh,
        moa=moa,
        country=country,
        province=province,
        other_country=other_country,
    )


@pytest.mark.timeout(1200)  # thousands of requests: minutes on a busy machine
def test_every_route_answers_every_persona_as_the_table_says(scene):
    routes = list(walk(get_resolver().url_patterns))
    table = expectations()
    problems = [f"the pattern {route.pattern} has no name to key the table by" for route in routes if not route.name]
    names = {route.name for route in routes}
    problems += [f"{name} is a route the table does not cover" for name in sorted(names - TABLE.keys())]
    problems += [f"{name} is in the table but is no longer a route" for name in sorted(TABLE.keys() - names)]
    assert not problems, "\n".join(problems)

    problems += list_problems(scene)
    canonical = {route.name: route for route in routes if "format" not in route.kwargs}
    checked = 0
    for route in routes:
        methods = METHODS
        if "format" in route.kwargs:
            # The API router's format-suffix twin (/api/plans.json): the very same view object, so the same
            # methods and rules. One method across all personas shows the twin is wired like its original.
            if route.callback is not canonical[route.name].callback:
                problems.append(f"{route.pattern} is not the same view as {canonical[route.name].pattern}")
            methods = [next(method for method in METHODS if (route.name, method) in table)]
        for method in methods:
            expected = table.get((route.name, method))
            if expected is None:
                # Not in the table: the route must not answer it, even for a superuser in the secretariat.
                result = request(scene, route, method, "probe")
                if result.status != 405:
                    problems.append(f"{method} {result.url} answers {result.status}, but the table has no row for it")
                continue
            for persona in WALKED:
                result = request(scene, route, method, persona)
                problems += judge(result, expected[persona], f"{method} {result.url} as {persona}")
                checked += 1

    # Objects one may not see are 404 through every route that names them: another country's plan, its
    # members and organizations and jurisdiction, and someone else's job; also paired with one's own plan.
    object_kwargs = {"plan_id", "membership_id", "organization_id", "job_id", "pk", "activity_id", "group_id"}
    object_kwargs |= {"invitation_id", "thread_id"}
    object_kwargs |= FILLERS.keys()
    for route in routes:
        if not object_kwargs & set(route.kwargs) or "format" in route.kwargs:
            continue
        method = "GET" if (route.name, "GET") in table else "POST"
        for persona in SIGNED_IN:
            result = request(scene, route, method, persona, foreign="all")
            problems += judge(result, 404, f"{method} {result.url} (not theirs) as {persona}")
        if "plan_id" in route.kwargs and len(object_kwargs & set(route.kwargs)) > 1:
            result = request(scene, route, method, SL, foreign="object")
            problems += judge(result, 404, f"{method} {result.url} (an object of another plan) as {SL}")

    # Where the outsider gets 404 from GET but 200 from OPTIONS, the OPTIONS answer must reveal nothing: it is
    # the same for an object they may not see as for an id that does not exist.
    for route in routes:
        if "format" in route.kwargs or (route.name, "OPTIONS") not in table or (route.name, "GET") not in table:
            continue
        if (table[route.name, "GET"][OUT], table[route.name, "OPTIONS"][OUT]) == (404, 200):
            with transaction.atomic():
                kwargs, _ = scene.fill(route, OUT)
                missing = {name: 10**9 if name in object_kwargs else value for name, value in kwargs.items()}
                client = scene.client(OUT, api=route.is_api)
                seen, unknown = (client.options(reverse(route.name, kwargs=k)).content for k in (kwargs, missing))
                transaction.set_rollback(True)
            if seen != unknown:
                problems.append(f"OPTIONS {reverse(route.name, kwargs=kwargs)} as {OUT} tells the object exists")

    assert checked >= len(TABLE) * len(PERSONAS)
    assert not problems, f"{len(problems)} of the routes do not behave as the table says:\n" + "\n".join(problems)


def test_the_admin_turns_away_anonymous_visitors_and_people_without_staff_status(people):
    """The walk leaves the admin out; here it sends everyone but staff to a login page."""
    for path in ("/admin/", "/admin/stakeholders/user/", "/admin/planning/plan/", "/admin/naphs/job/"):
        login_pages = (f"/admin/login/?next={path}", f"/accounts/login/?next={path}")
        response = Client().get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith(login_pages), path
        for persona in SIGNED_IN:
            client = Client()
            client.force_login(people[persona])
            response = client.get(path)
            assert response.status_code == 302, (path, persona, response.status_code)
            assert response.headers["Location"].startswith(login_pages), (path, persona)


# The cross-reference probe -------------------------------------------------------------------------------------
#
# Every write the table lets someone make is made again by each persona allowed to make it, once for every
# reference the write accepts, pointing that reference at another plan's object and then at another country's:
# each must be refused (a field error naming the reference, or 403/404) with nothing written. The references are
# found, not listed: the forms and serializers a valid request binds are watched, and their relation fields are
# the references; so a new endpoint or field is probed the day it appears. A write in which none is found must be
# listed in NO_REFERENCES, and a plain field named like a model in EXTRA_REFERENCES, so neither passes unseen.

REFERENCE_APPS = frozenset({"naphs", "planning", "stakeholders", "costing", "monitoring"})


@dataclass(frozen=True)
class Reference:
    """A reference a write accepts: the name it is sent under, the model it names, and whether it is a list."""

    key: str
    model: type
    many: bool = False


# References a view reads as plain values (a choice of ids, or a value the view looks up itself), which no
# relation field declares: (URL name, method) -> references.
EXTRA_REFERENCES: dict[tuple[str, str], list[Reference]] = {
    ("targets", "POST"): [Reference("indicator", Indicator)],
    ("funding_new", "POST"): [Reference("activities", Activity, many=True)],
    ("funding_edit", "POST"): [Reference("activities", Activity, many=True)],
    ("catalogue_item_new", "POST"): [Reference("owner", Jurisdiction)],
    # The object a new thread is about, by id: here an activity (tests/costing/test_comments.py: a cost line).
    ("thread-list", "POST"): [Reference("target", Activity)],
    # The stored version a whole-plan workbook or the open data files are written of, by id.
    ("api-plan-workbook-export", "POST"): [Reference("plan_version", PlanVersion)],
    ("plan_workbook_export", "POST"): [Reference("version", PlanVersion)],
    ("api-plan-open-data-export", "POST"): [Reference("plan_version", PlanVersion)],
    ("plan_open_data_export", "POST"): [Reference("version", PlanVersion)],
    # The follow-up assessment the capacity progress is exported as of, by id.
    ("capacity_progress_export", "POST"): [Reference("assessment", Assessment)],
    ("api-capacity-progress-export", "POST"): [Reference("assessment", Assessment)],
}
for _part in PARTS:  # the parts' own, as (key, model, many)
    for _write, _references in getattr(_part, "EXTRA_REFERENCES", {}).items():
        EXTRA_REFERENCES.setdefault(_write, []).extend(Reference(*reference) for reference in _references)
# Writes that take no reference beyond what their URL names. A new write the probe finds no reference in fails
# until it is listed here.
NO_REFERENCES: frozenset[str] = frozenset(
    {
        # Signing in, passwords and invitations: one's own account, or the invitation the URL names.
        "api-token",
        "invitation",
        "invitation_answer",
        "invitation_resend",
        "invitation_revoke",
        "my-invitation-accept",
        "my-invitation-decline",
        "plan-invitation-resend",
        "password_change",
        "password_reset_confirm",
        # The language chooser: a language code and a return address on this site, no object.
        "language_set",
        # Comments: text about the object the URL names (a thread, an activity); a thread's version.
        "activity_comments",
        "comment_thread",
        "comment_thread_reopen",
        "comment_thread_resolve",
        "thread-comments",
        "thread-reopen",
        "thread-resolve",
        # Review rounds: a verdict on the round the URL names, with its version; closing it.
        "review-round-close",
        "review-round-verdict",
        "review_round_close",
        "review_verdict",
        # Endorsing and reopening: a date, an authority, a reason, about the plan the URL names.
        "api-plan-endorse",
        "api-plan-reopen",
        "plan_endorsement",
        "plan_reopen",
        # Deletions and removals: the object is the URL's.
        "activity_delete",
        "activity_dependency_remove",
        "catalogue_item_delete",
        "cost_line_delete",
        "exchange_rate_delete",
        "functional_group_delete",
        "funding_delete",
        "plan_guidance_delete",
        "member_remove",
        # Exports, and uploads whose rows the import checks against the plan (tests/costing/test_workbook.py,
        # tests/costing/test_who.py, tests/planning/test_assessments.py).
        "api-costing-summary-export",
        "api-costing-workbook",
        "api-directory-export",
        "api-who-export",
        "assessment_import",
        "assessment_import_spar",
        "assessment_import_spar_pick",
        "api-spar-tables",
        "api-spar-table-import",
        "costing_dashboard_export",
        "costing_upload",
        "monitoring_dashboard_export",
        "api-monitoring-dashboard-export",
        "costing_workbook",
        "directory_export",
        "progress_workbook",
        "plan_document_request",
        "who_costing_export",
        "who_costing_import",
        # Values of the plan's own objects only: a price, a rate, settings, a builder's answers (the API's, which
        # take no catalogue item; the page's rates and items do, and are probed); and grids with a
        # field per indicator or area of the plan's framework (a key naming another is no field of the form).
        "api-cost-builder",
        "assessment_detail",
        "catalogue-item-detail",
        "catalogue-item-reprice",
        "catalogue_item_edit",
        "catalogue_item_price",
        "costing_settings",
        "exchange-rate-detail",
        "exchange-rate-list",
        "exchange_rate_edit",
        "plan-costing",
        "plan_priorities",
        # A named version of the plan: its name only.
        "api-plan-versions",
        "plan_versions",
        # Health events: names, places and dates; their deletions and those of bottlenecks name only the URL's.
        "health_event_new",
        "health_event_edit",
        "health_event_delete",
        "health-event-list",
        "health-event-detail",
        "bottleneck_delete",
    }
)
# A part's module may list its own writes that take no reference (NO_REFERENCES, as here).
NO_REFERENCES = NO_REFERENCES.union(*(getattr(part, "NO_REFERENCES", frozenset()) for part in PARTS))
# A plan's costing settings are created with their defaults the first time anything reads them, a refused write
# included: that row is no part of what was refused.
CREATED_ON_READ = frozenset({"costing_plancosting"})
# Reference data shared by every country: any framework may be chosen for a plan or an assessment.
SHARED_MODELS: frozenset[type] = frozenset({Framework})


def _model_names() -> frozenset[str]:
    return frozenset(model._meta.model_name for model in apps.get_models() if model._meta.app_label in REFERENCE_APPS)


# Plain fields named like a model that hold no reference: a number of people (the meeting builder's participants).
NOT_REFERENCES = frozenset({"participants"})


def _looks_like_reference(name: str, models: frozenset[str]) -> bool:
    if name in NOT_REFERENCES:
        return False
    stem = name.removesuffix("_ids").removesuffix("_id").replace("_", "")
    return bool({stem, stem.removesuffix("s"), re.sub(r"ies$", "y", stem)} & models)


class Bound:
    """The forms and serializers a request binds to its input: where the probe finds the references it takes."""

    def __init__(self) -> None:
        self.forms: list[BaseForm] = []
        self.serializers: list[serializers.BaseSerializer] = []

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        form_init, serializer_init = BaseForm.__init__, serializers.BaseSerializer.__init__

        def form(this, *args, **kwargs) -> None:
            form_init(this, *args, **kwargs)
            if this.is_bound:
                self.forms.append(this)

        def serializer(this, *args, **kwargs) -> None:
            serializer_init(this, *args, **kwargs)
            if hasattr(this, "initial_data") and not isinstance(this, serializers.ListSerializer):
                self.serializers.append(this)

        with (
            mock.patch.object(BaseForm, "__init__", form),
            mock.patch.object(serializers.BaseSerializer, "__init__", serializer),
        ):
            yield

    def references(self) -> tuple[list[Reference], list[str]]:
        """The relation fields that take input, and the plain fields named like a model (likely references that
        no relation field checks)."""
        models = _model_names()
        found: dict[str, Reference] = {}
        plain: list[str] = []
        for form in self.forms:
            for name, field in form.fields.items():
                key = form.add_prefix(name)
                if isinstance(field, ModelChoiceField) and not field.disabled:
                    found[key] = Reference(key, field.queryset.model, isinstance(field, ModelMultipleChoiceField))
                elif _looks_like_reference(name, models) and not field.disabled:
                    plain.append(key)
        for serializer in self.serializers:
            for name, field in serializer.fields.items():
                if field.read_only:
                    continue
                if isinstance(field, serializers.ManyRelatedField):
                    found[name] = Reference(name, field.child_relation.queryset.model, many=True)
                elif isinstance(field, serializers.RelatedField):
                    found[name] = Reference(name, field.queryset.model)
                elif _looks_like_reference(name, models):
                    plain.append(name)
        return list(found.values()), plain

    def refused(self, key: str) -> bool:
        """Whether a form bound by the request shows an error beside the field sent as `key`."""
        return any(name in form.errors for form in self.forms for name in form.fields if form.add_prefix(name) == key)


class Elsewhere:
    """What the probe points references at: objects of another plan of the same country (one the probing lead runs
    too) and of another country (whose plan the lead sees as a viewer), and reference data of another framework.

    The lead also holds the global permission "Can add plan" (installations upgraded from before country grants
    keep it) and a grant for their own country: neither may let them reach past it.
    """

    def __init__(self, scene: Scene) -> None:
        lead = scene.people[SL]
        lead.user_permissions.add(AuthPermission.objects.get(codename="add_plan", content_type__app_label="planning"))
        give_grant(lead, scene.country)
        PlanMembership.objects.create(plan=scene.elsewhere_plan, user=lead, role=Role.VIEWER)
        jee3, spar = Framework.objects.get(code="JEE3"), Framework.objects.get(code="SPAR2")
        scene.elsewhere_plan.framework = jee3
        scene.elsewhere_plan.save()
        sibling = Plan.objects.create(
            jurisdiction=scene.country,
            title="Testland operational plan 2026",
            kind="operational",
            first_year=2026,
            last_year=2026,
            parent=scene.plan,
            framework=jee3,
        )
        PlanMembership.objects.create(plan=sibling, user=lead, role=Role.SECRETARIAT_LEAD)
        far_province = Jurisdiction.objects.create(level="province", name="Far Province", parent=scene.other_country)
        area = _area("P1")

        def activity(plan: Plan) -> Activity:
            return Activity.objects.create(plan=plan, technical_area=area, title=f"Activity of {plan}")

        def follow_up(plan: Plan) -> Assessment:
            return Assessment.objects.create(
                plan=plan, framework=jee3, kind="jee", date=datetime.date(2025, 5, 1), purpose="follow_up"
            )

        def item(**owner: Any) -> CatalogueItem:
            return CatalogueItem.objects.create(
                name=f"Venue hire {scene.number()}",
                category="meetings",
                unit="day",
                unit_cost=Decimal("100"),
                currency="USD",
                price_year=2026,
                **owner,
            )

        self.objects: dict[type, list[tuple[str, Any]]] = {
            Plan: [
                ("a plan of this country whose secretariat they are not in", scene.provincial_plan),
                ("another country's plan", scene.elsewhere_plan),
            ],
            Jurisdiction: [("another country", scene.other_country), ("a province of another country", far_province)],
            Organization: [("another country's organization", scene.elsewhere_organization)],
            Activity: [
                ("an activity of another plan they run", activity(sibling)),
                ("another country's activity", activity(scene.elsewhere_plan)),
            ],
            CatalogueItem: [
                ("an item kept by another plan they run", item(plan=sibling)),
                ("an item shared with a province below", item(jurisdiction=scene.province)),
                ("an item kept by another country's plan", item(plan=scene.elsewhere_plan)),
                ("an item shared with another country", item(jurisdiction=scene.other_country)),
            ],
            User: [("a member of another country's plan only", scene.elsewhere_membership.user)],
            TechnicalArea: [("a technical area of another framework", spar.technical_areas.order_by("order").first())],
            Indicator: [("an indicator of another framework", spar.indicators.order_by("order").first())],
            BenchmarkLibrary: [
                ("a library of another framework", BenchmarkLibrary.objects.create(framework=spar, name="SPAR actions"))
            ],
            Assessment: [
                ("a follow-up assessment of another plan they run", follow_up(sibling)),
                ("another country's follow-up assessment", follow_up(scene.elsewhere_plan)),
            ],
            PlanVersion: [
                ("a version of another plan they run", plan_version_save(plan=sibling, by=lead, label="Sibling's")),
                (
                    "a version of another country's plan",
                    plan_version_save(plan=scene.elsewhere_plan, by=lead, label="Elsewhere's"),
                ),
            ],
        }
        for part in PARTS:  # the parts' own models (tests/monitoring/permissions_progress.py: reporting periods)
            if hasattr(part, "ELSEWHERE"):
                self.objects.update(part.ELSEWHERE(scene, sibling))


def refusal_problems(result: Result, route: Route, reference: Reference, bound: Bound, what: str) -> list[str]:
    problems = []
    if wrote := [table for table in result.wrote or [] if table not in CREATED_ON_READ]:
        problems.append(f"{what}: answered {result.status} and wrote to {', '.join(wrote)}")
    if route.is_api and result.status == 400:
        body = json.loads(result.body)
        if reference.key not in body:
            problems.append(f"{what}: refused (400) without naming {reference.key}: {body}")
    elif not route.is_api and result.status in (200, 422):  # the form back, with the error beside the field
        if not bound.refused(reference.key):
            problems.append(f"{what}: the form came back ({result.status}) with no error beside {reference.key}")
    elif result.status not in (403, 404):
        problems.append(f"{what}: accepted ({result.status} {result.location})".rstrip())
    return problems


@pytest.mark.timeout(1200)
def test_every_reference_a_write_takes_refuses_another_plans_and_another_countrys_objects(scene):
    elsewhere = Elsewhere(scene)
    table = expectations()
    problems: list[str] = []
    with_references: set[str] = set()
    without: set[str] = set()
    probes = 0
    for route in walk(get_resolver().url_patterns):
        if "format" in route.kwargs:
            continue
        for method in ("POST", "PUT", "PATCH"):
            expected = table.get((route.name, method))
            writers = [persona for persona in SIGNED_IN if expected and isinstance(expected[persona], Saved)]
            if SL in writers and SM in writers:
                writers.remove(SM)  # the same rights as the lead, who runs the other plan and sees the other country
            for persona in writers:
                bound = Bound()
                valid = request(scene, route, method, persona, bound=bound)
                if judge(valid, expected[persona], ""):
                    problems.append(f"{method} {valid.url} as {persona}: the valid payload no longer saves")
                    continue
                found, plain = bound.references()
                extra = EXTRA_REFERENCES.get((route.name, method), [])
                found += [reference for reference in extra if reference.key not in {r.key for r in found}]
                problems += [
                    f"{method} {valid.url}: {key} looks like a reference no relation field checks; list it in "
                    f"EXTRA_REFERENCES"
                    for key in plain
                    if key not in {reference.key for reference in extra}
                ]
                (with_references if found else without).add(route.name)
                for reference in found:
                    if reference.model in SHARED_MODELS:
                        continue
                    if reference.model not in elsewhere.objects:
                        problems.append(f"{route.name}: teach the probe another plan's {reference.model.__name__}")
                        continue
                    for label, other in elsewhere.objects[reference.model]:

                        def point(data: dict, reference: Reference = reference, other: Any = other) -> dict:
                            if reference.many:
                                chosen = data.get(reference.key) or []
                                data[reference.key] = [*(chosen if isinstance(chosen, list) else [chosen]), other.pk]
                            else:
                                data[reference.key] = other.pk
                            return data

                        probe = Bound()
                        result = request(scene, route, method, persona, tweak=point, bound=probe)
                        what = f"{method} {result.url} as {persona} with {reference.key} = {label}"
                        problems += refusal_problems(result, route, reference, probe, what)
                        probes += 1
    problems += [f"{name}: no reference found; list it in NO_REFERENCES" for name in sorted(without - NO_REFERENCES)]
    problems += [
        f"{name} takes references: remove it from NO_REFERENCES" for name in sorted(with_references & NO_REFERENCES)
    ]
    assert probes > 100
    assert not problems, f"{len(problems)} references are not checked:\n" + "\n".join(problems)
