"""Monitoring's Celery tasks (beat's reminders and the aggregates' refresh)."""
