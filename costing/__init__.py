"""Costing and resource mapping: currencies, unit costs, cost lines, funding and rollups (to come)."""
