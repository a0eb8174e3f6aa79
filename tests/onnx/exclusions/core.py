"""Excluded node cases (core): case name -> reason."""
EXCLUDED: dict[str, str] = {}
