"""Costing pages, one module per part of the work: settings and catalogue, cost lines, the Excel workbook,
the WHO costing tool layout, funding, and the dashboard."""
