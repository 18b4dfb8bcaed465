"""NAPHS Planner: the project package, and the app that holds what every other app shares."""

from naphs.celery import app as celery_app

__all__ = ["celery_app"]
