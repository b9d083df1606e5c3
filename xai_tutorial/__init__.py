"""Helper package for the book *Attention & Explainable AI*.

Importing the package first (before TensorFlow) silences TensorFlow's import-time
log lines, so notebooks show no red stderr boxes. Nothing else happens at import:
submodules are imported explicitly, e.g. ``from xai_tutorial import data``.
"""
from __future__ import annotations

import os as _os

# Must be set before TensorFlow is imported for the first time in the process.
# TF_CPP_MIN_LOG_LEVEL alone does not silence the oneDNN notice; both are needed.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"
__all__ = ["__version__"]
