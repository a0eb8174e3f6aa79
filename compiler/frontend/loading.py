"""Reading saved nets and plans (the format is in ``saving``).

Loading treats the file as hostile (see ``attr_codec``): any problem raises
InvalidArgumentError naming the file and the JSON location (``ops[3].attrs.axis``),
and each op is added through the frontend's own arity and type checks.
Nothing in a file is ever imported, evaluated or unpickled.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from netjit.errors import InvalidArgumentError, NetjitError

from .. import ops as O
from ..device import device as device_scope
from ..ir.files import check_json_size, read_regular
from ..ir.attr_codec import MAX_DEPTH, MAX_JSON_BYTES, Decoder, LoadError, describe, parse_json
from ..ops import InferError
from ..ops.host import print_dir
from .net import VARIABLE_UPDATES, Net
from .saving import FORMAT, PLAN_FORMAT, SPELLING, VERSION, BODY_FIELDS, HEADER_FIELDS, OP_FIELDS, STEP_SETTINGS
from .steps import ExecutionStep, Plan

__all__ = ["load", "load_net", "read_document", "LoadError"]


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
    obj, nets = _load(path)
    if isinstance(obj, Net) and name in (None, next(iter(nets))):
        return obj
    if name is None and len(nets) == 1:
        return next(iter(nets.values()))
    if name not in nets:
        what = "a net" if isinstance(obj, Net) else f"plan {obj.name!r}"
        found = f"no net {name!r} in {what}; " if name is not None else f"{what} with several nets; "
        raise LoadError(path, "nets" if not isinstance(obj, Net) else "name",
                        f"{found}its nets are {sorted(nets)}: choose one as {path}#NAME")
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
    _header(dec, doc, FORMAT, HEADER_FIELDS | BODY_FIELDS)
    return _net_from_body(dec, {k: doc[k] for k in BODY_FIELDS}, "")


def _net_from_body(dec: Decoder, body, loc: str):
    dec.fields(body, loc, BODY_FIELDS)
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
    _header(dec, doc, PLAN_FORMAT, HEADER_FIELDS | {"nets", "steps"})
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
    if depth > MAX_DEPTH:
        raise dec.fail(loc, f"steps nested deeper than {MAX_DEPTH} levels")
    dec.fields(raw, loc, {"name", "nets", "substeps"} | set(STEP_SETTINGS))
    step = ExecutionStep(dec.expect(raw["name"], str, f"{loc}.name", "a step name"))
    try:
        for i, net_name in enumerate(_names(dec, raw["nets"], f"{loc}.nets")):
            if net_name not in nets:
                raise dec.fail(f"{loc}.nets[{i}]", f"no net named {net_name!r} in this plan")
            step.AddNet(nets[net_name])
        for i, sub in enumerate(dec.expect(raw["substeps"], list, f"{loc}.substeps", "a list of steps")):
            step.AddSubstep(_step_from_doc(dec, sub, f"{loc}.substeps[{i}]", nets, depth + 1))
        for key, (kind, setter) in STEP_SETTINGS.items():
            value = raw[key]
            if value is not None:
                if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                    raise dec.fail(f"{loc}.{key}", f"expected {kind.__name__} or null, got {describe(value)}")
                _check_limit(dec, key, value, f"{loc}.{key}")
                getattr(step, setter)(value)
    except LoadError:
        raise
    except NetjitError as exc:
        raise dec.fail(loc, str(exc)) from None
    return step


#: Settings of a saved step that drive work: setting -> (environment variable, default limit).
#: A plan built in Python is the user's own choice; a saved one is held to these.
WORK_LIMITS = {"num_iter": ("NETJIT_MAX_NUM_ITER", 10_000_000),
               "num_concurrent_instances": ("NETJIT_MAX_INSTANCES", 1024)}


def _check_limit(dec: Decoder, key: str, value: int, loc: str) -> None:
    if key not in WORK_LIMITS:
        return
    env, default = WORK_LIMITS[key]
    limit = int(os.environ.get(env, default))
    if value > limit:
        raise dec.fail(loc, f"{key} {value} is more than the limit of {limit} for saved plans "
                            f"(raise it with {env} if the plan is trusted)"[:300])


def _add_saved_op(dec: Decoder, net, raw, loc: str) -> None:
    dec.fields(raw, loc, OP_FIELDS)
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
    if isinstance(op, O.Print) and op.to_file and print_dir() is None:
        raise dec.fail(f"{loc}.attrs.to_file", "the net asks to write a log file; set NETJIT_PRINT_DIR "
                                               "to the folder it may write to before loading it")
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
        text = read_regular(path, MAX_JSON_BYTES).decode("utf-8")
        check_json_size(text, str(path))
    except InvalidArgumentError as exc:
        raise LoadError(path, "", str(exc).removeprefix(f"{path}: ")) from None
    except UnicodeDecodeError as exc:
        raise LoadError(path, "", f"cannot read: {exc}") from None
    try:
        return parse_json(text)
    except json.JSONDecodeError as exc:
        raise LoadError(path, f"line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise LoadError(path, "", f"not valid JSON: {exc}") from None
