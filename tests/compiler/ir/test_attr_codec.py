"""The one attribute codec: exact round trips in both spellings (IR JSON, saved nets),
and the same strict checks for both."""
import json
import zipfile

import numpy as np
import pytest

from netjit.compiler import ops as O
from netjit.compiler.ir.attr_codec import MAX_DEPTH, Decoder, Encoder, LoadError
from netjit.compiler.ir.serialize import SPELLING as IR
from netjit.compiler.frontend.saving import SPELLING as NET
from netjit.compiler.ops import ConstValue, TensorType
from netjit.errors import InvalidArgumentError

SPELLINGS = pytest.mark.parametrize("sp", [IR, NET], ids=["ir", "net"])


def encode(sp, v, tmp_path):
    """JSON data of ``v`` (through real JSON text) and the side file path, if any."""
    arrays: dict = {}
    data = json.loads(json.dumps(Encoder(sp, "test value", arrays).value(v, "v"), allow_nan=False))
    if not arrays:
        return data, None
    np.savez(tmp_path / "side.npz", **arrays)
    return data, tmp_path / "side.npz"


def decode(sp, data, npz=None):
    dec = Decoder("f.json", sp, npz)
    try:
        return dec.value(data, "v")
    finally:
        dec.close()


def same(a, b) -> bool:
    """Equal and of the same type all the way down; arrays bit for bit."""
    if type(a) is not type(b):
        return False
    if isinstance(a, ConstValue):
        x, y = a.array, b.array
        return x.dtype == y.dtype and x.shape == y.shape and (
            x.tolist() == y.tolist() if x.dtype == object else x.tobytes() == y.tobytes())
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and np.isnan(a):
        return np.isnan(b)
    return a == b and (not isinstance(a, O.Op) or same(a.attrs(), b.attrs()))


NAN_PAYLOAD = np.array([0x7FC00001, 0x80000000, 0x7F800000], np.uint32).view(np.float32)
BOTH = [None, True, 3, -2**62, -2.5, float("inf"), float("-inf"), float("nan"), "é\n\"", (),
        (1, (2.5, "s")), np.dtype(np.float32), np.dtype(object), TensorType(np.float32, (None, 3)),
        TensorType(np.int64, None), ConstValue(np.array([-0.0, 1e-310, 2.0])),
        ConstValue(np.arange(100, dtype=np.float32) / 7), ConstValue(np.full(100, np.nan, np.float32)),
        ConstValue(NAN_PAYLOAD), ConstValue(np.array([["a", "b"], ["", "ü"]], dtype=object)),
        ConstValue("hello"), ConstValue(np.array(2**62, np.int64)), ConstValue(np.array([True, False])),
        O.Cast(dtype=np.float64), (O.Tanh(), (0,)), O.Reshape((0, -1)),
        O.Const(ConstValue(np.ones((20, 5), np.float32)))]


@SPELLINGS
@pytest.mark.parametrize("value", BOTH, ids=lambda v: type(v).__name__)
def test_values_round_trip_exactly(sp, value, tmp_path):
    assert same(decode(sp, *encode(sp, value, tmp_path)), value)


@pytest.mark.parametrize("value", [[1, (2,), [3.5]], np.float32(1.5), np.int64(-1), np.int32(7), np.bool_(True),
                                   np.float64(float("nan")), {"k": (1, None), 2: [np.float32(0.5)]}])
def test_ir_spelling_keeps_lists_numpy_scalars_and_dicts(value, tmp_path):
    assert same(decode(IR, *encode(IR, value, tmp_path)), value)


def test_net_spelling_reads_sequences_as_tuples_and_scalars_as_python(tmp_path):
    back = decode(NET, *encode(NET, [np.float32(1.5), [np.int64(2), np.bool_(True)]], tmp_path))
    assert same(back, (1.5, (2, True)))


@SPELLINGS
def test_a_constant_used_twice_is_stored_once(sp, tmp_path):
    big = ConstValue(np.arange(100, dtype=np.float32))
    data, npz = encode(sp, (big, ConstValue(np.arange(100, dtype=np.float32)), big), tmp_path)
    with np.load(npz) as side:
        assert len(side.files) == 1
    assert same(decode(sp, data, npz), (big, big, big))


@SPELLINGS
def test_unsaveable_values_name_what_and_where(sp):
    with pytest.raises(InvalidArgumentError, match=r"cannot save test value: attribute v\[1\] holds a builtin_function"):
        Encoder(sp, "test value", {}).value((1, len), "v")
    with pytest.raises(InvalidArgumentError, match=r"constant v\.\w+ holds objects that are not strings"):
        Encoder(sp, "test value", {}).value(ConstValue(np.array([1, "a"], dtype=object)), "v")


def edit(data, path, value):
    target = data
    for k in path[:-1]:
        target = target[k]
    target[path[-1]] = value
    return data


