"""Box and region ops with ONNX semantics: NonMaxSuppression, RoiAlign, DeformConv.

    NonMaxSuppression(boxes [B, n, 4], scores [B, C, n], max, iou, score) -> selected [k, 3] (batch, class, box)
    RoiAlign(X [N, C, H, W], rois [R, 4], batch_indices [R])               -> [R, C, out_h, out_w]
    DeformConv(X, W, offset[, B[, mask]])                                   -> a 2-D convolution whose taps
                                                                               move by learned offsets
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import FLOAT_DTYPES, TensorType

_I64 = np.dtype(np.int64)


def _corners(boxes: np.ndarray, center_point_box: bool) -> np.ndarray:
    """[..., 4] boxes as (y_min, x_min, y_max, x_max), float64."""
    b = boxes.astype(np.float64)
    if center_point_box:  # (x_center, y_center, width, height)
        return np.stack([b[..., 1] - b[..., 3] / 2, b[..., 0] - b[..., 2] / 2,
                         b[..., 1] + b[..., 3] / 2, b[..., 0] + b[..., 2] / 2], -1)
    return np.concatenate([np.minimum(b[..., :2], b[..., 2:]), np.maximum(b[..., :2], b[..., 2:])], -1)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of box ``a`` with each of ``b`` (corners); 0 when either area is 0."""
    hi, lo = np.minimum(a[2:], b[:, 2:]), np.maximum(a[:2], b[:, :2])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=-1)
    area_a, area_b = np.prod(a[2:] - a[:2]), np.prod(b[:, 2:] - b[:, :2], axis=-1)
    union = area_a + area_b - inter
    ok = (inter > 0) & (area_a > 0) & (area_b > 0) & (union > 0)
    return np.where(ok, inter / np.where(ok, union, 1), 0.0)


@register_op
class NonMaxSuppression(Op):
    """Per batch and class, boxes by descending score (ties: lower index first), scores above
    ``score_threshold``, each kept unless its IoU with a kept box exceeds ``iou_threshold``, at most
    ``max_output_boxes_per_class`` (default 0: none). Rows (batch, class, box), int64.
    """

    kind: ClassVar[OpKind] = OpKind.SHAPE
    arity: ClassVar = None
    min_inputs: ClassVar[int] = 2
    no_samples_reason: ClassVar[str] = "the output length depends on the values: tests/compiler/ops/test_vision.py"
    center_point_box: bool = False

    def check_arity(self, n: int) -> None:
        if not 2 <= n <= 5:
            raise InferError(f"expects boxes, scores and up to 3 thresholds (2 to 5 inputs), got {n}")

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        return (TensorType(_I64, (None, 3)),)

    def reference(self, boxes, scores, max_boxes=None, iou_threshold=None, score_threshold=None):
        limit = 0 if max_boxes is None or np.size(max_boxes) == 0 else int(np.ravel(max_boxes)[0])
        iou_max = 0.0 if iou_threshold is None or np.size(iou_threshold) == 0 else float(np.ravel(iou_threshold)[0])
        floor = None if score_threshold is None or np.size(score_threshold) == 0 else \
            float(np.ravel(score_threshold)[0])
        corners, rows = _corners(boxes, self.center_point_box), []
        for b, c in np.ndindex(*scores.shape[:2]):
            s = scores[b, c].astype(np.float64)
            order = [i for i in np.argsort(-s, kind="stable") if floor is None or s[i] > floor]
            kept: list = []
            for i in order:
                if len(kept) >= limit:
                    break
                if not kept or not (_iou(corners[b, i], corners[b, kept]) > iou_max).any():
                    kept.append(i)
            rows += [(b, c, i) for i in kept]
        return (np.array(rows, _I64).reshape(-1, 3),)


