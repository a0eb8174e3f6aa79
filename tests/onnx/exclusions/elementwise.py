"""Excluded node cases (elementwise): case name -> reason."""
EXCLUDED: dict[str, str] = {}
