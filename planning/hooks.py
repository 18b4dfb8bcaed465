"""Planning's hooks (naphs.hooks): where the apps above planning take part in its pages and its changes.

Each is called by planning; the apps above connect to them from their AppConfig.ready (costing.hooks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naphs.hooks import Hook

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from planning.models import Activity, Plan
    from stakeholders.models import User

# An activity of the plan (its id) moved to another technical area or responsible organization: what is
# summed by area or organization moves with it. Called inside the transaction that made the change.
activity_moved: Hook[[int], None] = Hook("activity_moved")

# An activity is about to be deleted (inside the transaction that deletes it).
activity_deleting: Hook[[Activity], None] = Hook("activity_deleting")

# The activity table's rows: each receiver may annotate the queryset with the columns it shows.
activity_rows: Hook[[QuerySet[Activity]], QuerySet[Activity]] = Hook("activity_rows")

# What the activity's page shows of it beside planning's own fields, by name in the page's context.
activity_page: Hook[[Activity], dict[str, Any]] = Hook("activity_page")

# Strategic activities were drawn into operational plan `plan` by `by`: `copies` are the new activities, each with
# its `origin`. Called inside planning.operational's transaction once the copies are saved, so a receiver's error
# undoes the whole drawing (costing copies the origins' cost lines).
operational_activities_drawn: Hook[[Plan, User, list[Activity]], None] = Hook("operational_activities_drawn")
