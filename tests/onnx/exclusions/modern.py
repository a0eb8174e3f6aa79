"""Excluded node cases (recent ops: ops/modern_*.py): case name -> reason."""
_BF16 = "bfloat16 tensors are refused at load (UnimplementedError): netjit has no bfloat16 dtype"
EXCLUDED: dict[str, str] = {
    "test_unique_bfloat16_sorted_without_axis": _BF16,
}
