"""Errors that services raise and views translate into messages or HTTP statuses."""

from django.db import models


class EditConflict(Exception):
    """Someone else saved the object after this person loaded it; their save is refused, never merged."""

    def __init__(self, instance: models.Model) -> None:
        self.instance = instance
        name = instance._meta.verbose_name
        super().__init__(
            f"Someone else changed this {name} after you opened it. Reload to see their changes, then try again."
        )
