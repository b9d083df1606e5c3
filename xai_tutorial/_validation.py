"""Input checks shared by the public functions of the package.

Every check raises ``TypeError`` for a value of the wrong kind and ``ValueError`` for a value
of the right kind but the wrong shape or range; the message says what was expected and what came.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def _as_array(x: Any, name: str, what: str) -> np.ndarray:
    """``np.asarray(x)``, with ``TypeError`` for None, a string, a dict or a set."""
    if x is None or isinstance(x, (str, bytes, dict, set)):
        raise TypeError(f"{name} must be an array of {what}, got {type(x).__name__}")
    try:
        return np.asarray(x)
    except Exception as exc:  # numpy raises many kinds of errors on ragged or exotic input
        raise TypeError(f"{name} must be an array of {what}, got {type(x).__name__} that is not "
                        f"one ({exc})") from None


def as_float_array(x: Any, name: str, ndim: int | tuple[int, ...] | None = None,
                   allow_nan: bool = False, *, min_ndim: int | None = None,
                   nonempty: bool = False) -> np.ndarray:
    """Return ``x`` as a float64 array, checking its dimensionality and finiteness.

    Parameters
    ----------
    x : array-like of numbers (bools count as 0 and 1)
    name : str
        How errors call the argument.
    ndim : int or tuple of int, optional
        Allowed numbers of dimensions.
    allow_nan : bool, default False
        Accept NaN and infinite values.
    min_ndim : int, optional
        Least number of dimensions.
    nonempty : bool, default False
        Refuse an array without any element.
    """
    arr = _as_array(x, name, "numbers")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    check_ndim(arr, name, ndim)
    check_min_ndim(arr, name, min_ndim)
    if nonempty:
        check_nonempty(arr, name)
    if not allow_nan and not np.all(np.isfinite(arr)):
        n_bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must be finite, got {n_bad} NaN or infinite value(s)")
    return arr


def as_int_array(x: Any, name: str, ndim: int | tuple[int, ...] | None = None, *,
                 low: int | None = None, high: int | None = None, nonempty: bool = False) -> np.ndarray:
    """Return ``x`` as an int64 array; floats are accepted only if they hold whole numbers.

    ``low`` and ``high`` bound every entry (closed range); ``nonempty`` refuses an empty array.

    Examples
    --------
    >>> as_int_array([1.0, 2.0], "ids", ndim=1, low=0)
    array([1, 2])
    """
    arr = _as_array(x, name, "integers")
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        arr = arr.astype(np.int64)
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise TypeError(f"{name} must hold integers, got non-integer floats (dtype {arr.dtype})")
        arr = arr.astype(np.int64)
    else:
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    check_ndim(arr, name, ndim)
    if nonempty:
        check_nonempty(arr, name)
    if arr.size and ((low is not None and arr.min() < low) or (high is not None and arr.max() > high)):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name} must lie in [{lo}, {hi}], got values in [{arr.min()}, {arr.max()}]")
    return arr


def check_min_ndim(arr: np.ndarray, name: str, min_ndim: int | None) -> None:
    """Raise ``ValueError`` unless ``arr`` has at least ``min_ndim`` dimensions."""
    if min_ndim is not None and arr.ndim < min_ndim:
        raise ValueError(f"{name} must be at least {min_ndim}-D, got a {arr.ndim}-D array of shape {arr.shape}")


def check_nonempty(arr: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` if ``arr`` has no element (some axis has length 0)."""
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")


def check_ndim(arr: np.ndarray, name: str, ndim: int | tuple[int, ...] | None) -> None:
    """Raise ``ValueError`` unless ``arr.ndim`` is ``ndim`` (or one of them)."""
    if ndim is None:
        return
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if arr.ndim not in allowed:
        want = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(f"{name} must be {want}, got a {arr.ndim}-D array of shape {arr.shape}")


