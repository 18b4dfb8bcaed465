"""Stored versions of a plan: a complete, immutable copy of its content at one moment.

An endorsement stores version N of draft N; a review round stores what it reviews; the secretariat saves named
versions. The content comes from the apps that hold it (planning.hooks.plan_content; costing.versions writes it
and reads it back), so that a stored version is read and compared without the rows it was taken from.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from naphs.services import audit_record, plan_content_lock
from planning import hooks
from planning.models import Plan, PlanVersion

if TYPE_CHECKING:
    from stakeholders.models import User

VERSION_LABEL_MAX = PlanVersion._meta.get_field("label").max_length or 200


def plan_content_snapshot(plan: Plan) -> dict[str, Any]:
    """The plan's content as it is now, as the apps that hold it write it (JSON-able)."""
    content: dict[str, Any] = {}
    for part in hooks.plan_content.send(plan):
        content.update(part)
    return content


def content_digest(content: dict[str, Any]) -> str:
    text = json.dumps(content, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def plan_version_store(*, plan: Plan, by: User | None, kind: str, label: str) -> PlanVersion:
    """Store the plan's content as it is now. Call it inside the transaction of what stores it (an endorsement, a
    round's opening) after locking the plan's row, so that no write lands between the copy and its reason."""
    label = " ".join(label.split())
    if not label:
        raise ValidationError({"label": _("Give the version a name.")})
    if len(label) > VERSION_LABEL_MAX:
        raise ValidationError(
            {"label": _("A version's name has at most %(limit)d characters.") % {"limit": VERSION_LABEL_MAX}}
        )
    content = plan_content_snapshot(plan)
    version = PlanVersion(
        plan=plan,
        kind=kind,
        edition=plan.edition,
        label=label,
        content=content,
        digest=content_digest(content),
        created_by=by,
    )
    version.save(force_insert=True)
    return version


@transaction.atomic
def plan_version_save(*, plan: Plan, by: User, label: str) -> PlanVersion:
    """A version the secretariat names ("before the validation workshop"), of the draft as it is now. Waits for
    the writes under way (plan_content_lock) so that the copy holds each of them whole."""
    plan_content_lock(plan)
    version = plan_version_store(plan=plan, by=by, kind=PlanVersion.Kind.NAMED, label=label)
    audit_record(plan=plan, by=by, action="saved the version", target=version)
    return version


def plan_version_get(*, plan: Plan, version_id: int) -> PlanVersion:
    """A stored version of this plan; 404 for a version of another plan or none."""
    version = PlanVersion.objects.filter(plan=plan, pk=version_id).first()
    if version is None:
        raise Http404(_("No such version of this plan."))
    version.plan = plan
    return version
