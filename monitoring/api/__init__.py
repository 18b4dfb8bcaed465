"""Monitoring API, one module per part of the work, wired by naphs.api_urls."""

from monitoring.api import dashboard, indicators, periods, progress, reassessment, reviews, timeliness, workbook

PARTS = (periods, progress, workbook, reviews, indicators, reassessment, timeliness, dashboard)
