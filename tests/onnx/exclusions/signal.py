"""Excluded node cases (signal and vision ops): case name -> reason.

None: every DFT, STFT, window, MelWeightMatrix, GridSample, AffineGrid,
NonMaxSuppression, RoiAlign and DeformConv case of the installed onnx passes.
"""
EXCLUDED: dict[str, str] = {}
