"""ONNX converters of ops outside the default domain.

    ai.onnx.preview.training   Momentum, Adagrad, Adam        -> the op of that name (``ops.training``)
    ai.onnx.ml                 Binarizer, ArrayFeatureExtractor, TreeEnsemble(Regressor|Classifier),
                               LabelEncoder (numeric keys and values only) -> ``ops.ml``
    ai.onnx.preview            FlexAttention without graph attributes -> ``ops.attention.Attention``

String tensors and graph attributes are refused with ``ctx.unsupported``.
"""
from __future__ import annotations

import numpy as np
import onnx

from ...ops import attention as A
from ...ops import ml as ML_OPS
from ...ops import training as T
from .converters import NodeContext, onnx_op
from .proto import onnx_dtype

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


# -- ai.onnx.ml ---------------------------------------------------------------------------
def _numeric_x(ctx: NodeContext) -> np.dtype:
    t = ctx.type(0)
    if t is None:
        raise ctx.unsupported("the dtype of X is unknown")
    if t.dtype.kind not in "biuf":
        raise ctx.unsupported(f"X of dtype {t.dtype} (numeric tensors only)")
    return t.dtype


@onnx_op("Binarizer", domain=ML, since=1)
def binarizer(ctx: NodeContext) -> None:
    _numeric_x(ctx)
    ctx.emit(ML_OPS.Binarizer(threshold=float(ctx.attr("threshold", 0.0))), [ctx.input(0)])


@onnx_op("ArrayFeatureExtractor", domain=ML, since=1)
def array_feature_extractor(ctx: NodeContext) -> None:
    _numeric_x(ctx)
    ctx.emit(ML_OPS.ArrayFeatureExtractor(), ctx.inputs())


def _is_text(value) -> bool:
    if isinstance(value, (bytes, str)):
        return True
    if isinstance(value, (list, tuple)):
        return any(_is_text(v) for v in value)
    return isinstance(value, np.ndarray) and value.dtype.kind in "OSU"


@onnx_op("LabelEncoder", domain=ML, since=2)
def label_encoder(ctx: NodeContext) -> None:
    """Numeric keys and values only: string keys, values or defaults are refused."""
    texts = [k for k in ("keys_strings", "values_strings", "default_string") if k in ctx.attrs]
    texts += [k for k in ("keys_tensor", "values_tensor", "default_tensor") if _is_text(ctx.attrs.get(k))]
    if texts:
        raise ctx.unsupported(f"string keys or values ({', '.join(texts)}): numeric tensors only")
    _numeric_x(ctx)
    keys = _one_of(ctx, ("keys_int64s", "keys_floats", "keys_tensor"), "keys")
    values = _one_of(ctx, ("values_int64s", "values_floats", "values_tensor"), "values")
    if keys.dtype.kind == "f" and np.isnan(keys).any():
        raise ctx.unsupported("NaN keys")
    if values.dtype.kind not in "biuf":
        raise ctx.unsupported(f"values of dtype {values.dtype}")
    if "default_tensor" in ctx.attrs:
        default = np.asarray(ctx.attrs["default_tensor"]).ravel()
        if default.size != 1:
            raise ctx.unsupported("a default_tensor of more than one element")
        default = default[0].item()
    elif values.dtype.kind == "f":
        default = float(ctx.attr("default_float", -0.0))
    else:
        default = int(ctx.attr("default_int64", -1))
    ctx.emit(ML_OPS.LabelEncoder(keys=tuple(k.item() for k in keys), values=tuple(v.item() for v in values),
                                 default=default, dtype=values.dtype), [ctx.input(0)])


def _one_of(ctx: NodeContext, names, what: str) -> np.ndarray:
    given = [n for n in names if n in ctx.attrs]
    if len(given) != 1:
        raise ctx.unsupported(f"expects exactly one of {', '.join(names)} for the {what}")
    name = given[0]
    value = np.asarray(ctx.attrs[name])
    if name.endswith("int64s"):
        return value.astype(np.int64).ravel()
    if name.endswith("floats"):
        return value.astype(np.float32).ravel()
    return value.ravel()


_AGGREGATE = {0: True, 1: False}       # AVERAGE, SUM


