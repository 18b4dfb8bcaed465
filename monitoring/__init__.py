"""Monitoring: progress updates, reviews and M&E indicators (to come)."""
