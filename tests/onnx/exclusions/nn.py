"""Excluded node cases (nn): case name -> reason."""
EXCLUDED: dict[str, str] = {}
