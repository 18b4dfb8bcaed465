"""Errors that services raise and views translate into messages or HTTP statuses."""

from collections.abc import Sequence

from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext


class EditConflict(Exception):
    """Someone else saved the object after this person loaded it; their save is refused, never merged.

    `instance` is the row as it is stored now when the service knows it (a first write that found a row saved
    meanwhile), else the row as the person had it. `names` says which parts conflicted (the cells of a grid).
    """

    def __init__(self, instance: models.Model, message: str | None = None, names: Sequence[str] = ()) -> None:
        self.instance = instance
        self.names = list(names)
        if message is None:
            # Translators: %(name)s is what was changed, e.g. "Cost line"; it starts the sentence.
            message = gettext(
                "%(name)s: someone else changed it after you opened it. Reload to see their changes, then try again."
            ) % {"name": capfirst(instance._meta.verbose_name)}
        super().__init__(message)


class JobLimitReached(Exception):
    """The person already has as many jobs queued or running as one may; a new one is refused, never queued."""

    def __init__(self, waiting: int) -> None:
        self.waiting = waiting
        super().__init__(
            ngettext(
                "You already have %(count)d job waiting or running. Wait until it finishes, then ask again.",
                "You already have %(count)d jobs waiting or running. Wait until one finishes, then ask again.",
                waiting,
            )
            % {"count": waiting}
        )


class PlanFrozen(Exception):
    """The plan is endorsed: its content is read-only for everyone until the secretariat lead reopens it.

    Pages answer 423 with the reason (naphs.middleware.RefusalMiddleware), the API 423 with the code
    `plan_endorsed`, and a job refuses to apply what it was asked before the endorsement.
    """

    def __init__(self, plan: models.Model) -> None:
        self.plan = plan
        number = getattr(plan, "endorsed_number", None)  # the core knows a plan only as a model
        if number:
            message = gettext(
                "“%(plan)s” is endorsed (version %(number)d) and read-only; nothing in it can change until the "
                "secretariat lead reopens it as a new draft."
            ) % {"plan": plan, "number": number}
        else:
            message = gettext(
                "“%(plan)s” is endorsed and read-only; nothing in it can change until the secretariat lead reopens "
                "it as a new draft."
            ) % {"plan": plan}
        super().__init__(message)
