"""Detection rules: one module per family; `registry` builds the configured ones.

Nothing is imported here: the configuration needs `rules.settings` alone, not the rules.
"""
