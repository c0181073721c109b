"""The choices an export offers, without importing torch (the app's menus read them at start)."""

from __future__ import annotations

FORMATS = {".py": "PyTorch source", ".onnx": "ONNX", ".pt2": "torch.export program"}
DEFAULT_OPSET = 18
MIN_OPSET = 18
MAX_OPSET = 23
RANDOM = "random"
ZERO_INIT = "zero-init"
WEIGHT_CHOICES = (RANDOM, ZERO_INIT)
