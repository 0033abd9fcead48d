"""`sentinel report`: gather incidents and coverage, find what was exposed, say it in words."""
