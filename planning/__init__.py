"""Planning: reference frameworks, jurisdictions, plans, assessments, targets and activities."""
