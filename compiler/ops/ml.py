"""ONNX-ML ops (``ai.onnx.ml``) over numeric tensors.

    Binarizer(X)                      1 where X > threshold, else 0 (X's dtype)
    ArrayFeatureExtractor(X, idx)     X[..., idx.ravel()] ([1, k] for a 1-D X)
    LabelEncoder(X)                   each element's value for its key, ``default`` for no key
    TreeEnsemble(X)                   [N, n_targets]: the leaf weights the trees reach, summed or averaged
"""
from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from netjit.errors import InvalidArgumentError

from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import FLOAT_DTYPES, INT_DTYPES, NUMERIC_DTYPES, TensorType, as_dtype


@register_op
class Binarizer(Op):
    """1 where X > threshold, else 0, in X's dtype."""

    kind: ClassVar[OpKind] = OpKind.ELEMENTWISE
    threshold: float = 0.0

    def infer(self, x):
        if x.dtype not in NUMERIC_DTYPES:
            raise InferError(f"expects a numeric X, got {x}")
        return (x,)

    def reference(self, x):
        return ((x > self.threshold).astype(x.dtype),)

    @classmethod
    def samples(cls):
        def expect(x):
            return (np.array([1 if v > 0.5 else 0 for v in x.ravel()]).reshape(x.shape).astype(x.dtype),)
        return [Sample(cls(threshold=0.5), (_rand((3, 4)),), expect),
                Sample(cls(threshold=0.5), (_rand((5,), dtype=np.int64),), expect)]


@register_op
class ArrayFeatureExtractor(Op):
    """X[..., indices.ravel()]: selected elements along the last axis; a 1-D X gives [1, k]."""

    kind: ClassVar[OpKind] = OpKind.SHAPE
    arity: ClassVar[int] = 2

    def infer(self, x, idx):
        if idx.dtype not in INT_DTYPES:
            raise InferError(f"indices must be integers, got {idx}")
        if x.shape is None or idx.shape is None:
            raise InferError("needs the ranks of X and of the indices")
        k = None if None in idx.shape else int(np.prod(idx.shape, dtype=np.int64))
        shape = (1, k) if len(x.shape) == 1 else (*x.shape[:-1], k)
        return (TensorType(x.dtype, shape),)

    def reference(self, x, idx):
        flat = np.asarray(idx).ravel().astype(np.int64)
        n = x.shape[-1]
        if flat.size and (flat.min() < 0 or flat.max() >= n):
            raise InvalidArgumentError(f"ArrayFeatureExtractor: indices {flat.tolist()} out of range [0, {n})")
        out = x[..., flat]
        return ((out.reshape(1, -1) if x.ndim == 1 else out).copy(),)

    @classmethod
    def samples(cls):
        def expect(x, i):
            rows = x.reshape(-1, x.shape[-1])
            out = np.array([[r[j] for j in i.ravel()] for r in rows], dtype=x.dtype)
            return (out.reshape((1, -1) if x.ndim == 1 else x.shape[:-1] + (i.size,)),)
        return [Sample(cls(), (_rand((3, 4)), np.array([0, 3, 1], np.int64)), expect),
                Sample(cls(), (_rand((2, 3, 5)), np.array([[4, 4]], np.int64)), expect),
                Sample(cls(), (_rand((5,), dtype=np.int32), np.array([2], np.int64)), expect)]


