"""Costing API, one module per part of the work, wired by naphs.api_urls."""

from costing.api import (
    dashboard,
    engagement,
    funding,
    lines,
    open_data,
    plan_workbook,
    settings,
    versions,
    who,
    workbook,
)

PARTS = (settings, lines, workbook, who, funding, dashboard, plan_workbook, open_data, versions, engagement)
