"""Input checks shared by the public functions of the package.

Every check raises ``TypeError`` for a value of the wrong kind and ``ValueError`` for a value
of the right kind but the wrong shape or range; the message says what was expected and what came.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def as_float_array(x: Any, name: str, ndim: int | tuple[int, ...] | None = None,
                   allow_nan: bool = False) -> np.ndarray:
    """Return ``x`` as a float64 array, checking its dimensionality and finiteness."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - numpy raises many kinds of errors
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    check_ndim(arr, name, ndim)
    if not allow_nan and not np.all(np.isfinite(arr)):
        n_bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must be finite, got {n_bad} NaN or infinite value(s)")
    return arr


def as_int_array(x: Any, name: str, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Return ``x`` as an int64 array; floats are accepted only if they hold whole numbers."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of integers, got {type(x).__name__}")
    arr = np.asarray(x)
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        arr = arr.astype(np.int64)
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise TypeError(f"{name} must hold integers, got non-integer floats (dtype {arr.dtype})")
        arr = arr.astype(np.int64)
    else:
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    check_ndim(arr, name, ndim)
    return arr


def check_ndim(arr: np.ndarray, name: str, ndim: int | tuple[int, ...] | None) -> None:
    """Raise ``ValueError`` unless ``arr.ndim`` is ``ndim`` (or one of them)."""
    if ndim is None:
        return
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if arr.ndim not in allowed:
        want = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(f"{name} must be {want}, got a {arr.ndim}-D array of shape {arr.shape}")


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise ``ValueError`` unless two arrays have the same shape."""
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")


def check_int(value: Any, name: str, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as ``int`` after checking its type and the closed range [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")
    return value


def check_fraction(value: Any, name: str, *, inclusive: bool = False) -> float:
    """Return ``value`` as ``float`` after checking it lies in (0, 1) (or [0, 1])."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    ok = 0.0 <= value <= 1.0 if inclusive else 0.0 < value < 1.0
    if not ok:
        rng = "[0, 1]" if inclusive else "(0, 1)"
        raise ValueError(f"{name} must be in {rng}, got {value}")
    return value


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """Return ``value`` after checking it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_callable(fn: Any, name: str) -> Callable:
    """Return ``fn`` after checking it can be called."""
    if not callable(fn):
        raise TypeError(f"{name} must be callable, got {type(fn).__name__}")
    return fn


def check_number(value: Any, name: str, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a finite ``float`` after checking its type and range.

    ``low``/``high`` bound the range; ``low_open``/``high_open`` exclude the bound itself.

    Examples
    --------
    >>> check_number(0.5, "alpha", low=0, low_open=True)
    0.5
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        lo = "(-inf" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "inf)" if high is None else f"{high:g}" + (")" if high_open else "]")
        raise ValueError(f"{name} must be in {lo}, {hi}, got {value:g}")
    return value


def as_bool_mask(mask: Any, name: str, shape: tuple[int, ...] | None = None, *,
                 default: bool | None = True) -> np.ndarray | None:
    """Return a boolean mask of ``shape``: ``TypeError`` if it is not boolean, ``ValueError`` if the shape differs.

    ``mask=None`` gives an all-``default`` mask of ``shape`` (or None when ``default`` is None).
    """
    if mask is None:
        if default is None or shape is None:
            return None
        return np.full(shape, default, dtype=bool)
    if isinstance(mask, (str, bytes)):
        raise TypeError(f"{name} must be a boolean array, got {type(mask).__name__}")
    arr = np.asarray(mask)
    if arr.dtype != bool:
        raise TypeError(f"{name} must be a boolean array (True = real position), got dtype {arr.dtype}")
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {arr.shape}")
    return arr
