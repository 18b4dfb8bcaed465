"""Lists of choices that several apps share."""

from django.core.exceptions import ValidationError
from django.db import models


class Sector(models.TextChoices):
    """One Health and beyond: the sectors organizations work in and activities involve."""

    HUMAN_HEALTH = "human_health", "Human health"
    ANIMAL_HEALTH = "animal_health", "Animal health"
    ENVIRONMENT = "environment", "Environment"
    AGRICULTURE = "agriculture", "Agriculture"
    FINANCE = "finance", "Finance"
    DEFENCE_SECURITY = "defence_security", "Defence and security"
    DISASTER_MANAGEMENT = "disaster_management", "Disaster management"
    OTHER = "other", "Other"


class Hazard(models.TextChoices):
    ALL_HAZARDS = "all_hazards", "All hazards"
    BIOLOGICAL = "biological", "Biological"
    CHEMICAL = "chemical", "Chemical"
    RADIOLOGICAL_NUCLEAR = "radiological_nuclear", "Radiological and nuclear"
    NATURAL = "natural", "Natural"
    OTHER = "other", "Other"


def validate_choice_list(value: object, choices: type[models.TextChoices], what: str) -> None:
    """A JSON list field holding values of `choices`, each at most once."""
    if not isinstance(value, list) or any(item not in choices.values for item in value) or len(set(value)) < len(value):
        raise ValidationError(f"{what} must be a list drawn from: {', '.join(choices.values)}.")
