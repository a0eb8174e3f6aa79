"""Excluded node cases (tensor): case name -> reason."""
EXCLUDED: dict[str, str] = {}
