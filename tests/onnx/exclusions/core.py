"""Excluded node cases (core: dtypes, value kinds, the basic converters): case name -> reason.

Optional and sequence values (test_identity_opt, test_identity_sequence) are listed in
``elementwise.py``, whose family converts Identity.
"""
EXCLUDED: dict[str, str] = {}
