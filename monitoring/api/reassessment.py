"""Monitoring API: reassessment."""

from django.urls import URLPattern

# (prefix, viewset, basename) for the router; plain routes in urlpatterns.
routes: list = []
urlpatterns: list[URLPattern] = []
