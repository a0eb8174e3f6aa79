"""Excluded node cases of If, Loop and Scan: case name -> reason.

netjit's control-flow ops take tensor-only bodies; sequences and optionals
are refused at load with UnimplementedError.
"""
EXCLUDED: dict[str, str] = {
    "test_if_opt": "the branches return optional values (Optional ops); netjit bodies are tensor-only",
    "test_if_seq": "the branches return sequences (SequenceConstruct); netjit bodies are tensor-only",
    "test_loop13_seq": "the loop carries a sequence (SequenceEmpty/SequenceInsert); netjit bodies are tensor-only",
    "test_loop16_seq_none": "the loop carries an optional sequence; netjit bodies are tensor-only",
    "test_range_bfloat16_type_positive_delta_expanded": "bfloat16 inputs: netjit refuses the element type at load",
}