@register_op
class LabelEncoder(Op):
    """Each element of X replaced by the value of its key (``keys[i] -> values[i]``), else ``default``."""

    kind: ClassVar[OpKind] = OpKind.ELEMENTWISE
    keys: tuple = ()
    values: tuple = ()
    default: float = 0.0
    dtype: np.dtype = np.dtype(np.int64)

    def infer(self, x):
        if x.dtype not in NUMERIC_DTYPES:
            raise InferError(f"expects a numeric X, got {x}")
        if len(self.keys) != len(self.values):
            raise InferError(f"{len(self.keys)} keys but {len(self.values)} values")
        if any(isinstance(k, float) and math.isnan(k) for k in self.keys):
            raise InferError("NaN keys are not supported")
        return (TensorType(as_dtype(self.dtype), x.shape),)

    def reference(self, x):
        table = dict(zip(self.keys, self.values))
        out = np.array([table.get(v.item(), self.default) for v in np.asarray(x).ravel()], dtype=self.dtype)
        return (out.reshape(np.shape(x)),)

    @classmethod
    def samples(cls):
        def expect(x):
            out = []
            for v in x.ravel():
                out.append(10 if v == 1 else 20 if v == 2 else -1)
            return (np.array(out, np.int64).reshape(x.shape),)

        def expect_f(x):
            return (np.where(x == 0.5, 1.5, np.where(x == -1.0, 2.5, 0.0)).astype(np.float32),)
        return [Sample(cls(keys=(1, 2), values=(10, 20), default=-1), (np.array([1, 2, 3, 2], np.int64),), expect),
                Sample(cls(keys=(0.5, -1.0), values=(1.5, 2.5), default=0.0, dtype=np.dtype(np.float32)),
                       (np.array([[0.5, 0.25], [-1.0, 0.5]], np.float32),), expect_f)]


#: TreeEnsemble node modes (ONNX ``nodes_modes``).
LEQ, LT, GTE, GT, EQ, NEQ, MEMBER = range(7)


