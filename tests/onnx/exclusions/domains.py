"""Excluded node cases (domains other than the default one): case name -> reason."""
_STRING = ("string tensors are refused at load (UnimplementedError): LabelEncoder is supported for numeric "
           "keys and values only")
_GRAPH = ("FlexAttention with a graph attribute (score_mod, prob_mod) is refused at load "
          "(UnimplementedError): netjit imports no subgraphs")
EXCLUDED: dict[str, str] = {
    **dict.fromkeys([
        "test_ai_onnx_ml_label_encoder_string_int", "test_ai_onnx_ml_label_encoder_string_int_no_default",
        "test_ai_onnx_ml_label_encoder_tensor_mapping", "test_ai_onnx_ml_label_encoder_tensor_value_only_mapping",
    ], _STRING),
    **dict.fromkeys([
        "test_flexattention_causal_mask", "test_flexattention_prob_mod", "test_flexattention_relative_positional",
        "test_flexattention_score_mod", "test_flexattention_soft_cap",
    ], _GRAPH),
}