def check_batch_axes(shapes: dict[str, tuple], *, trailing: int = 2, exact: bool = False) -> None:
    """The leading (batch) axes of arrays of shape (..., n, d) must broadcast together (or be equal).

    ``shapes`` maps each argument's name to its shape; the last ``trailing`` axes are not batch
    axes. A shape with an unknown (None) batch axis is not checked.

    Examples
    --------
    >>> check_batch_axes({"q": (2, 3, 4), "k": (1, 5, 4)})
    >>> check_batch_axes({"q": (2, 3, 4), "k": (1, 5, 4)}, exact=True)
    Traceback (most recent call last):
    ...
    ValueError: q and k must have the same batch axes, got shapes (2, 3, 4) and (1, 5, 4)
    """
    leading = [tuple(s)[:-trailing] for s in shapes.values()]
    if any(None in lead for lead in leading):
        return
    try:
        np.broadcast_shapes(*leading)
        ok = not exact or len(set(leading)) == 1
    except ValueError:
        ok = False
    if not ok:
        names = list(shapes)
        names = ", ".join(names[:-1]) + " and " + names[-1]
        same = "the same" if exact else "the same (or broadcastable)"
        raise ValueError(f"{names} must have {same} batch axes, got shapes "
                         f"{', '.join(str(tuple(s)) for s in list(shapes.values())[:-1])} and "
                         f"{tuple(list(shapes.values())[-1])}")


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
    """Return ``value`` after checking it is one of ``choices``.

    ``TypeError`` if ``value`` is not a str (the choices are names), ``ValueError`` if it is another name.
    """
    if not isinstance(value, str) and all(isinstance(c, str) for c in choices):
        raise TypeError(f"{name} must be one of {choices}, got {type(value).__name__} {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` as ``bool`` after checking it is one (``True``/``False`` or a NumPy bool).

    An int, a string or None is refused: ``"no"`` and ``2`` are truthy and would mean True silently.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool (True or False), got {type(value).__name__} {value!r}")
    return bool(value)


def check_str(value: Any, name: str, *, optional: bool = False) -> str | None:
    """Return ``value`` after checking it is a str (or None, when ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str{' or None' if optional else ''}, got {type(value).__name__}")
    return value


def check_str_sequence(value: Any, name: str, *, length: int | None = None) -> list[str]:
    """Return ``value`` as a list of str after checking it is a sequence (not a str) of str.

    ``length``, if given, is the number of entries it must have (``ValueError`` otherwise).
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of str (e.g. a list), got {type(value).__name__}")
    items = list(value)
    bad = [type(t).__name__ for t in items if not isinstance(t, str)]
    if bad:
        raise TypeError(f"{name} must all be str, got {len(bad)} of type {bad[0]}")
    if length is not None and len(items) != length:
        raise ValueError(f"{name} must have {length} entries, got {len(items)}")
    return items


def check_token_lists(value: Any, name: str) -> list[list[str]]:
    """Return ``value`` as a list of token lists: a sequence (not a str) of sequences of str.

    The common mistake it catches is a text or a list of texts where tokenised texts are expected
    (``["a film"]`` instead of ``[["a", "film"]]``).
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a list of token lists (e.g. [['a', 'film']]), got "
                        f"{type(value).__name__}")
    out = []
    for i, toks in enumerate(value):
        if isinstance(toks, (str, bytes)):
            raise TypeError(f"{name}[{i}] is a str: {name} must be a list of token lists (e.g. "
                            "[['a', 'film']]), tokenise each text first")
        out.append(check_str_sequence(toks, f"{name}[{i}]"))
    return out


def check_sequence(value: Any, name: str, length: int) -> tuple:
    """Return ``value`` as a tuple after checking it is a list or tuple of ``length`` entries."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a tuple of {length} values, got {type(value).__name__}")
    if len(value) != length:
        raise ValueError(f"{name} must have {length} entries, got {len(value)}")
    return tuple(value)


