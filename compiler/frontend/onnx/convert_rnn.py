"""ONNX converters of the recurrent layers: RNN, GRU, LSTM -> the op of that name.

    LSTM(X, W, R, B?, sequence_lens?, initial_h?, initial_c?, P?) -> LSTM(present=(given optional inputs))
    outputs the model omits get fresh names (the op always computes Y, Y_h[, Y_c])

Activations are resolved here: a list that names one function per gate
function and direction; activation_alpha/activation_beta are taken one per
listed activation (they must then have the list's length, else unsupported).
"""
from __future__ import annotations

from ...ops import InferError
from ...ops import recurrent as R
from .converters import NodeContext, onnx_op


def _activation_params(ctx: NodeContext, acts: tuple) -> tuple:
    params = []
    for key in ("activation_alpha", "activation_beta"):
        values = tuple(float(v) for v in ctx.attr(key, ()))
        if values and len(values) != len(acts):
            raise ctx.unsupported(f"{key} has {len(values)} values for {len(acts)} activations: which value "
                                  "belongs to which activation is ambiguous")
        params.append(values)
    return tuple(params)


def _recurrent(op_cls, extra: dict):
    def convert(ctx: NodeContext) -> None:
        ins = ctx.inputs()
        names = op_cls.optional_inputs()
        if len(ins) > 3 + len(names):
            raise ctx.unsupported(f"{len(ins)} inputs; {op_cls.__name__} takes at most {3 + len(names)}")
        present = tuple(n for n, blob in zip(names, ins[3:]) if blob is not None)
        acts = tuple(str(a) for a in ctx.attr("activations", ()))
        unknown = [a for a in acts if a not in R.ACTIVATIONS]
        if unknown:
            raise ctx.unsupported(f"activations {unknown} (known: {sorted(R.ACTIVATIONS)})")
        alpha, beta = _activation_params(ctx, acts)
        hidden = ctx.attr("hidden_size", None)
        w = ctx.type(1)
        if hidden is None:
            if w is None or w.shape is None or w.shape[1] is None:
                raise ctx.unsupported("hidden_size is neither an attribute nor static in W")
            hidden = w.shape[1] // op_cls.gates
        clip = ctx.attr("clip", None)
        fields = dict(hidden_size=int(hidden), direction=str(ctx.attr("direction", "forward")), activations=acts,
                      activation_alpha=alpha, activation_beta=beta, clip=None if clip is None else float(clip),
                      layout=int(ctx.attr("layout", 0)), present=present,
                      **{k: bool(ctx.attr(a, 0)) for k, a in extra.items()})
        try:
            op = op_cls(**fields)
        except InferError as exc:
            raise ctx.unsupported(str(exc)) from None
        outs = [ctx.output(i) or ctx.fresh(f"unused{i}") for i in range(op.num_outputs)]
        ctx.emit(op, [b for b in ins if b is not None], outs)
    return convert


onnx_op("RNN")(_recurrent(R.RNN, {}))
onnx_op("GRU")(_recurrent(R.GRU, {"linear_before_reset": "linear_before_reset"}))
onnx_op("LSTM")(_recurrent(R.LSTM, {"input_forget": "input_forget"}))
