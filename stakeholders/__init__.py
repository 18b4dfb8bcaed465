"""Stakeholders: people, organizations, plan membership and roles, engagement and review."""
