"""Parse IR text (what printer.py prints) back into a Graph; grammar in docs/ir.md.

``parse_graph(str(graph), constants_of(graph)) == graph`` holds for every
graph: node ids may differ, everything ``Graph.__eq__`` compares is restored,
plus each node's placement reason (``meta["placement"]``). Large constants
print abbreviated (``f32[784,10]#<digest12>``); their arrays come from the
``constants`` table. Errors are InvalidArgumentError naming the line and what
was expected. Nothing is ever ``eval``-ed.
"""
from __future__ import annotations

import json
import re
from typing import Mapping, Optional

import numpy as np

from netjit.errors import InvalidArgumentError

from ..ops import DTYPES, OP_REGISTRY, ConstValue, InferError, TensorType
from .graph import Graph, Value
from .verify import check_attr_types

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLAIN_NAME = re.compile(r"[A-Za-z_/.\-][A-Za-z0-9_/.\-]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NUMBER = re.compile(r"-?(?:inf\b|nan\b|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")
_TEMP = re.compile(r"(\d+)(?:#(\d+))?")
_DEVICE = re.compile(r"[A-Za-z0-9_:/.\-]+")
_DIM = re.compile(r"\?|\d+")


class _Cursor:
    """A position in one line of text, with errors that name the line."""

    def __init__(self, text: str, lineno: int):
        self.text, self.pos, self.lineno = text, 0, lineno

    def error(self, expected: str) -> InvalidArgumentError:
        rest = self.text[self.pos:self.pos + 24]
        got = repr(rest) if rest else "end of line"
        return InvalidArgumentError(f"IR text line {self.lineno}: expected {expected}, got {got}")

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def peek(self, s: str) -> bool:
        return self.text.startswith(s, self.pos)

    def eat(self, s: str) -> bool:
        """Consume ``s`` (after spaces) if it comes next."""
        self.skip_ws()
        if self.peek(s):
            self.pos += len(s)
            return True
        return False

    def expect(self, s: str, what: Optional[str] = None) -> None:
        if not self.eat(s):
            raise self.error(what or repr(s))

    def match(self, pattern: re.Pattern) -> Optional[str]:
        """Consume a regex match right at the cursor (no space skipping)."""
        m = pattern.match(self.text, self.pos)
        if not m:
            return None
        self.pos = m.end()
        return m.group(0)

    def at_end(self) -> bool:
        self.skip_ws()
        return self.pos >= len(self.text)


# -- attribute values -------------------------------------------------------
class _AttrParser:
    """Attribute values as ``format_attr`` prints them."""

    def __init__(self, constants: Mapping):
        self.constants = {str(k): v if isinstance(v, ConstValue) else ConstValue(v)
                          for k, v in constants.items()}

    def value(self, c: _Cursor):
        c.skip_ws()
        if c.peek('"'):
            return _string(c)
        if c.peek("("):
            return tuple(self._sequence(c, "(", ")"))
        if c.peek("["):
            return self._sequence(c, "[", "]")
        number = c.match(_NUMBER)
        if number is not None:
            return _number(number)
        ident = c.match(_IDENT)
        if ident is None:
            raise c.error("an attribute value")
        return self._ident_value(c, ident)

    def _sequence(self, c: _Cursor, open_: str, close: str) -> list:
        c.expect(open_)
        items = []
        while not c.eat(close):
            items.append(self.value(c))
            if not c.eat(","):
                c.expect(close, f"',' or {close!r}")
                break
        return items

    def _ident_value(self, c: _Cursor, ident: str):
        if ident in ("None", "True", "False"):
            return {"None": None, "True": True, "False": False}[ident]
        if c.peek("("):
            return self.op_call(c, ident)
        if ident not in DTYPES:
            raise InvalidArgumentError(f"IR text line {c.lineno}: unknown attribute value {ident!r} "
                                       f"(expected None, True, False, a dtype, an op, a number or a string)")
        if not c.peek("["):
            return DTYPES[ident]
        t = _type_after_dtype(c, ident)
        if c.pos < len(c.text) and c.text[c.pos] not in ",) \t":
            return self._const(c, t)
        return t

    def op_call(self, c: _Cursor, name: str):
        """``Name(key=value, ...)`` after the name: an op built from its attributes."""
        cls = OP_REGISTRY.get(name)
        if cls is None:
            raise InvalidArgumentError(f"IR text line {c.lineno}: unknown op {name!r}")
        c.expect("(")
        attrs = {}
        while not c.eat(")"):
            key = _attr_key(c)
            attrs[key] = self.value(c)
            if not c.eat(","):
                c.expect(")", "',' or ')'")
                break
        return make_op(cls, attrs, f"IR text line {c.lineno}")

    def _const(self, c: _Cursor, t: TensorType) -> ConstValue:
        if c.eat("#"):
            digest = c.match(re.compile(r"[0-9a-f]+"))
            if digest is None:
                raise c.error("a constant digest after '#'")
            return self._lookup(c, digest, t)
        body = self.value(c)
        try:
            arr = np.array(body, dtype=t.dtype)
            return ConstValue(arr.reshape(t.shape))
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(f"IR text line {c.lineno}: constant {t} has elements "
                                       f"{body!r} that do not fit: {exc}") from None

    def _lookup(self, c: _Cursor, digest: str, t: TensorType) -> ConstValue:
        for key, cv in self.constants.items():
            if (key.startswith(digest) or digest.startswith(key)) and cv.digest.startswith(digest) \
                    and cv.type == t:
                return cv
        raise InvalidArgumentError(
            f"IR text line {c.lineno}: constant {t}#{digest} is abbreviated and the constants "
            f"table has no array with that digest; pass constants=constants_of(graph) to parse_graph")


def _string(c: _Cursor) -> str:
    s = c.match(_STRING)
    if s is None:
        raise c.error("a closed string")
    return json.loads(s)


def _number(text: str):
    if any(ch in text for ch in ".eEn"):  # inf and nan contain 'n'
        return float(text)
    return int(text)


def _attr_key(c: _Cursor) -> str:
    c.skip_ws()
    key = c.match(_IDENT)
    if key is None:
        raise c.error("an attribute name")
    c.expect("=", "'=' after attribute name")
    return key


def _type_after_dtype(c: _Cursor, dtype: str) -> TensorType:
    c.expect("[")
    if c.eat("*"):
        c.expect("]")
        return TensorType(DTYPES[dtype], None)
    dims = []
    while not c.eat("]"):
        d = c.match(_DIM)
        if d is None:
            raise c.error("a dim (an integer or '?')")
        dims.append(None if d == "?" else int(d))
        if not c.eat(","):
            c.expect("]", "',' or ']'")
            break
    return TensorType(DTYPES[dtype], tuple(dims))


def parse_type(c: _Cursor) -> TensorType:
    c.skip_ws()
    dtype = c.match(_IDENT)
    if dtype not in DTYPES:
        raise InvalidArgumentError(f"IR text line {c.lineno}: expected a type such as f32[?,3], "
                                   f"got {dtype or c.text[c.pos:c.pos + 12]!r}")
    return _type_after_dtype(c, dtype)


def make_op(cls, attrs: dict, where: str):
    """``cls(**attrs)`` with construction errors reported at ``where``."""
    try:
        op = cls(**attrs)
        check_attr_types(op)
        return op
    except (TypeError, ValueError, InferError, InvalidArgumentError) as exc:
        raise InvalidArgumentError(f"{where}: bad attributes for {cls.__name__}: {exc}") from None


# -- labels and lines -------------------------------------------------------
def parse_label(c: _Cursor) -> tuple[str, Optional[str]]:
    """``%label`` -> (label as printed, blob name or None for a temporary)."""
    c.expect("%", "a value such as %x")
    start = c.pos
    if c.peek('"'):
        name = _string(c)
    else:
        name = c.match(_PLAIN_NAME)
        if name is None:
            if c.match(_TEMP) is None:
                raise c.error("a value name after '%'")
            return c.text[start:c.pos], None
    if c.peek("~"):
        c.pos += 1
        if c.match(re.compile(r"\d+")) is None:
            raise c.error("a write number after '~'")
    return c.text[start:c.pos], name


class _GraphParser:
    def __init__(self, constants: Mapping):
        self.attrs = _AttrParser(constants or {})
        self.graph: Optional[Graph] = None
        self.values: dict[str, Value] = {}
        self.header_inputs: list[tuple[str, int]] = []

    def ref(self, c: _Cursor, data: bool = True) -> Value:
        label, _ = parse_label(c)
        v = self.values.get(label)
        if v is None:
            raise InvalidArgumentError(f"IR text line {c.lineno}: value %{label} is not defined "
                                       "on an earlier line")
        if data and v[1] >= len(self.graph.types(v[0])):
            raise InvalidArgumentError(f"IR text line {c.lineno}: %{label} has no outputs to read")
        return v

    def header(self, c: _Cursor) -> None:
        if not c.eat("graph"):
            raise c.error("'graph <name> {'")
        c.skip_ws()
        name = _string(c) if c.peek('"') else c.match(_PLAIN_NAME)
        if name is None:
            raise c.error("a graph name")
        self.graph = Graph(name)
        if c.eat("("):
            while not c.eat(")"):
                self.header_inputs.append((parse_label(c)[0], c.lineno))
                if not c.eat(","):
                    c.expect(")", "',' or ')'")
                    break
        c.expect("{")
        if not c.at_end():
            raise c.error("end of line after '{'")

    def lhs(self, c: _Cursor) -> list[tuple[str, Optional[str], Optional[TensorType]]]:
        outs = []
        while True:
            label, name = parse_label(c)
            if label in self.values or any(o[0] == label for o in outs):
                raise InvalidArgumentError(f"IR text line {c.lineno}: %{label} is defined twice")
            c.expect(":", "':' and the value's type")
            if not outs and c.eat("()"):
                return [(label, name, None)]
            outs.append((label, name, parse_type(c)))
            if not c.eat(","):
                return outs

    def call(self, c: _Cursor) -> tuple:
        c.skip_ws()
        op_name = c.match(_IDENT)
        if op_name is None:
            raise c.error("an op name")
        if op_name not in OP_REGISTRY:
            raise InvalidArgumentError(f"IR text line {c.lineno}: unknown op {op_name!r}")
        c.expect("(")
        inputs, attrs = [], {}
        while not c.eat(")"):
            c.skip_ws()
            if c.peek("%"):
                if attrs:
                    raise c.error("an attribute (values come before attributes)")
                inputs.append(self.ref(c))
            else:
                key = _attr_key(c)
                attrs[key] = self.attrs.value(c)
            if not c.eat(","):
                c.expect(")", "',' or ')'")
                break
        return make_op(OP_REGISTRY[op_name], attrs, f"IR text line {c.lineno}"), inputs

    def node(self, c: _Cursor) -> None:
        outs = self.lhs(c)
        c.expect("=", "'=' after the results")
        op, inputs = self.call(c)
        control = []
        while c.eat("^"):
            order_only = c.eat("?")
            control.append((self.ref(c, data=False)[0], order_only))
        device = self._device(c)
        reason = self._comment(c)
        types = [t for _, _, t in outs if t is not None]
        names = [name for _, name, t in outs if t is not None]
        n = self.graph.add(op, inputs, names=names, device=device, types=types)
        for i, (label, _, _) in enumerate(outs):
            self.values[label] = (n, i)
        for u, order_only in control:
            self.graph.add_control(u, n, order_only)
        if reason is not None:
            self.graph.meta(n)["placement"] = reason

    def _device(self, c: _Cursor) -> Optional[str]:
        if not c.eat("@"):
            return None
        device = _string(c) if c.peek('"') else c.match(_DEVICE)
        if device is None:
            raise c.error("a device such as cpu:0 after '@'")
        return device

    def _comment(self, c: _Cursor) -> Optional[str]:
        if c.at_end():
            return None
        c.expect("#", "'^%ctrl', '^?%ctrl', '@device', '# comment' or end of line")
        c.skip_ws()
        text = c.text[c.pos:]
        if text.startswith('"'):
            reason = _string(c)
            if not c.at_end():
                raise c.error("end of line after the quoted comment")
            return reason
        return text

    def value_list(self, c: _Cursor) -> list[Value]:
        out = [self.ref(c, data=False)]
        while c.eat(","):
            out.append(self.ref(c, data=False))
        if not c.at_end():
            raise c.error("',' or end of line")
        return out

    def finish(self) -> Graph:
        for label, lineno in self.header_inputs:
            if label not in self.values:
                raise InvalidArgumentError(f"IR text line {lineno}: graph input %{label} is "
                                           "never defined")
            self.graph.inputs.append(self.values[label][0])
        return self.graph


def parse_graph(text: str, constants: Optional[Mapping] = None) -> Graph:
    """Parse IR text as printed by ``str(graph)``.

    Parameters
    ----------
    text : the IR text (one graph).
    constants : ``{digest prefix: array or ConstValue}`` for constants printed
        abbreviated as ``#<digest12>``; see :func:`constants_of`.

    Raises
    ------
    InvalidArgumentError
        naming the line and what was expected there.
    """
    p = _GraphParser(constants)
    lines = [(i + 1, ln.strip()) for i, ln in enumerate(text.splitlines())]
    lines = [(i, ln) for i, ln in lines if ln and not ln.startswith("#")]
    if not lines:
        raise InvalidArgumentError("IR text line 1: expected 'graph <name> {', got empty text")
    p.header(_Cursor(*lines[0][::-1]))
    closed = False
    for lineno, line in lines[1:]:
        c = _Cursor(line, lineno)
        if closed:
            raise c.error("nothing after the closing '}'")
        if line == "}":
            closed = True
        elif c.eat("return "):
            p.graph.outputs = p.value_list(c)
        elif c.eat("targets "):
            p.graph.targets = [n for n, _ in p.value_list(c)]
        else:
            p.node(c)
    if not closed:
        raise InvalidArgumentError(f"IR text line {lines[-1][0]}: expected '}}' closing the graph")
    return p.finish()


def constants_of(graph: Graph) -> dict[str, np.ndarray]:
    """``{digest12: array}`` of every constant attribute the text abbreviates."""
    out: dict[str, np.ndarray] = {}

    def walk(value):
        if isinstance(value, ConstValue):
            out[value.digest[:12]] = value.array
        elif isinstance(value, (tuple, list)):
            for v in value:
                walk(v)
        elif hasattr(value, "attrs") and callable(value.attrs):
            for v in value.attrs().values():
                walk(v)

    for n in graph.nodes():
        walk(graph.op(n))
    return out
