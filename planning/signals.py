"""What planning announces for the apps above it to react to, without planning importing them."""

from django.dispatch import Signal

# Sent by planning.operational.operational_activities_add inside its transaction, once the copies are saved:
# `plan` (the operational plan), `by` (who drew them) and `copies` (the new activities, each with its `origin`).
# Costing copies the origins' cost lines (costing.operational); a receiver's error undoes the whole drawing.
operational_activities_drawn = Signal()
