"""Costing API: funding."""

from django.urls import path  # noqa: F401

# (prefix, viewset, basename) for the router; plain routes in urlpatterns.
routes: list = []
urlpatterns: list = []
