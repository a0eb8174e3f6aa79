"""Excluded node cases (losses and quantization): case name -> reason."""


def _refused(dtype: str) -> str:
    return f"{dtype} tensors are refused at load (UnimplementedError): netjit has no {dtype} dtype"


EXCLUDED: dict[str, str] = {
    "test_dequantizelinear_e4m3fn": _refused("float8e4m3fn"),
    "test_dequantizelinear_e4m3fn_float16": _refused("float8e4m3fn"),
    "test_dequantizelinear_e4m3fn_zero_point": _refused("float8e4m3fn"),
    "test_dequantizelinear_e5m2": _refused("float8e5m2"),
    "test_dequantizelinear_float4e2m1": _refused("float4e2m1"),
    "test_dequantizelinear_int2": _refused("int2"),
    "test_dequantizelinear_int4": _refused("int4"),
    "test_dequantizelinear_uint2": _refused("uint2"),
    "test_dequantizelinear_uint4": _refused("uint4"),
    "test_quantizelinear_e4m3fn": _refused("float8e4m3fn"),
    "test_quantizelinear_e5m2": _refused("float8e5m2"),
    "test_quantizelinear_float4e2m1": _refused("float4e2m1"),
    "test_quantizelinear_int2": _refused("int2"),
    "test_quantizelinear_int4": _refused("int4"),
    "test_quantizelinear_uint2": _refused("uint2"),
    "test_quantizelinear_uint4": _refused("uint4"),
}
