"""Monitoring's chapter in the plan document (costing.document, through costing.hooks)."""

from __future__ import annotations


def connect() -> None:
    return None