@onnx_op("TreeEnsemble", domain=ML, since=5)
def tree_ensemble(ctx: NodeContext) -> None:
    """Post transform NONE and SUM or AVERAGE aggregation (the others are refused)."""
    dtype = _numeric_x(ctx)
    if dtype.kind != "f":
        raise ctx.unsupported(f"X of dtype {dtype} (float tensors only)")
    post = int(ctx.attr("post_transform", 0))
    if post != 0:
        raise ctx.unsupported(f"post_transform {post} (only NONE)")
    agg = int(ctx.attr("aggregate_function", 1))
    if agg not in _AGGREGATE:
        raise ctx.unsupported(f"aggregate_function {agg} (only AVERAGE and SUM)")
    modes = [int(m) for m in np.asarray(ctx.attr("nodes_modes")).ravel()]
    n = len(modes)
    tracks = ctx.attr("nodes_missing_value_tracks_true", [0] * n)
    members = ctx.attr("membership_values", None)
    counts, values = [0] * n, []
    if members is not None:
        groups = [[]]
        for v in np.asarray(members, np.float64).ravel():
            if np.isnan(v):
                groups.append([])
            else:
                groups[-1].append(float(v))
        groups = groups[:-1] if not groups[-1] else groups
        member_nodes = [i for i, m in enumerate(modes) if m == ML_OPS.MEMBER]
        if len(groups) != len(member_nodes):
            raise ctx.unsupported(f"{len(groups)} membership sets for {len(member_nodes)} MEMBER nodes")
        for i, g in zip(member_nodes, groups):
            counts[i] = len(g)
            values += g
    elif ML_OPS.MEMBER in modes:
        raise ctx.unsupported("MEMBER nodes without membership_values")
    ints = lambda name: tuple(int(v) for v in np.asarray(ctx.attr(name)).ravel())  # noqa: E731
    op = ML_OPS.TreeEnsemble(
        nodes_splits=tuple(float(v) for v in np.asarray(ctx.attr("nodes_splits")).ravel()),
        nodes_featureids=ints("nodes_featureids"), nodes_modes=tuple(modes),
        nodes_truenodeids=ints("nodes_truenodeids"), nodes_falsenodeids=ints("nodes_falsenodeids"),
        nodes_trueleafs=ints("nodes_trueleafs"), nodes_falseleafs=ints("nodes_falseleafs"),
        nodes_missing_tracks_true=tuple(int(v) for v in tracks), membership_values=tuple(values),
        membership_counts=tuple(counts), leaf_targetids=ints("leaf_targetids"),
        leaf_weights=tuple(float(v) for v in np.asarray(ctx.attr("leaf_weights")).ravel()),
        tree_roots=ints("tree_roots"), n_targets=int(ctx.attr("n_targets")), average=_AGGREGATE[agg])
    ctx.emit(op, [ctx.input(0)])


# -- ai.onnx.preview ------------------------------------------------------------------------
@onnx_op("FlexAttention", domain=PREVIEW, since=1)
def flex_attention(ctx: NodeContext) -> None:
    """Without score_mod/prob_mod it is Attention on rank-4 Q, K, V: softmax((Q Kᵀ) scale) V, the
    softmax in ``softmax_precision`` (float32, or double for double inputs)."""
    graphs = [a.name for a in ctx.node.attribute if a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)]
    if graphs:
        raise ctx.unsupported(f"graph attributes ({', '.join(graphs)}): netjit imports no subgraphs")
    t = ctx.type(0)
    if t is None or t.shape is None or len(t.shape) != 4 or t.dtype.kind != "f":
        raise ctx.unsupported(f"Q must be a rank-4 float tensor, got {t}")
    precision = ctx.attr("softmax_precision", None)
    if precision is None:
        softmax_dtype = np.dtype(np.float64) if t.dtype == np.float64 else np.dtype(np.float32)
    else:
        softmax_dtype = onnx_dtype(int(precision), f"node {ctx.name!r} softmax_precision")
        if softmax_dtype.kind != "f":
            raise ctx.unsupported(f"softmax_precision {softmax_dtype} (float types only)")
    scale = ctx.attr("scale", None)
    op = A.Attention(scale=None if scale is None else float(scale), softmax_dtype=softmax_dtype)
    ctx.emit(op, [ctx.input(0), ctx.input(1), ctx.input(2)],
             [ctx.output(0)] + [ctx.fresh(f"unused{i}") for i in range(1, 4)])