@register_op
class TreeEnsemble(Op):
    """ONNX-ML TreeEnsemble (opset 5), no post transform, SUM or AVERAGE aggregation.

    Node i tests X[:, nodes_featureids[i]] against nodes_splits[i] by nodes_modes[i]
    (MEMBER: against its ``membership_counts[i]`` values taken in order from
    ``membership_values``); a NaN feature goes the true way where
    ``nodes_missing_tracks_true[i]``. The true/false successor is a leaf index
    where nodes_trueleafs/nodes_falseleafs says so, else a node index. Leaf j
    adds leaf_weights[j] to target leaf_targetids[j].
    """

    kind: ClassVar[OpKind] = OpKind.REDUCTION
    nodes_splits: tuple = ()
    nodes_featureids: tuple = ()
    nodes_modes: tuple = ()
    nodes_truenodeids: tuple = ()
    nodes_falsenodeids: tuple = ()
    nodes_trueleafs: tuple = ()
    nodes_falseleafs: tuple = ()
    nodes_missing_tracks_true: tuple = ()
    membership_values: tuple = ()
    membership_counts: tuple = ()
    leaf_targetids: tuple = ()
    leaf_weights: tuple = ()
    tree_roots: tuple = ()
    n_targets: int = 1
    average: bool = False

    def infer(self, x):
        if x.dtype not in FLOAT_DTYPES:
            raise InferError(f"expects a float X, got {x}")
        if x.shape is not None and len(x.shape) != 2:
            raise InferError(f"X must be [N, features], got {x}")
        n = len(self.nodes_modes)
        for name in ("nodes_splits", "nodes_featureids", "nodes_truenodeids", "nodes_falsenodeids",
                     "nodes_trueleafs", "nodes_falseleafs", "nodes_missing_tracks_true", "membership_counts"):
            if len(getattr(self, name)) != n:
                raise InferError(f"{name} has {len(getattr(self, name))} entries for {n} nodes")
        if len(self.leaf_weights) != len(self.leaf_targetids):
            raise InferError("leaf_weights and leaf_targetids differ in length")
        if any(not 0 <= t < self.n_targets for t in self.leaf_targetids):
            raise InferError(f"a leaf target id is outside [0, {self.n_targets})")
        if any(m not in range(7) for m in self.nodes_modes) or sum(self.membership_counts) != len(
                self.membership_values):
            raise InferError("bad node modes or membership values")
        nodes, leaves = n, len(self.leaf_weights)
        for i in range(n):
            for leaf, nxt in ((self.nodes_trueleafs[i], self.nodes_truenodeids[i]),
                              (self.nodes_falseleafs[i], self.nodes_falsenodeids[i])):
                if not 0 <= nxt < (leaves if leaf else nodes):
                    raise InferError(f"node {i} points to {'leaf' if leaf else 'node'} {nxt}, out of range")
        if not self.tree_roots or any(not 0 <= r < n for r in self.tree_roots):
            raise InferError("tree_roots must name nodes")
        return (TensorType(x.dtype, (None if x.shape is None else x.shape[0], self.n_targets)),)

    def _members(self) -> list:
        sets, at = [], 0
        for c in self.membership_counts:
            sets.append(frozenset(self.membership_values[at:at + c]))
            at += c
        return sets

    def _passes(self, i: int, v: float, members) -> bool:
        if math.isnan(v):
            return bool(self.nodes_missing_tracks_true[i])
        mode, split = self.nodes_modes[i], self.nodes_splits[i]
        if mode == MEMBER:
            return v in members[i]
        return {LEQ: v <= split, LT: v < split, GTE: v >= split, GT: v > split, EQ: v == split,
                NEQ: v != split}[mode]

    def _leaf(self, root: int, row, members) -> int:
        i = root
        t, f = self.nodes_trueleafs, self.nodes_falseleafs
        if t[i] and f[i] and self.nodes_truenodeids[i] == self.nodes_falsenodeids[i]:
            return self.nodes_truenodeids[i]          # a tree that is one leaf
        for _ in range(len(self.nodes_modes) + 1):
            if self._passes(i, float(row[self.nodes_featureids[i]]), members):
                leaf, i = t[i], self.nodes_truenodeids[i]
            else:
                leaf, i = f[i], self.nodes_falsenodeids[i]
            if leaf:
                return i
        raise InvalidArgumentError("TreeEnsemble: a tree has a cycle")

    def reference(self, x):
        members = self._members()
        nfeat = x.shape[1]
        if any(not 0 <= f < nfeat for f in self.nodes_featureids):
            raise InvalidArgumentError(f"TreeEnsemble: a feature id is outside [0, {nfeat})")
        out = np.zeros((x.shape[0], self.n_targets), np.float64)
        for r, row in enumerate(x):
            for root in self.tree_roots:
                j = self._leaf(root, row, members)
                out[r, self.leaf_targetids[j]] += self.leaf_weights[j]
        if self.average:
            out /= len(self.tree_roots)
        return (out.astype(x.dtype),)

    @classmethod
    def samples(cls):
        # one tree: x0 <= 0 ? (x1 in {1, 2} ? leaf0 : leaf1) : leaf2; a second tree that is one leaf
        op = cls(nodes_splits=(0.0, 0.0, 0.0), nodes_featureids=(0, 1, 0), nodes_modes=(LEQ, MEMBER, LEQ),
                 nodes_truenodeids=(1, 0, 3), nodes_falsenodeids=(2, 1, 3), nodes_trueleafs=(0, 1, 1),
                 nodes_falseleafs=(1, 1, 1), nodes_missing_tracks_true=(1, 0, 0), membership_values=(1.0, 2.0),
                 membership_counts=(0, 2, 0), leaf_targetids=(0, 1, 1, 0), leaf_weights=(1.0, 2.0, 4.0, 8.0),
                 tree_roots=(0, 2), n_targets=2)
        x = np.array([[-1, 1], [-1, 3], [1, 2], [np.nan, 2]], np.float32)

        def expect(x):
            out = np.zeros((len(x), 2))
            for r, (a, b) in enumerate(x.astype(np.float64)):
                if a <= 0 or a != a:
                    out[r, 0 if b in (1.0, 2.0) else 1] += 1.0 if b in (1.0, 2.0) else 2.0
                else:
                    out[r, 1] += 4.0
                out[r, 0] += 8.0
            return (out.astype(x.dtype),)
        return [Sample(op, (x,), expect), Sample(op, (x.astype(np.float64),), expect)]
