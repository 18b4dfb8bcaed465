"""Monitoring pages, one module per part of the work, wired by monitoring.urls."""
