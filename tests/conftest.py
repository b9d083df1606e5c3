"""Shared test set-up: silence TensorFlow before anything imports it, and use a headless backend."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")

import xai_tutorial  # noqa: E402,F401  (sets the TF log variables before any test imports TF)
