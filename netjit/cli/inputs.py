"""What the tool reads: nets (saved ``.json`` or ``module.py:function``), feeds, IR dumps.

A NET argument is one of
  ``path/net.json``              a net saved with ``Net.save``
  ``path/plan.json#NET``         the net saved as NET in a plan file (``save_plan``)
  ``path/model.onnx``            an ONNX model (needs the onnx package)
  ``path/to/module.py:function`` a file whose function returns a Net
  ``package.module:function``    the same for an importable module
Running a module is running the user's code, by design; a ``.json`` or
``.onnx`` file is only ever parsed (see ``compiler/frontend/loading.py``).
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from netjit.compiler.frontend.loading import load_net as load_saved
from netjit.compiler.frontend.lowering import feed_type
from netjit.compiler.ir.files import check_regular
from netjit.compiler.frontend.net import Net
from netjit.compiler.ops import TensorType, as_dtype
from netjit.errors import InvalidArgumentError, NotFoundError


def load_net(spec: str) -> Net:
    """The Net a NET argument names."""
    module, sep, func = spec.rpartition(":")
    if sep and func.isidentifier() and (module.endswith(".py") or _is_module_name(module)):
        return _net_from_function(module, func, spec)
    path, _, name = spec.partition("#")
    if Path(path).suffix == ".json":
        return load_saved(path, name or None)
    if Path(path).suffix == ".onnx" and not name:
        return _load_onnx(path)
    raise InvalidArgumentError(f"cannot read net {spec!r}: expected a saved net (file.json), an ONNX "
                               "model (file.onnx), path/to/module.py:function or package.module:function")


def _load_onnx(path: str) -> Net:
    try:
        # onnx is an optional dependency: imported only when an .onnx file is given
        from netjit.compiler.frontend.onnx import load
    except ImportError as exc:
        raise InvalidArgumentError(f"cannot read {path}: ONNX models need the onnx package "
                                   f"(pip install \"netjit[onnx]\"): {exc}") from None
    return load(path)


def _is_module_name(text: str) -> bool:
    return bool(text) and all(part.isidentifier() for part in text.split("."))


def _net_from_function(module: str, func: str, spec: str) -> Net:
    if module.endswith(".py"):
        path = Path(module)
        if not path.is_file():
            raise NotFoundError(f"cannot read net {spec!r}: no file {path}")
        name = f"_netjit_cli_{path.stem}"
        mod_spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(mod_spec)
        sys.modules[name] = mod
        mod_spec.loader.exec_module(mod)
    else:
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            raise NotFoundError(f"cannot read net {spec!r}: {exc}") from None
    fn = getattr(mod, func, None)
    if not callable(fn):
        raise NotFoundError(f"cannot read net {spec!r}: {module} has no function {func!r}")
    net = fn()
    if not isinstance(net, Net):
        raise InvalidArgumentError(f"cannot read net {spec!r}: {func}() returned "
                                   f"{type(net).__name__}, not a netjit Net")
    return net


def load_array(spec: str, path: str) -> np.ndarray:
    """A feed value from a ``.npy`` file (never unpickled)."""
    if not Path(path).exists():
        raise NotFoundError(f"--feed {spec}: no file {path}")
    try:
        check_regular(path)
        with open(path, "rb") as fh:
            magic = fh.read(6)
    except (InvalidArgumentError, OSError) as exc:
        raise InvalidArgumentError(f"--feed {spec}: cannot read {path}: {exc}") from None
    if magic != b"\x93NUMPY":
        raise InvalidArgumentError(f"--feed {spec}: {path} is not a .npy file (it starts with {magic!r}, "
                                   "not NumPy's magic); write one with numpy.save")
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise NotFoundError(f"--feed {spec}: no file {path}") from None
    except (OSError, ValueError, EOFError) as exc:
        raise InvalidArgumentError(f"--feed {spec}: cannot read {path} as a .npy array: {exc}") from None
    if not isinstance(arr, np.ndarray):
        raise InvalidArgumentError(f"--feed {spec}: {path} holds several arrays; give one .npy per feed")
    return arr


@dataclass
class Signature:
    """Feeds (with their types and, for ``run``, values) and fetches of one compile."""

    feeds: dict[str, TensorType] = field(default_factory=dict)
    values: dict[str, np.ndarray] = field(default_factory=dict)
    fetches: list[str] = field(default_factory=list)


def declared_placeholders(net: Net) -> dict[str, TensorType]:
    return {d.outputs[0]: d.op.type for d in net.ops if d.type == "Placeholder"}


def default_fetches(net: Net) -> list[str]:
    """External outputs if declared, else the blobs written and never read afterwards."""
    if net.external_outputs:
        return [str(b) for b in net.external_outputs]
    read_later: set[str] = set()
    sinks: list[str] = []
    for d in reversed(net.ops):
        if d.type != "Placeholder":
            sinks += [o for o in reversed(d.outputs) if o not in read_later and o not in sinks]
        read_later.update(d.inputs)
    return sinks[::-1]


def signature(net: Net, feeds: Sequence[str] = (), fetches: Sequence[str] = (),
              need_values: bool = False) -> Signature:
    """Parse ``--feed name[=file.npy]`` and ``--fetch name`` (defaults: every placeholder; sinks)."""
    sig = Signature(fetches=list(fetches) or default_fetches(net))
    declared = declared_placeholders(net)
    specs = list(feeds) if feeds else ([] if need_values else list(declared))
    for spec in specs:
        name, sep, path = spec.partition("=")
        if sep:
            sig.values[name] = arr = load_array(spec, path)
            sig.feeds[name] = declared.get(name) or feed_type(TensorType(as_dtype(arr.dtype), arr.shape))
        elif need_values:
            raise InvalidArgumentError(f"--feed {spec}: give a value file, e.g. --feed {name}=x.npy")
        else:
            sig.feeds[name] = declared.get(name) or _blob_feed_type(net, name)
    if not sig.fetches:
        raise InvalidArgumentError(f"net {net.name!r} has nothing to fetch; name blobs with --fetch")
    return sig


def _blob_feed_type(net: Net, name: str) -> TensorType:
    t = net.blob_type(name)
    if t is None:
        raise InvalidArgumentError(f"--feed {name}: the type of blob {name!r} in net {net.name!r} is "
                                   f"not known before running; give a value: --feed {name}=file.npy")
    return feed_type(t)


def read_ir_text(path: str) -> str:
    """An IR dump (text, as ``compile --dump-dir`` writes it) without its comment header."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise NotFoundError(f"cannot read IR dump {path}: {exc.strerror}") from None
    return "\n".join(line for line in text.splitlines() if not line.startswith("# ")) + "\n"


def is_ir_json(path: str) -> bool:
    """Is ``path`` an IR graph saved as JSON (``compiler/ir/serialize.py``) rather than a net?"""
    if not path.endswith(".json"):
        return False
    try:
        with open(path, encoding="utf-8") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return '"netjit-ir"' in head


def is_net_spec(spec: str) -> bool:
    """Does ``spec`` name a net (rather than an IR dump)?"""
    module, sep, func = spec.rpartition(":")
    return spec.partition("#")[0].endswith(".json") or bool(sep and func.isidentifier() and
                                          (module.endswith(".py") or _is_module_name(module)))