CONST = ConstValue(np.array([1.0, 2.0], np.float32))
HOSTILE = [  # (value to encode, path to change in its JSON, new value, expected "location: message")
    (CONST, ["TAG", "evil"], 1, r"v\.TAG\.evil: unknown field"),
    (CONST, ["TAG", "dtype"], "object", r"v\.TAG\.dtype: unknown dtype 'object'"),
    (CONST, ["TAG", "shape"], [2, -1], r"v\.TAG\.shape\[1\]: expected a dim"),
    (CONST, ["TAG", "shape"], [10**6, 10**6], r"v\.TAG\.shape: .*NETJIT_MAX_LOAD_BYTES"),
    (CONST, ["TAG", "shape"], [3], r"v\.TAG"),
    (ConstValue(np.array(["a"], dtype=object)), ["TAG", "INLINE"], [7], r"v\.TAG\.INLINE\[0\]: expected a str value"),
    (CONST, ["TAG"], {"dtype": "f32", "shape": [2], "npz": "../../etc/passwd"}, r"v\.TAG\.npz: expected an array key"),
    (CONST, ["TAG"], {"dtype": "f32", "shape": [2], "npz": "c0"}, r"v\.TAG\.npz: constant 'c0' lives in a side \.npz"),
    (O.Cast(np.float64), ["op", "attrs", "dtype"], "f64", r"v\.op\.attrs\.dtype: bad attribute for Cast: "
                                                          r"attribute dtype='f64' is not np\.dtype"),
    (O.Cast(np.float64), ["op", "attrs", "evil"], 1, r"v\.op\.attrs\.evil: Cast has no attribute 'evil'"),
    (O.Cast(np.float64), ["op", "OPKEY"], "os.system", r"v\.op\.OPKEY: unknown op 'os\.system'"),
    (O.Reshape((0, -1)), ["op", "attrs", "shape"], lambda sp: {"tuple": [-1, -1]} if sp.exact else [-1, -1],
     r"v\.op\.attrs\.shape: .*at most one -1"),
    (TensorType(np.float32, (2,)), ["type", "shape", 0], True, r"v\.type\.shape\[0\]: expected a dim"),
    ("s", [], {"__reduce__": "os.system"}, r"v: expected a value or a one-key tagged object"),
    ("s", [], {"float": "1e400"}, r"v\.float: expected 'nan', 'inf' or '-inf'"),
    ("s", [], json.loads("[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2)), r"v(\[0\])+: values nested too deeply"),
]


@SPELLINGS
@pytest.mark.parametrize("value, path, new, where", HOSTILE, ids=[h[3][:30] for h in HOSTILE])
def test_hostile_values_are_the_same_clean_error_in_both_spellings(sp, value, path, new, where, tmp_path):
    data, _ = encode(sp, value, tmp_path)
    words = {"TAG": sp.const_tag, "OPKEY": sp.op_key, "INLINE": "strings" if sp.exact else "data"}
    path = [words.get(k, k) for k in path]
    new = new(sp) if callable(new) else new
    data = edit(data, path, new) if path else new
    for word, spelt in words.items():
        where = where.replace(word, spelt)
    with pytest.raises(LoadError, match="^f\\.json: " + where):
        decode(sp, data)


@SPELLINGS
def test_side_file_arrays_are_checked_before_reading_and_never_unpickled(sp, tmp_path):
    data, npz = encode(sp, ConstValue(np.arange(100, dtype=np.float32)), tmp_path)
    key = data[sp.const_tag]["npz"]
    with zipfile.ZipFile(npz, "w") as zf, zf.open(f"{key}.npy", "w") as fh:
        np.lib.format.write_array(fh, np.array([print], dtype=object), allow_pickle=True)
    with pytest.raises(LoadError, match=rf"v\.{sp.const_tag}\.npz: array '{key}' of side\.npz is object\[1\]"):
        decode(sp, data, npz)
    (tmp_path / "side.npz").write_bytes(b"PK not a zip")
    with pytest.raises(LoadError, match=r"cannot open side\.npz"):
        decode(sp, data, npz)


def test_ir_only_tags_are_checked_and_unknown_to_nets(tmp_path):
    for data, where in [({"np": "i32", "value": 1.5}, r"v\.value: expected a i32 value"),
                        ({"np": "i32", "value": 2**40}, r"v\.value: does not fit i32"),
                        ({"np": "c64", "value": 1}, r"v\.np: unknown NumPy scalar type 'c64'"),
                        ({"np": "bool", "value": 1, "x": 2}, r"v\.x: unknown field"),
                        ({"dict": [[[1], 2]]}, r"v\.dict\[0\]\[0\]: unhashable key"),
                        ({"dict": [[1]]}, r"v\.dict\[0\]: expected a \[key, value\] pair"),
                        ({"const": {"dtype": "f32", "shape": [1], "strings": ["a"]}}, r"v\.const\.strings: only str"),
                        ({"const": {"dtype": "str", "shape": [1], "base64": ""}}, r"v\.const\.base64: str constants"),
                        ({"const": {"dtype": "f32", "shape": [2], "base64": "AAAAAA=="}}, r"v\.const: bad constant data")]:
        with pytest.raises(LoadError, match="^f\\.json: " + where):
            decode(IR, data)
    for tagged in ({"tuple": [1]}, {"np": "i32", "value": 1}, {"dict": []}, {"const": {}}):
        with pytest.raises(LoadError, match=r"v: expected a value or a one-key tagged object \(dtype, float, "
                                            r"type, op, tensor\)"):
            decode(NET, tagged)
