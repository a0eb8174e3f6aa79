"""ONNX import: ``load(path_or_model) -> Net`` (see ``importer``; converters by op family),
and export: ``export_net(net, fetches, feeds, opset=None) -> ModelProto`` (rows by op family).

Importing this package imports ``onnx`` and registers every converter and export row.
"""
from __future__ import annotations

from . import convert_basic, convert_elementwise, convert_nn, convert_tensor  # noqa: F401  (registers converters)
from . import convert_attention  # noqa: F401  (registers the attention converters)
from . import convert_modern  # noqa: F401  (registers converters)
from . import convert_lossq  # noqa: F401  (registers converters)
from . import convert_signal  # noqa: F401  (registers converters)
from . import convert_control_flow  # noqa: F401  (registers If, Loop, Scan)
from . import convert_domains  # noqa: F401  (registers the converters of other domains)
from . import export_core  # noqa: F401  (registers export rows)
from .converters import CONVERTERS, NodeContext, onnx_op
from .export import EXPORTERS, ExportContext, export_net, exports
from .loader import load

__all__ = ["load", "onnx_op", "NodeContext", "CONVERTERS", "export_net", "exports", "ExportContext", "EXPORTERS"]
