"""Node cases of supported ONNX ops that netjit does not pass, each with its reason.

Only what the ONNX spec itself leaves to the implementation (or a dtype
netjit refuses with UnimplementedError at load) belongs here; a wrong result
is never acceptable where an error would be honest. One file per op family
in ``exclusions/``.
"""
import importlib.util
import pathlib

EXCLUDED: dict[str, str] = {}
for _path in sorted((pathlib.Path(__file__).parent / "exclusions").glob("*.py")):
    _spec = importlib.util.spec_from_file_location(f"netjit_onnx_exclusions_{_path.stem}", _path)
    _mod = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_mod)
    EXCLUDED.update(_mod.EXCLUDED)
