"""Seeding and determinism for NumPy, Python and TensorFlow/Keras."""
from __future__ import annotations

import os
import random

import numpy as np

from ._validation import check_bool, check_int


def set_seed(seed: int = 0, *, deterministic_ops: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow so that a run gives the same numbers every time.

    Parameters
    ----------
    seed : int, default 0
        Non-negative seed used for every random generator.
    deterministic_ops : bool, default True
        Also ask TensorFlow for deterministic kernels
        (``tf.config.experimental.enable_op_determinism``), which makes float reductions on the
        CPU independent of thread scheduling.

    Raises
    ------
    TypeError
        If ``seed`` is not an int or ``deterministic_ops`` not a bool.
    ValueError
        If ``seed`` is negative or above 2**32 - 1.
    """
    seed = check_int(seed, "seed", 0, 2**32 - 1)
    deterministic_ops = check_bool(deterministic_ops, "deterministic_ops")  # both checked before any effect
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    import keras  # imported late: TensorFlow logs must be silenced first (see __init__)

    keras.utils.set_random_seed(seed)
    if deterministic_ops:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
