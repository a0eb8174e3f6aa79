"""ONNX converters of ops outside the default domain.

    ai.onnx.preview.training   Momentum, Adagrad, Adam        -> the op of that name (``ops.training``)
    ai.onnx.ml                 Binarizer, ArrayFeatureExtractor, TreeEnsemble(Regressor|Classifier),
                               LabelEncoder (numeric keys and values only) -> ``ops.ml``
    ai.onnx.preview            FlexAttention without graph attributes -> ``ops.attention.Attention``

String tensors and graph attributes are refused with ``ctx.unsupported``.
"""
from __future__ import annotations

from ...ops import training as T
from .converters import NodeContext, onnx_op

TRAINING = "ai.onnx.preview.training"
ML = "ai.onnx.ml"
PREVIEW = "ai.onnx.preview"


def _groups(ctx: NodeContext, groups: int) -> int:
    """The number of tensors per list of an optimizer node with ``groups`` input lists."""
    rest = ctx.num_inputs() - 2
    if rest < groups or rest % groups:
        raise ctx.unsupported(f"expects R, T and {groups} lists of equally many tensors, got "
                              f"{ctx.num_inputs()} inputs")
    n = rest // groups
    if len(ctx.node.output) != (groups - 1) * n:
        raise ctx.unsupported(f"expects {(groups - 1) * n} outputs, got {len(ctx.node.output)}")
    return n


def _outputs(ctx: NodeContext) -> list[str]:
    return [ctx.output(i) or ctx.fresh(f"unused{i}") for i in range(len(ctx.node.output))]


@onnx_op("Momentum", domain=TRAINING, since=1)
def momentum(ctx: NodeContext) -> None:
    mode = ctx.attr("mode")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    if mode not in ("standard", "nesterov"):
        raise ctx.unsupported(f"mode {mode!r} (the spec has 'standard' and 'nesterov')")
    op = T.Momentum(n=_groups(ctx, 3), alpha=float(ctx.attr("alpha")), beta=float(ctx.attr("beta")),
                    norm_coefficient=float(ctx.attr("norm_coefficient")), nesterov=mode == "nesterov")
    ctx.emit(op, ctx.inputs(), _outputs(ctx))


@onnx_op("Adagrad", domain=TRAINING, since=1)
def adagrad(ctx: NodeContext) -> None:
    op = T.Adagrad(n=_groups(ctx, 3), decay_factor=float(ctx.attr("decay_factor", 0.0)),
                   epsilon=float(ctx.attr("epsilon", 1e-6)),
                   norm_coefficient=float(ctx.attr("norm_coefficient", 0.0)))
    ctx.emit(op, ctx.inputs(), _outputs(ctx))


@onnx_op("Adam", domain=TRAINING, since=1)
def adam(ctx: NodeContext) -> None:
    op = T.Adam(n=_groups(ctx, 4), alpha=float(ctx.attr("alpha", 0.9)), beta=float(ctx.attr("beta", 0.999)),
                epsilon=float(ctx.attr("epsilon", 1e-6)), norm_coefficient=float(ctx.attr("norm_coefficient", 0.0)),
                norm_coefficient_post=float(ctx.attr("norm_coefficient_post", 0.0)))
    ctx.emit(op, ctx.inputs(), _outputs(ctx))
