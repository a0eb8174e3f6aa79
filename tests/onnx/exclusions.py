"""Node cases of supported ONNX ops that netjit does not pass, each with its reason.

Only what the ONNX spec itself leaves to the implementation (or a dtype
netjit refuses with UnimplementedError at load) belongs here; a wrong result
is never acceptable where an error would be honest.
"""
EXCLUDED: dict[str, str] = {}
