"""Lists of choices that several apps share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Sector(models.TextChoices):
    """One Health and beyond: the sectors organizations work in and activities involve."""

    HUMAN_HEALTH = "human_health", _("Human health")
    ANIMAL_HEALTH = "animal_health", _("Animal health")
    ENVIRONMENT = "environment", _("Environment")
    AGRICULTURE = "agriculture", _("Agriculture")
    FINANCE = "finance", _("Finance")
    DEFENCE_SECURITY = "defence_security", _("Defence and security")
    DISASTER_MANAGEMENT = "disaster_management", _("Disaster management")
    OTHER = "other", _("Other")


class Hazard(models.TextChoices):
    ALL_HAZARDS = "all_hazards", _("All hazards")
    BIOLOGICAL = "biological", _("Biological")
    CHEMICAL = "chemical", _("Chemical")
    RADIOLOGICAL_NUCLEAR = "radiological_nuclear", _("Radiological and nuclear")
    NATURAL = "natural", _("Natural")
    OTHER = "other", _("Other")


def validate_choice_list(value: object, choices: type[models.TextChoices], message: StrOrPromise) -> None:
    """A JSON list field holding values of `choices`, each at most once; else a ValidationError with `message`, a
    whole sentence naming the field in which `%(values)s` lists the values allowed."""
    if not isinstance(value, list) or any(item not in choices.values for item in value) or len(set(value)) < len(value):
        raise ValidationError(message, code="invalid_choice_list", params={"values": ", ".join(choices.values)})
