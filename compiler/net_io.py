"""Saved nets and plans: a versioned JSON file, large constants in a side ``.npz``.

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
they run, substeps and the ExecutionStep settings).

Loading treats the file as hostile (see ``attr_codec``): any problem raises
InvalidArgumentError naming the file and the JSON location (``ops[3].attrs.axis``),
and each op is added through the frontend's own arity and type checks.
Nothing in a file is ever imported, evaluated or unpickled.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from netjit.errors import InvalidArgumentError, NetjitError

from . import ops as O
from .device import device as device_scope
from .ir.attr_codec import (MAX_DEPTH, MAX_JSON_BYTES, Decoder, Encoder, LoadError, Spelling, describe,
                            parse_json)
from .ops import InferError

__all__ = ["save_net", "save_plan", "load", "load_net", "net_to_json", "plan_to_json", "LoadError"]

FORMAT = "netjit-net"
PLAN_FORMAT = "netjit-plan"
VERSION = 1
#: How version 1 spells attribute values.
SPELLING = Spelling(op_key="type", const_tag="tensor", exact=False)
_HEADER = {"format", "version", "name", "constants"}
_BODY = {"name", "external_inputs", "external_outputs", "ops"}
#: ExecutionStep settings a saved step carries: name -> (allowed type, setter).
_STEP_SETTINGS = {"num_iter": (int, "SetIter"), "should_stop_blob": (str, "SetShouldStopBlob"),
                  "only_once": (bool, "SetOnlyOnce"), "concurrent_substeps": (bool, "SetConcurrentSubsteps"),
                  "num_concurrent_instances": (int, "SetNumConcurrentInstances"),
                  "create_workspace": (bool, "SetCreateWorkspace")}
_OP_FIELDS = {"type", "inputs", "outputs", "device", "attrs"}


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
            **{k: getattr(step, k) for k in _STEP_SETTINGS}}


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


def load(path):
    """Load a net or a plan saved by ``Net.save`` / ``save_plan``; InvalidArgumentError for any bad file."""
    return _load(path)[0]


def _load(path):
    """(the net or plan, {saved net name: Net}) of a saved file."""
    path = Path(path)
    doc = read_document(path)
    dec = Decoder(path, SPELLING, no_npz="'constants' is null")
    try:
        fmt = doc.get("format") if isinstance(doc, dict) else None
        if fmt == PLAN_FORMAT:
            return _build_plan(dec, doc)
        net = _build_net(dec, doc)
        return net, {doc["name"]: net}
    finally:
        dec.close()


def load_net(path, name=None):
    """The net saved in ``path``; for a plan file, its net saved as ``name`` (required when it has several)."""
    from .net import Net
    obj, nets = _load(path)
    if isinstance(obj, Net) and name in (None, next(iter(nets))):
        return obj
    if name is None and len(nets) == 1:
        return next(iter(nets.values()))
    if name not in nets:
        what = "a net" if isinstance(obj, Net) else f"plan {obj.name!r}"
        raise LoadError(path, "nets" if not isinstance(obj, Net) else "name",
                        f"{what} with nets {sorted(nets)}; choose one as {path}#NAME")
    return nets[name]


def _header(dec: Decoder, doc, fmt: str, fields: set) -> None:
    dec.fields(doc, "", fields)
    if doc["format"] != fmt:
        raise dec.fail("format", f"expected {FORMAT!r} or {PLAN_FORMAT!r}, got {describe(doc['format'])}")
    if doc["version"] != VERSION or isinstance(doc["version"], bool):
        raise dec.fail("version", f"version {json.dumps(doc['version'])[:20]} is not supported; "
                                  f"this netjit reads version {VERSION}")
    if doc["constants"] is not None:
        c = dec.expect(doc["constants"], str, "constants", "a file name or null")
        if Path(c).name != c or not c.endswith(".npz") or c.startswith("."):
            raise dec.fail("constants", f"expected a .npz file name beside the saved file, got {c!r}")
        dec.npz = dec.path.parent / c


def _names(dec: Decoder, v, loc: str) -> list[str]:
    dec.expect(v, list, loc, "a list of blob names")
    for i, b in enumerate(v):
        if not isinstance(b, str) or not b:
            raise dec.fail(f"{loc}[{i}]", f"expected a blob name, got {describe(b)}")
    return v


def _build_net(dec: Decoder, doc):
    _header(dec, doc, FORMAT, _HEADER | _BODY)
    return _net_from_body(dec, {k: doc[k] for k in _BODY}, "")


def _net_from_body(dec: Decoder, body, loc: str):
    from .net import Net
    dec.fields(body, loc, _BODY)
    at = f"{loc}." if loc else ""
    name = dec.expect(body["name"], str, f"{at}name", "a net name")
    ext_in = _names(dec, body["external_inputs"], f"{at}external_inputs")
    ext_out = _names(dec, body["external_outputs"], f"{at}external_outputs")
    dec.expect(body["ops"], list, f"{at}ops", "a list of ops")
    net = Net(name)
    net.AddExternalInput(*ext_in)
    for i, raw in enumerate(body["ops"]):
        _add_saved_op(dec, net, raw, f"{at}ops[{i}]")
    net.AddExternalOutput(*ext_out)
    return net


def _build_plan(dec: Decoder, doc):
    from .steps import Plan
    _header(dec, doc, PLAN_FORMAT, _HEADER | {"nets", "steps"})
    name = dec.expect(doc["name"], str, "name", "a plan name")
    nets = {}
    for i, body in enumerate(dec.expect(doc["nets"], list, "nets", "a list of nets")):
        net = _net_from_body(dec, body, f"nets[{i}]")
        if body["name"] in nets:
            raise dec.fail(f"nets[{i}].name", f"two nets are named {body['name']!r}")
        nets[body["name"]] = net
    plan = Plan(name)
    for i, raw in enumerate(dec.expect(doc["steps"], list, "steps", "a list of steps")):
        step = _step_from_doc(dec, raw, f"steps[{i}]", nets, 0)
        try:
            plan.AddStep(step)
        except NetjitError as exc:
            raise dec.fail(f"steps[{i}]", str(exc)) from None
    return plan, nets


def _step_from_doc(dec: Decoder, raw, loc: str, nets: dict, depth: int):
    from .steps import ExecutionStep
    if depth > MAX_DEPTH:
        raise dec.fail(loc, f"steps nested deeper than {MAX_DEPTH} levels")
    dec.fields(raw, loc, {"name", "nets", "substeps"} | set(_STEP_SETTINGS))
    step = ExecutionStep(dec.expect(raw["name"], str, f"{loc}.name", "a step name"))
    try:
        for i, net_name in enumerate(_names(dec, raw["nets"], f"{loc}.nets")):
            if net_name not in nets:
                raise dec.fail(f"{loc}.nets[{i}]", f"no net named {net_name!r} in this plan")
            step.AddNet(nets[net_name])
        for i, sub in enumerate(dec.expect(raw["substeps"], list, f"{loc}.substeps", "a list of steps")):
            step.AddSubstep(_step_from_doc(dec, sub, f"{loc}.substeps[{i}]", nets, depth + 1))
        for key, (kind, setter) in _STEP_SETTINGS.items():
            value = raw[key]
            if value is not None:
                if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                    raise dec.fail(f"{loc}.{key}", f"expected {kind.__name__} or null, got {describe(value)}")
                getattr(step, setter)(value)
    except LoadError:
        raise
    except NetjitError as exc:
        raise dec.fail(loc, str(exc)) from None
    return step


def _add_saved_op(dec: Decoder, net, raw, loc: str) -> None:
    from .net import VARIABLE_UPDATES
    dec.fields(raw, loc, _OP_FIELDS)
    type_name = raw["type"]
    if not isinstance(type_name, str) or type_name not in O.OP_REGISTRY:
        raise dec.fail(f"{loc}.type", f"unknown op {describe(type_name)}")
    ins = _names(dec, raw["inputs"], f"{loc}.inputs")
    outs = _names(dec, raw["outputs"], f"{loc}.outputs")
    dev = raw["device"]
    if dev is not None:
        dec.expect(dev, str, f"{loc}.device", "a device name or null")
    if type_name in VARIABLE_UPDATES:
        if raw["attrs"] != {}:
            raise dec.fail(f"{loc}.attrs", f"{type_name} takes no saved attributes")
        op = None
    else:
        op = dec.make_op(type_name, raw["attrs"], loc)
    try:
        with device_scope(dev):
            # The sibling frontend's checked entry point: the same arity and type checks as building.
            net._add_op(type_name, ins, outs, {}, op=op)
    except (InvalidArgumentError, InferError, TypeError, ValueError, KeyError, IndexError) as exc:
        raise dec.fail(loc, str(exc)) from None


def read_document(path) -> dict:
    """Parse ``path`` as JSON with limits; errors are LoadErrors naming the file."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise LoadError(path, "", f"file is {size} bytes, more than {MAX_JSON_BYTES}")
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise LoadError(path, "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(path, "", f"cannot read: {exc}") from None
    try:
        return parse_json(text)
    except json.JSONDecodeError as exc:
        raise LoadError(path, f"line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise LoadError(path, "", f"not valid JSON: {exc}") from None