@register_op
class RoiAlign(Op):
    """Each roi (x1, y1, x2, y2) * spatial_scale cut into out_h x out_w bins, each the mean (``avg``) or
    max of bilinear samples on a sampling_ratio² grid (0: ceil(bin size) per axis).

    ``half_pixel`` shifts the roi by -0.5 pixel; ``output_half_pixel`` does not, and widens a roi under
    1 pixel to 1. Samples more than a pixel outside the image count as 0; ``max`` takes, per sample,
    the largest of its four weighted corner values.
    """

    kind: ClassVar[OpKind] = OpKind.REDUCTION
    arity: ClassVar[int] = 3
    mode: str = "avg"
    output_height: int = 1
    output_width: int = 1
    sampling_ratio: int = 0
    spatial_scale: float = 1.0
    half_pixel: bool = True

    def infer(self, x, rois, batch_indices):
        if x.dtype not in FLOAT_DTYPES or x.shape is not None and len(x.shape) != 4:
            raise InferError(f"X must be float [N, C, H, W], got {x}")
        r = None if rois.shape is None else rois.shape[0]
        c = None if x.shape is None else x.shape[1]
        return (TensorType(x.dtype, (r, c, self.output_height, self.output_width)),)

    def _samples(self, start: float, extent: float, bins: int) -> np.ndarray:
        """[bins, grid] sample coordinates along one axis of a roi."""
        grid = self.sampling_ratio if self.sampling_ratio > 0 else int(np.ceil(extent / bins))
        size = extent / bins
        return start + np.arange(bins)[:, None] * size + (np.arange(grid)[None, :] + 0.5) * size / max(grid, 1)

    @staticmethod
    def _corner_terms(img: np.ndarray, y: float, x: float) -> np.ndarray:
        """[4, C] weighted corner values of the bilinear sample at (y, x); zeros far outside."""
        h, w = img.shape[1:]
        if y < -1 or y > h or x < -1 or x > w:
            return np.zeros((4, img.shape[0]))
        y, x = max(y, 0.0), max(x, 0.0)
        y0, x0 = min(int(y), h - 1), min(int(x), w - 1)
        y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
        ly, lx = (0.0 if y0 == h - 1 else y - y0), (0.0 if x0 == w - 1 else x - x0)
        return np.stack([(1 - ly) * (1 - lx) * img[:, y0, x0], (1 - ly) * lx * img[:, y0, x1],
                         ly * (1 - lx) * img[:, y1, x0], ly * lx * img[:, y1, x1]])

    def reference(self, x, rois, batch_indices):
        out = np.zeros((rois.shape[0], x.shape[1], self.output_height, self.output_width))
        shift = 0.5 if self.half_pixel else 0.0
        for r, (box, b) in enumerate(zip(rois.astype(np.float64), batch_indices)):
            x1, y1, x2, y2 = box * self.spatial_scale - shift
            h, w = y2 - y1, x2 - x1
            if not self.half_pixel:
                h, w = max(h, 1.0), max(w, 1.0)
            ys, xs = self._samples(y1, h, self.output_height), self._samples(x1, w, self.output_width)
            img = x[int(b)].astype(np.float64)
            for i, j in np.ndindex(self.output_height, self.output_width):
                terms = np.array([self._corner_terms(img, yy, xx) for yy in ys[i] for xx in xs[j]])
                if self.mode == "max":
                    out[r, :, i, j] = terms.max(axis=1).max(axis=0) if len(terms) else 0
                else:
                    out[r, :, i, j] = terms.sum(axis=(0, 1)) / max(len(terms), 1)
        return (out.astype(x.dtype),)

    @classmethod
    def samples(cls):
        x = _rand((1, 2, 4, 4))

        def expect(x, rois, b):  # a roi of exactly one pixel, one sample at its centre: that pixel
            return np.stack([x[0, :, 1:3, 1:3], x[0, :, 0:2, 2:4]])
        rois = np.array([[1, 1, 3, 3], [2, 0, 4, 2]], np.float32)
        return [Sample(cls(output_height=2, output_width=2, sampling_ratio=1), (x, rois, np.array([0, 0])), expect)]
