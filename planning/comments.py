"""Comments on a plan: threads about a part of it, replies, resolving and reopening, and mentions by e-mail.

A comment is plain text with light formatting: paragraphs (a blank line), line breaks, **bold**, *italic*,
[links](https://...) and @username mentions of the plan's members. It is never HTML: text that holds a tag is
refused, and so is a link that is not http, https or mailto. What it renders to is built from the escaped text
and then cleaned by nh3 (a maintained HTML sanitiser) to the few tags the formatting makes, so nothing a person
types can run in another person's browser.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import nh3
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from naphs.errors import EditConflict
from naphs.languages import bidi_controls_refuse, number_text, person_language
from naphs.mail import mail_send_on_commit
from naphs.services import audit_record, plan_content_lock, versioned_update
from planning import hooks
from planning.models import (
    COMMENT_MAX_CHARS,
    Activity,
    Comment,
    CommentThread,
    Plan,
    ReviewRound,
    TechnicalArea,
)
from planning.selectors import technical_areas_of
from stakeholders.access import plan_writable_check

if TYPE_CHECKING:
    from django.contrib.contenttypes.models import ContentType

    from stakeholders.models import PlanMembership, User

Subject = CommentThread.Subject

# What the formatting makes, and all nh3 lets through.
ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "a", "span"})
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})

_TAG = re.compile(r"<\s*/?\s*[A-Za-z!?][^>]*>?")
_LINK = re.compile(r"\[([^\]\n]+)\]\(((?:[^()\s]|\([^()\s]*\))+)\)")  # a URL may hold one level of brackets
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
# A mention: @ and a user name (Django's user names: letters, digits and . + - _), not inside an e-mail address.
MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]*[\w+-])")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)


def _scheme(url: str) -> str | None:
    """The scheme of a link as a browser reads it (control characters and spaces inside ignored)."""
    cleaned = re.sub(r"[\x00-\x20\x7f]", "", html.unescape(url))
    match = _SCHEME.match(cleaned)
    return match[1].lower() if match else None


def comment_check(text: str) -> str:
    """The comment as it will be saved (trimmed), or ValidationError saying what is wrong with it."""
    text = text.strip().replace("\r\n", "\n")
    if not text:
        raise ValidationError(_("Write a comment first: it is empty."), code="empty")
    if len(text) > COMMENT_MAX_CHARS:
        raise ValidationError(
            _("A comment is at most %(limit)s characters; this one has %(length)s. Shorten it or split it.")
            % {"limit": number_text(COMMENT_MAX_CHARS), "length": number_text(len(text))},
            code="too_long",
        )
    bidi_controls_refuse(text, field=_("comment"))
    if tag := _TAG.search(text):
        raise ValidationError(
            _(
                "A comment is plain text: HTML such as %(tag)s is not allowed. Use **bold**, *italic* and "
                "[text](https://…) for links."
            )
            % {"tag": tag[0][:40]},
            code="html",
        )
    for _label, url in _LINK.findall(text):
        scheme = _scheme(url)
        if scheme not in ALLOWED_SCHEMES:
            raise ValidationError(
                _("The link “%(url)s” is refused: a link starts with https://, http:// or mailto:.")
                % {"url": url[:80]},
                code="link",
            )
    return text


def comment_render(text: str) -> str:
    """The HTML of a checked comment: escaped, formatted, then sanitised."""
    escaped = html.escape(text, quote=True)
    escaped = _LINK.sub(lambda m: f'<a href="{m[2]}">{m[1]}</a>', escaped)
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    escaped = _ITALIC.sub(r"<em>\1</em>", escaped)
    escaped = MENTION.sub(r'<span class="mention">@\1</span>', escaped)
    paragraphs = [part.strip("\n") for part in re.split(r"\n\s*\n", escaped) if part.strip()]
    rendered = "".join(f"<p>{part.replace(chr(10), '<br>')}</p>" for part in paragraphs)
    return nh3.clean(
        rendered,
        tags=set(ALLOWED_TAGS),
        attributes={"a": {"href"}},
        url_schemes=set(ALLOWED_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        allowed_classes={"span": {"mention"}},
    )


def comment_mentions(*, plan: Plan, text: str) -> list[User]:
    """The members a comment mentions; ValidationError naming those who are not members of the plan (an unknown
    name and a person of another plan are answered alike)."""
    from stakeholders.models import User

    names = list(dict.fromkeys(MENTION.findall(text)))
    if not names:
        return []
    members = {user.username.lower(): user for user in User.objects.filter(plan_memberships__plan=plan, is_active=True)}
    unknown = [name for name in names if name.lower() not in members]
    if unknown:
        raise ValidationError(
            ngettext(
                "%(names)s is not a member of this plan: mention members only. Nothing was saved and nobody was "
                "e-mailed.",
                "%(names)s are not members of this plan: mention members only. Nothing was saved and nobody was "
                "e-mailed.",
                len(unknown),
            )
            % {"names": ", ".join(f"@{name}" for name in unknown)},
            code="mention",
        )
    return list(dict.fromkeys(members[name.lower()] for name in names))


@dataclass(frozen=True)
class ThreadSubject:
    """What a new thread is about, as resolved inside the plan."""

    subject: str
    technical_area: TechnicalArea | None = None
    activity: Activity | None = None
    target_type: ContentType | None = None
    target_id: int | None = None


def thread_subject_resolve(
    *, plan: Plan, subject: str, target: int | None = None, technical_area: TechnicalArea | None = None
) -> ThreadSubject:
    """The part of `plan` a new thread is about: `target` is the id of the activity, cost line or technical area
    (or `technical_area` given as an object), none for the plan and the priorities, an optional area for the
    context. Http404 for an object the plan does not have."""
    from django.contrib.contenttypes.models import ContentType

    if subject not in Subject.values:
        raise ValidationError({"subject": _("Choose what the comment is about.")})
    if subject in (Subject.PLAN, Subject.PRIORITIES):
        if target is not None or technical_area is not None:
            raise ValidationError({"target": _("A comment on the plan or its priorities names no object.")})
        return ThreadSubject(subject)
    if subject in (Subject.AREA, Subject.CONTEXT):
        if technical_area is None and target is not None:
            technical_area = technical_areas_of(plan).filter(pk=target).first()
            if technical_area is None:
                raise Http404(_("No such technical area in this plan's framework."))
        if technical_area is not None and technical_area.framework_id != plan.framework_id:
            raise Http404(_("No such technical area in this plan's framework."))
        if subject == Subject.AREA and technical_area is None:
            raise ValidationError({"target": _("Choose the technical area the comment is about.")})
        return ThreadSubject(subject, technical_area=technical_area)
    if target is None:
        raise ValidationError({"target": _("Name the object the comment is about.")})
    if subject == Subject.ACTIVITY:
        activity = Activity.objects.select_related("technical_area").filter(plan=plan, pk=target).first()
        if activity is None:
            raise Http404(_("No such activity."))
        return ThreadSubject(subject, activity=activity)
    answers = [answer for answer in hooks.comment_target.send(plan, subject, target) if answer is not None]
    if not answers:
        raise ValidationError({"subject": _("This product cannot take comments on that kind of object.")})
    found = answers[0]
    return ThreadSubject(
        subject,
        activity=found.activity,
        target_type=ContentType.objects.get_for_model(found.object),
        target_id=found.object.pk,
    )


def _mail_mentions(*, comment: Comment, thread: CommentThread, by: User, mentioned: list[User]) -> None:
    url = reverse("comment_thread", kwargs={"plan_id": thread.plan_id, "thread_id": thread.pk})
    for user in mentioned:
        if user.pk == by.pk or not user.email:
            continue
        mail_send_on_commit(
            to=user.email,
            template="planning/email/comment_mention",
            context={
                "user": user,
                "by": by,
                "plan": thread.plan,
                "thread": thread,
                "comment": comment,
                "thread_url": url,
            },
            language=person_language(user),
        )


def _comment_add(*, thread: CommentThread, by: User, text: str) -> Comment:
    try:
        text = comment_check(text)
        mentioned = comment_mentions(plan=thread.plan, text=text)
    except ValidationError as error:
        raise ValidationError({"body": error.messages}) from None
    comment = Comment.objects.create(thread=thread, author=by, body=text, html=comment_render(text))
    if mentioned:
        comment.mentions.set(mentioned)
    audit_record(
        plan=thread.plan,
        by=by,
        action="comment_add",
        target=thread,
        changes={"comment": [None, comment.pk], "mentions": [None, [user.username for user in mentioned]]},
    )
    _mail_mentions(comment=comment, thread=thread, by=by, mentioned=mentioned)
    return comment


def _check_may_comment(membership: PlanMembership) -> None:
    from naphs.permissions import Permission

    if not membership.role_allows(Permission.COMMENT):
        raise PermissionDenied(
            _("Your role in this plan (%(role)s) does not allow this.") % {"role": membership.get_role_display()}
        )
    plan_writable_check(membership.plan)


@transaction.atomic
def thread_start(
    *,
    plan: Plan,
    membership: PlanMembership,
    about: ThreadSubject,
    text: str,
) -> CommentThread:
    """Open a thread on a part of the plan with its first comment. A thread started while a review round is open
    belongs to that round. All or nothing: a refused comment (empty, too long, HTML, a link that is not http(s)
    or mailto, a mention of a non-member) leaves no thread."""
    _check_may_comment(membership)
    by = membership.user
    open_round = (
        ReviewRound.objects.filter(plan=plan, state=ReviewRound.State.OPEN).values_list("pk", flat=True).first()
    )
    thread = CommentThread(
        plan=plan,
        subject=about.subject,
        technical_area=about.technical_area,
        activity=about.activity,
        target_type=about.target_type,
        target_id=about.target_id,
        review_round_id=open_round,
        author=by,
    )
    thread.full_clean(exclude=["author", "resolved_by"])
    thread.save()
    thread.plan = plan
    _comment_add(thread=thread, by=by, text=text)
    audit_record(plan=plan, by=by, action="thread_start", target=thread, changes={"subject": [None, thread.subject]})
    return thread


@transaction.atomic
def comment_reply(*, thread: CommentThread, membership: PlanMembership, text: str) -> Comment:
    """A reply at the end of a thread (resolved or not: replying does not reopen it)."""
    _check_may_comment(membership)
    return _comment_add(thread=thread, by=membership.user, text=text)


def thread_may_resolve(*, thread: CommentThread, membership: PlanMembership) -> bool:
    """The secretariat resolves and reopens any thread; any other commenter the threads they started."""
    from naphs.permissions import Permission

    if not membership.allows(Permission.COMMENT):  # a viewer, or anyone once the plan is endorsed
        return False
    return membership.is_secretariat or thread.author_id == membership.user_id


@transaction.atomic
def thread_state_set(*, thread: CommentThread, membership: PlanMembership, state: str, version: int) -> CommentThread:
    """Resolve or reopen a thread, from the version the person read (EditConflict when someone else changed its
    state since). Refused with PlanFrozen, before anything else, once the plan is endorsed."""
    plan_content_lock(membership.plan)
    if not thread_may_resolve(thread=thread, membership=membership):
        raise PermissionDenied(_("Only the secretariat or the person who started this thread resolves or reopens it."))
    if state not in CommentThread.State.values:
        raise ValidationError({"state": _("Choose open or resolved.")})
    if thread.state == state and thread.version == version:
        return thread  # the same click twice: nothing to change
    resolved = state == CommentThread.State.RESOLVED
    fields = {
        "state": state,
        "resolved_by": membership.user if resolved else None,
        "resolved_at": timezone.now() if resolved else None,
    }
    try:
        versioned_update(thread, version=version, fields=fields)
    except EditConflict:
        thread.refresh_from_db()
        raise EditConflict(thread) from None
    thread.refresh_from_db()
    audit_record(
        plan=thread.plan,
        by=membership.user,
        action="thread_resolve" if resolved else "thread_reopen",
        target=thread,
        changes={"state": [CommentThread.State.OPEN if resolved else CommentThread.State.RESOLVED, state]},
    )
    return thread