def check_batch(x: Any, name: str) -> Any:
    """Return ``x`` after checking it is a batch of inputs: an array or a sequence with a first axis.

    It is passed on as it is (a predict function decides what its inputs hold).
    """
    if x is None or isinstance(x, (str, bytes, dict, set)) or not hasattr(x, "__len__") \
            or not hasattr(x, "__getitem__"):
        raise TypeError(f"{name} must be a batch of inputs (an array of shape (n, ...)), got {type(x).__name__}")
    if isinstance(x, np.ndarray) and x.ndim == 0:
        raise ValueError(f"{name} must be a batch of inputs of shape (n, ...), got a 0-D array")
    return x


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
                 default: bool | None = True, broadcast: bool = False,
                 meaning: str = "True = real position") -> np.ndarray | None:
    """Return a boolean mask of ``shape``: ``TypeError`` if it is not boolean, ``ValueError`` if the shape differs.

    ``mask=None`` gives an all-``default`` mask of ``shape`` (or None when ``default`` is None).
    With ``broadcast=True`` the mask only has to broadcast to ``shape``, and is returned broadcast.
    ``meaning`` says in error messages what True stands for.
    """
    if mask is None:
        if default is None or shape is None:
            return None
        return np.full(shape, default, dtype=bool)
    if isinstance(mask, (str, bytes, dict, set)):
        raise TypeError(f"{name} must be a boolean array ({meaning}), got {type(mask).__name__}")
    arr = np.asarray(mask)
    if arr.dtype != bool:
        raise TypeError(f"{name} must be a boolean array ({meaning}), got dtype {arr.dtype}")
    if shape is not None and broadcast:
        try:
            return np.broadcast_to(arr, tuple(shape))
        except ValueError:
            raise ValueError(f"{name} of shape {arr.shape} does not broadcast to shape {tuple(shape)}") from None
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {arr.shape}")
    return arr


def as_positive_vector(value: Any, name: str, size: int) -> np.ndarray:
    """A positive number, or ``size`` positive numbers, as a float64 array of shape (size,).

    Used for per-feature scales: one number applies to every feature.
    """
    s = as_float_array(value, name, ndim=(0, 1))
    if s.ndim == 1 and s.shape[0] != size:
        raise ValueError(f"{name} must be a number or have one entry per feature ({size}), got shape {s.shape}")
    if np.any(s <= 0):
        raise ValueError(f"{name} must be positive, got minimum {s.min():.3g}")
    return np.broadcast_to(s, (size,)).astype(np.float64)


def check_bounds(bounds: Any, name: str) -> tuple[float, float]:
    """``(low, high)`` as two finite floats with ``low < high``."""
    lo, hi = check_sequence(bounds, name, 2)
    lo = check_number(lo, f"{name}[0]")
    hi = check_number(hi, f"{name}[1]")
    if not lo < hi:
        raise ValueError(f"{name} must be (low, high) with low < high, got {tuple(bounds)}")
    return lo, hi


# --------------------------------------------------------------------------- plots

def check_cmap(cmap: Any, name: str = "cmap") -> str:
    """``cmap`` after checking it is the name (a str) of a registered matplotlib colour map."""
    import matplotlib as mpl

    if not isinstance(cmap, str):
        raise TypeError(f"{name} must be a matplotlib colour map name (a str), got {type(cmap).__name__}")
    if cmap not in mpl.colormaps:
        raise ValueError(f"{name} must be a matplotlib colour map name, got {cmap!r}")
    return cmap


