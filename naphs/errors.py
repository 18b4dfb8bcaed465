"""Errors that services raise and views translate into messages or HTTP statuses."""

from django.db import models
from django.utils.translation import ngettext


class EditConflict(Exception):
    """Someone else saved the object after this person loaded it; their save is refused, never merged."""

    def __init__(self, instance: models.Model) -> None:
        self.instance = instance
        name = instance._meta.verbose_name
        super().__init__(
            f"Someone else changed this {name} after you opened it. Reload to see their changes, then try again."
        )


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
