"""Writing nets and plans: a versioned JSON file, large constants in a side ``.npz``.

    {"format": "netjit-net", "version": 1, "name": "mlp",
     "external_inputs": ["x"], "external_outputs": ["y"], "constants": "mlp.npz",
     "ops": [{"type": "MatMul", "inputs": ["x", "w"], "outputs": ["h"],
              "device": "cpu:0", "attrs": {"trans_b": true}}, ...]}

An op is stored as its registry name, its blobs, its device and its
non-default attributes, encoded by the codec the IR JSON shares
(``compiler/ir/attr_codec.py``) in the saved-net spelling: constants as
``{"tensor": {"dtype", "shape", "data" | "npz"}}``, sequences as lists. A plan file
(``"format": "netjit-plan"``) holds its nets (``"nets"``: name, external
inputs/outputs, ops) and its steps (``"steps"``: name, the names of the nets
they run, substeps and the ExecutionStep settings). ``loading`` reads both back.

This module sits below ``net`` and ``steps`` (their ``save`` methods call it),
so it works on any object with a net's or a plan's attributes.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from netjit.errors import InvalidArgumentError

from ..ir.attr_codec import Encoder, Spelling

__all__ = ["save_net", "save_plan", "net_to_json", "plan_to_json", "dumps_document"]

FORMAT = "netjit-net"
PLAN_FORMAT = "netjit-plan"
VERSION = 1
#: How version 1 spells attribute values.
SPELLING = Spelling(op_key="type", const_tag="tensor", exact=False)
HEADER_FIELDS = {"format", "version", "name", "constants"}
BODY_FIELDS = {"name", "external_inputs", "external_outputs", "ops"}
#: ExecutionStep settings a saved step carries: name -> (allowed type, setter).
STEP_SETTINGS = {"num_iter": (int, "SetIter"), "should_stop_blob": (str, "SetShouldStopBlob"),
                  "only_once": (bool, "SetOnlyOnce"), "concurrent_substeps": (bool, "SetConcurrentSubsteps"),
                  "num_concurrent_instances": (int, "SetNumConcurrentInstances"),
                  "create_workspace": (bool, "SetCreateWorkspace")}
OP_FIELDS = {"type", "inputs", "outputs", "device", "attrs"}



def _net_body(net, enc: Encoder) -> dict:
    ops = []
    for i, d in enumerate(net.ops):
        enc.where = f"{d.type} {(d.outputs or d.inputs or ('',))[0]!r} in net {net.name!r}"
        ops.append({"type": d.type, "inputs": list(d.inputs), "outputs": list(d.outputs),
                    "device": d.device, "attrs": {} if d.op is None else enc.attrs(d.op, f"ops[{i}].attrs")})
    return {"name": net.name, "external_inputs": [str(b) for b in net.external_inputs],
            "external_outputs": [str(b) for b in net.external_outputs], "ops": ops}


def net_to_json(net) -> tuple[dict, dict[str, np.ndarray]]:
    """The JSON document of ``net`` and the arrays that go to the side file."""
    enc = Encoder(SPELLING, f"net {net.name!r}", {})
    body = _net_body(net, enc)
    doc = {"format": FORMAT, "version": VERSION, "name": body["name"],
           "external_inputs": body["external_inputs"], "external_outputs": body["external_outputs"],
           "constants": None, "ops": body["ops"]}
    return doc, enc.arrays


def _step_doc(step) -> dict:
    return {"name": step.name, "nets": [n.name for n in step.nets],
            "substeps": [_step_doc(s) for s in step.substeps],
            **{k: getattr(step, k) for k in STEP_SETTINGS}}


def plan_to_json(plan) -> tuple[dict, dict[str, np.ndarray]]:
    """The JSON document of a Plan (its nets, then its steps naming them) and the side arrays."""
    enc = Encoder(SPELLING, f"plan {plan.name!r}", {})
    nets = [_net_body(net, enc) for net in plan.Nets()]
    doc = {"format": PLAN_FORMAT, "version": VERSION, "name": plan.name, "constants": None,
           "nets": nets, "steps": [_step_doc(s) for s in plan.Steps()]}
    return doc, enc.arrays


def save_net(net, path) -> Path:
    """Write ``net`` to ``path`` (JSON) and, if it has large constants, ``path`` with suffix ``.npz``."""
    return _save(*net_to_json(net), path, f"net {net.name!r}")


def save_plan(plan, path) -> Path:
    """Write a Plan (steps and every net they run) like ``save_net``; ``nj.load`` reads it back."""
    return _save(*plan_to_json(plan), path, f"plan {plan.name!r}")


def _save(doc: dict, arrays: dict, path, what: str) -> Path:
    path = Path(path)
    npz = path.with_suffix(".npz")
    if arrays:
        if npz == path:
            raise InvalidArgumentError(f"cannot save {what} to {path}: the constants go to "
                                       f"{npz}; give the file another suffix (.json)")
        doc["constants"] = npz.name
        with open(npz, "wb") as fh:
            np.savez(fh, **arrays)
    path.write_text(dumps_document(doc))
    return path


def dumps_document(doc: dict) -> str:
    """JSON text with one op a line, so saved nets diff cleanly."""
    return _pretty(doc, 0) + "\n"


def _pretty(v, level: int) -> str:
    """Objects holding lists of objects (documents, nets, steps) and those lists expand; the rest is one line."""
    pad, end = " " * (level + 1), " " * level
    if isinstance(v, dict) and (level == 0 or any(_is_rows(x) for x in v.values())):
        return "{\n" + ",\n".join(f"{pad}{json.dumps(k)}: {_pretty(x, level + 1)}" for k, x in v.items()) \
            + f"\n{end}}}"
    if _is_rows(v):
        return "[\n" + ",\n".join(pad + _pretty(x, level + 1) for x in v) + f"\n{end}]"
    return json.dumps(v, allow_nan=False)


def _is_rows(v) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)