def check_axes(ax: Any, name: str = "ax"):
    """``ax`` after checking it is None or a matplotlib ``Axes``."""
    import matplotlib.axes

    if ax is not None and not isinstance(ax, matplotlib.axes.Axes):
        raise TypeError(f"{name} must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


# --------------------------------------------------------------------------- seeds

def as_generator(seed: Any, name: str = "seed") -> np.random.Generator:
    """``np.random.default_rng(seed)`` for None, an int >= 0 or a Generator (returned as it is)."""
    if seed is None or isinstance(seed, np.random.Generator):
        return np.random.default_rng(seed)
    return np.random.default_rng(check_int(seed, name, 0))


def as_random_state(seed: Any, name: str = "seed") -> np.random.RandomState:
    """Turn None, an int in [0, 2**32 - 1] or a ``RandomState`` into a ``RandomState`` (as scikit-learn does).

    None gives NumPy's global ``RandomState``, as ``sklearn.utils.check_random_state(None)``.
    """
    if seed is None:
        return np.random.mtrand._rand
    if isinstance(seed, np.random.RandomState):
        return seed
    return np.random.RandomState(check_int(seed, name, 0, 2**32 - 1))


# --------------------------------------------------------------------------- models and tensors

def check_keras_model(model: Any, name: str = "model"):
    """The ``keras.Model`` behind ``model`` (itself, or the ``.model`` of a book model); ``TypeError`` otherwise."""
    from .forward import keras_model_of

    km = keras_model_of(model)
    if km is None:
        raise TypeError(f"{name} must be a keras.Model (or hold one as .model), got {type(model).__name__}")
    return km


def is_concrete(x: Any) -> bool:
    """Whether ``x`` holds values (an array or an eager tensor), not a symbolic graph tensor."""
    import keras
    import tensorflow as tf

    if isinstance(x, keras.KerasTensor):
        return False
    if isinstance(x, tf.Tensor):
        return tf.executing_eagerly() and hasattr(x, "numpy")
    return True


def check_tensor_kind(x: Any, name: str) -> None:
    """``TypeError`` unless ``x`` can be a tensor: not None, a str, a plain number or a container of them.

    Keras layers call this before ``Layer.__call__``, which would otherwise answer a str with a
    ``ValueError`` that does not say which argument is wrong.
    """
    if x is None or isinstance(x, (str, bytes, bool, int, float, dict, set)):
        raise TypeError(f"{name} must be a tensor or array of shape (batch, n, d), got {type(x).__name__}")


def check_tensor(x: Any, name: str, min_rank: int, *, nonempty_axis: int | None = None):
    """A float tensor of rank >= ``min_rank``; its values are checked when they are concrete.

    Concrete values (arrays, eager tensors) must be numbers (``TypeError``) and finite
    (``ValueError``); arrays are converted to tensors (float32 unless already floating), while a
    float tensor is returned as it is, so that gradients still flow through it. Symbolic
    tensors (inside a compiled graph or a functional model) only get their static shape checked.
    ``nonempty_axis``: an axis that must not have length 0 (e.g. the positions attended to).
    """
    from keras import ops

    check_tensor_kind(x, name)
    if is_concrete(x):
        arr = np.asarray(x)
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
            raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite, got {int(np.sum(~np.isfinite(arr)))} NaN or infinite value(s)")
        if not ops.is_tensor(x):
            x = ops.convert_to_tensor(arr.astype("float32") if arr.dtype.kind != "f" else arr)
        elif arr.dtype.kind != "f":
            x = ops.cast(x, "float32")
    shape = tuple(x.shape)
    if len(shape) < min_rank:
        raise ValueError(f"{name} must have at least {min_rank} dimensions (..., n, d), got shape {shape}")
    if nonempty_axis is not None and shape[nonempty_axis] == 0:
        raise ValueError(f"{name} must not be empty along axis {nonempty_axis}, got shape {shape}")
    return x


def check_tensor_mask(mask: Any, name: str, shape: tuple, *, meaning: str = "True = may attend",
                      rows_nonempty: bool = True) -> None:
    """Check a boolean mask tensor against the ``shape`` it must broadcast to (None = unknown size).

    Concrete masks must be boolean (``TypeError``) and broadcast to ``shape`` (``ValueError``); with
    ``rows_nonempty`` every row along the last axis needs a True entry (a fully masked row has no
    softmax).
    """
    if mask is None:
        return
    if isinstance(mask, (str, bytes, dict, set, bool, int, float)):
        raise TypeError(f"{name} must be a boolean tensor ({meaning}), got {type(mask).__name__}")
    if not is_concrete(mask):
        return
    m = np.asarray(mask)
    if m.dtype != bool:
        raise TypeError(f"{name} must be boolean ({meaning}), got dtype {m.dtype}")
    if None in shape:
        return
    try:
        m = np.broadcast_to(m, shape)
    except ValueError:
        raise ValueError(f"{name} of shape {m.shape} does not broadcast to {shape}") from None
    empty = ~m.any(axis=-1)
    if rows_nonempty and empty.any():
        raise ValueError(f"{int(empty.sum())} row(s) of {name} allow no key at all; a fully masked row has no softmax")


class CheckedTensorCall:
    """Mixin for Keras layers: check the kind of the tensors passed positionally before ``Layer.__call__``.

    Keras answers a str or a number passed positionally with a ``ValueError`` that does not name
    the argument, and builds the layer from the first argument before ``call`` could check it.
    A layer lists the names of its positional tensor arguments in ``_tensor_args`` and puts the
    mixin first: ``class MyLayer(CheckedTensorCall, keras.layers.Layer)``.
    """

    _tensor_args: tuple[str, ...] = ()

    def __call__(self, *args, **kwargs):
        for name, value in zip(self._tensor_args, args):
            check_tensor_kind(value, name)
        return super().__call__(*args, **kwargs)
