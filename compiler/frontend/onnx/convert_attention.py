"""ONNX converters of the attention family.

    Attention (opsets 23-25)   -> Attention (optional inputs as has_* flags; unwanted outputs get fresh names)
    LinearAttention (27)       -> LinearAttention(update_rule, heads, scale)
    TensorScatter (24)         -> TensorScatter(axis, circular)
"""
from __future__ import annotations

from ...ops import attention as A
from ...ops import attention_cache as C
from ...ops import attention_linear as L
from .converters import NodeContext, onnx_op
from .proto import onnx_dtype


def _outputs(ctx: NodeContext, n: int) -> list[str]:
    """The node's first ``n`` outputs, a fresh name for each one the model does not want."""
    return [ctx.output(i) or ctx.fresh(f"unused{i}") for i in range(n)]


def _rank(ctx: NodeContext, i: int) -> int:
    t = ctx.type(i)
    if t is None or t.shape is None:
        raise ctx.unsupported(f"the rank of input {i} is unknown (3-D and 4-D inputs mean different layouts)")
    return len(t.shape)


@onnx_op("Attention", since=23)
def attention(ctx: NodeContext) -> None:
    """One Attention op; the optional inputs present are declared by flags so positions stay fixed."""
    has_past = ctx.input(4) is not None
    if has_past != (ctx.input(5) is not None):
        raise ctx.unsupported("past_key and past_value must be given together")
    if has_past and ctx.input(6) is not None:
        raise ctx.unsupported("nonpad_kv_seqlen with past_key/past_value (the spec forbids the combination)")
    flat = _rank(ctx, 0) == 3
    heads = dict(q_num_heads=int(ctx.attr("q_num_heads")), kv_num_heads=int(ctx.attr("kv_num_heads"))) \
        if flat else {}
    if flat and (heads["q_num_heads"] <= 0 or heads["kv_num_heads"] <= 0
                 or heads["q_num_heads"] % heads["kv_num_heads"]):
        raise ctx.unsupported(f"q_num_heads {heads['q_num_heads']} is not a positive multiple of "
                              f"kv_num_heads {heads['kv_num_heads']}")
    mode = int(ctx.attr("qk_matmul_output_mode", 0))
    if mode not in tuple(A.QKOutput):
        raise ctx.unsupported(f"qk_matmul_output_mode {mode} (the spec defines 0-3)")
    precision = ctx.attr("softmax_precision", None)
    softmax_dtype = None if precision is None else onnx_dtype(int(precision), f"node {ctx.name!r} softmax_precision")
    left, right = int(ctx.attr("left_window_size", -1)), int(ctx.attr("right_window_size", -1))
    if left < -1 or right < -1:
        raise ctx.unsupported(f"window sizes ({left}, {right}) must be -1 or non-negative")
    scale = ctx.attr("scale", None)
    op = A.Attention(**heads, scale=None if scale is None else float(scale),
                     is_causal=bool(int(ctx.attr("is_causal", 0))), softcap=float(ctx.attr("softcap", 0.0)),
                     qk_output=mode, softmax_dtype=softmax_dtype, left_window=left, right_window=right,
                     has_mask=ctx.input(3) is not None, has_past=has_past, has_nonpad=ctx.input(6) is not None)
    ctx.emit(op, [b for b in (ctx.input(i) for i in range(7)) if b is not None], _outputs(ctx, 4))


@onnx_op("LinearAttention", since=27)
def linear_attention(ctx: NodeContext) -> None:
    """decay is given exactly for the gated rules and beta for the delta rules (the spec requires both ways)."""
    rule = ctx.attr("update_rule", "gated_delta")
    rule = rule.decode() if isinstance(rule, bytes) else str(rule)
    if rule not in L.UPDATE_RULES:
        raise ctx.unsupported(f"update_rule {rule!r} (the spec defines {sorted(L.UPDATE_RULES)})")
    for i, name, wanted in ((4, "decay", rule in L.GATED_RULES), (5, "beta", rule in L.DELTA_RULES)):
        if (ctx.input(i) is not None) != wanted:
            raise ctx.unsupported(f"update_rule {rule!r} {'requires' if wanted else 'forbids'} the {name} input")
    for i in range(3):
        if _rank(ctx, i) != 3:
            raise ctx.unsupported(f"input {i} must be 3-D [B, T, heads * size], got {ctx.type(i)}")
    q_heads, kv_heads = int(ctx.attr("q_num_heads")), int(ctx.attr("kv_num_heads"))
    if q_heads <= 0 or kv_heads <= 0 or q_heads % kv_heads:
        raise ctx.unsupported(f"q_num_heads {q_heads} is not a positive multiple of kv_num_heads {kv_heads}")
    op = L.LinearAttention(q_num_heads=q_heads, kv_num_heads=kv_heads, update_rule=rule,
                           scale=float(ctx.attr("scale", 0.0)), has_past=ctx.input(3) is not None)
    ctx.emit(op, [b for b in (ctx.input(i) for i in range(6)) if b is not None], _outputs(ctx, 2))


@onnx_op("TensorScatter", since=24)
def tensor_scatter(ctx: NodeContext) -> None:
    mode = ctx.attr("mode", "linear")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    if mode not in ("linear", "circular"):
        raise ctx.unsupported(f"mode {mode!r} (the spec defines linear and circular)")
    ctx.emit(C.TensorScatter(axis=int(ctx.attr("axis", -2)), circular=mode == "circular"), ctx.inputs())
