"""English dates as the product writes them on pages: "20 Nov 2025", day first, the month short (Django's own
English formats put the month first, as American English does). The other languages keep Django's formats of
their locale; templates name the format (`|date:"DATETIME_FORMAT"`), never a pattern of their own."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y H:i"
YEAR_MONTH_FORMAT = "M Y"
MONTH_DAY_FORMAT = "j M"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y H:i"
