"""Arabic dates day first, as in the date alone (Django's Arabic formats put the month first in a date and time)."""

DATE_FORMAT = "j F، Y"
DATETIME_FORMAT = "j F، Y، H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
