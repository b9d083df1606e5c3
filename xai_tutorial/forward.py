"""The model boundary: how every explainer and metric of the package calls a model.

One contract, in the spirit of Captum's ``forward_func`` + ``target`` and shap's ``Model``:

* A **predict function** maps a NumPy array of inputs of shape (n, ...) to a float64 array of
  outputs of shape (n,) (one output per input) or (n, k) (k outputs per input: classes, logits).
  :func:`predict_fn` builds one from a Keras model (or a book model that holds one, such as the
  text classifier or the tiny ViT): it compiles the model call once, sends the inputs in batches,
  can read the logit before a final sigmoid or softmax, and reports non-finite outputs.
  A plain Python function that already obeys the contract can be passed wherever a predict
  function is asked for.
* A **target** says which output is explained: ``None`` (the model has one output), an ``int``
  (the same column for every input) or an int array of shape (n,) (one column per input, e.g.
  each example's predicted class). :func:`explained_output` applies it: it calls the function,
  checks what came back and returns shape (n,).

Gradient methods need a differentiable model rather than a NumPy function; they take the Keras
model itself, and :func:`logit_model` gives the model of the logits when the last layer ends in
a sigmoid or a softmax.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._validation import as_int_array, check_batch, check_callable, check_choice, check_int

__all__ = ["predict_fn", "logit_model", "keras_model_of", "explained_output", "output_matrix",
           "check_target", "call_in_batches", "OUTPUTS"]

#: What :func:`predict_fn` can return: the model's own output, or the logit before its last activation.
OUTPUTS: tuple[str, ...] = ("probability", "logit")


# --------------------------------------------------------------------------- targets and outputs

def check_target(target: Any, n: int) -> np.ndarray | None:
    """``target`` as an int64 array of shape (n,), or None.

    Parameters
    ----------
    target : None, int or int array of shape (n,)
        Which output column to explain for each of ``n`` inputs.
    n : int
        Number of inputs.

    Returns
    -------
    None or ndarray of shape (n,)
        The range against the number of outputs is checked by :func:`explained_output`.

    Examples
    --------
    >>> check_target(2, 3)
    array([2, 2, 2])
    >>> check_target(None, 3) is None
    True
    """
    n = check_int(n, "n", 0)
    if target is None:
        return None
    if isinstance(target, bool) or isinstance(target, (float, str, bytes)):
        raise TypeError(f"target must be an int or an int array of shape ({n},), got "
                        f"{type(target).__name__} {target!r}")
    if np.ndim(target) == 0:
        t = np.full(n, check_int(target, "target", 0), dtype=np.int64)
    else:
        t = as_int_array(target, "target", ndim=1)
        if t.shape != (n,):
            raise ValueError(f"target must be an int or have one entry per input ({n}), got shape {t.shape}")
        if t.size and t.min() < 0:
            raise ValueError(f"target must be non-negative, got {int(t.min())}")
    return t


def _as_outputs(out: Any, n: int, name: str) -> np.ndarray:
    """The raw output of a predict function as a checked float64 array of shape (n,) or (n, k)."""
    if out is None:
        raise TypeError(f"{name} must return an array of outputs, got None")
    try:
        arr = np.asarray(out)
    except Exception as exc:  # pragma: no cover - exotic array-likes
        raise TypeError(f"{name} must return an array of numbers, got {type(out).__name__}") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must return numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim not in (1, 2) or arr.shape[0] != n:
        raise ValueError(f"{name} must return shape ({n},) or ({n}, n_outputs) for {n} inputs, "
                         f"got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.flatnonzero(bad.reshape(n, -1).any(axis=1))
        raise ValueError(f"{name} returned {int(bad.sum())} NaN or infinite value(s), for input(s) "
                         f"{rows[:5].tolist()}{' ...' if rows.size > 5 else ''}")
    return arr


def output_matrix(fn: Callable[[np.ndarray], Any], x: np.ndarray, *, name: str = "predict_fn") -> np.ndarray:
    """All outputs of ``fn`` on ``x``, checked, as a float64 array of shape (n, k).

    A predict function with one output per input, shape (n,), gives (n, 1).
    """
    if not callable(fn):
        raise TypeError(f"{name} must be callable (a predict function), got {type(fn).__name__}")
    check_batch(x, "x")
    out = _as_outputs(fn(x), len(x), name)
    return out[:, None] if out.ndim == 1 else out


def explained_output(fn: Callable[[np.ndarray], Any], x: np.ndarray, target: Any = None, *,
                     name: str = "predict_fn") -> np.ndarray:
    """The explained output ``f_target(x)`` of every input, shape (n,).

    Parameters
    ----------
    fn : callable
        Predict function, ``fn(x) -> (n,)`` or ``(n, k)``.
    x : array of shape (n, ...)
        Inputs, passed to ``fn`` as they are.
    target : None, int or int array of shape (n,)
        Output column; required when ``fn`` returns more than one output per input.
    name : str
        How errors call ``fn``.

    Returns
    -------
    ndarray of shape (n,), float64

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: np.stack([x[:, 0], 2 * x[:, 0]], axis=1)
    >>> explained_output(f, np.ones((2, 3)), target=[0, 1])
    array([1., 2.])
    """
    out = output_matrix(fn, x, name=name)
    n, k = out.shape
    t = check_target(target, n)
    if t is None:
        if k > 1:
            raise ValueError(f"{name} returns {k} outputs per input: pass target (an int, or one int "
                             "per input) to say which to explain")
        return out[:, 0]
    if t.size and t.max() >= k:
        raise ValueError(f"target must be in [0, {k - 1}] for a function with {k} output(s), got {int(t.max())}")
    return out[np.arange(n), t]


def call_in_batches(call: Callable[[np.ndarray], Any], x: np.ndarray, batch_size: int) -> Any:
    """``call`` on consecutive slices of at most ``batch_size`` inputs, outputs concatenated.

    ``call`` returns an array or a list/tuple of arrays (a model with several outputs); the result
    has the same structure, each part a float64 array with ``len(x)`` rows. An empty ``x`` is
    called once, so the result still has the model's output shape.
    """
    check_callable(call, "call")
    check_batch(x, "x")
    batch_size = check_int(batch_size, "batch_size", 1)
    chunks = [call(x[i:i + batch_size]) for i in range(0, max(len(x), 1), batch_size)]
    if isinstance(chunks[0], (list, tuple)):
        return [np.concatenate([np.asarray(c[j], dtype=np.float64) for c in chunks])
                for j in range(len(chunks[0]))]
    return np.concatenate([np.asarray(c, dtype=np.float64) for c in chunks])


# --------------------------------------------------------------------------- Keras models

def keras_model_of(model: Any):
    """The ``keras.Model`` behind ``model`` (itself, or the ``.model`` of a book model), or None."""
    import keras

    if isinstance(model, keras.Model):
        return model
    inner = getattr(model, "model", None)
    if isinstance(inner, keras.Model):
        return inner
    return None


def logit_model(model: Any):
    """The model of the logits: ``model`` without the sigmoid or softmax of its last layer.

    Parameters
    ----------
    model : keras.Model, or a book model with a ``.model``
        Its last layer must apply a sigmoid or softmax activation (``Dense(k, activation=...)``
        or an ``Activation`` layer).

    Returns
    -------
    keras.Model
        Same inputs, outputs the pre-activation values (same shape as the model's output). The
        weights are shared, not copied.
    """
    import keras
    from keras import ops

    km = keras_model_of(model)
    if km is None:
        raise TypeError(f"model must be a keras.Model (or hold one as .model), got {type(model).__name__}")
    if len(km.outputs) != 1:
        raise ValueError(f"model must have one output to read its logit, got {len(km.outputs)}")
    # the layer that made the output, and the tensor it was called on at *this* model's call site
    # (a layer shared by several models, like the text classifier's output layer, has several)
    last, node_index, _ = km.outputs[0]._keras_history
    act = getattr(last, "activation", None)
    act_name = getattr(act, "__name__", str(act))
    if act_name not in ("sigmoid", "softmax"):
        raise ValueError(f"model's last layer {last.name!r} must end in a sigmoid or softmax to have a "
                         f"logit, got activation {act_name!r}")
    node = last._inbound_nodes[node_index]
    features = node.input_tensors[0]
    if isinstance(last, keras.layers.Activation):
        logits = features
    elif isinstance(last, keras.layers.Dense):
        logits = ops.matmul(features, last.kernel)
        if last.use_bias:
            logits = logits + last.bias
    else:
        raise ValueError(f"model's last layer must be Dense or Activation to read its logit, got "
                         f"{type(last).__name__}")
    return keras.Model(km.inputs, logits, name=f"{km.name}_logit")


def predict_fn(model: Any, *, output: str = "probability",
               batch_size: int = 4096) -> Callable[[np.ndarray], np.ndarray]:
    """A fast NumPy predict function for a Keras model: the function every explainer calls.

    The model is called through one compiled ``tf.function`` (traced once per input shape):
    ``model.predict`` costs a large fixed overhead per call and an eager call several
    milliseconds, which dominate when an explainer sends thousands of small batches.

    Parameters
    ----------
    model : keras.Model, a book model with a ``.model`` (text classifier, tiny ViT), or callable
        A callable that is not a Keras model is taken to be a predict function already; it is
        wrapped with the same output checks.
    output : {"probability", "logit"}, default "probability"
        ``"probability"`` returns what the model returns; ``"logit"`` the value before its last
        sigmoid or softmax (see :func:`logit_model`), which does not saturate.
    batch_size : int, default 4096
        Largest batch sent to the model at once.

    Returns
    -------
    callable
        ``f(x: ndarray (n, ...)) -> float64 ndarray (n,)`` for a model with one output per input
        (a (n, 1) output is squeezed), ``(n, k)`` otherwise. Inputs are cast to the model's input
        dtype (int32 for token ids); a NaN or infinite output raises ``ValueError``.

    Examples
    --------
    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    >>> f = predict_fn(m)
    >>> f(np.zeros((5, 3))).shape
    (5,)
    """
    check_choice(output, "output", OUTPUTS)
    batch_size = check_int(batch_size, "batch_size", 1)
    km = keras_model_of(model)
    if km is None:
        if not callable(model):
            raise TypeError(f"model must be a keras.Model, a book model with a .model, or a predict "
                            f"function, got {type(model).__name__}")
        if output == "logit":
            raise ValueError("output='logit' needs a Keras model (to read the value before its last "
                             "activation); a plain predict function returns what it returns")
        fn = model

        def checked(x: np.ndarray) -> np.ndarray:
            out = _as_outputs(fn(x), len(x), "the predict function")
            return out[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out

        return checked

    import tensorflow as tf

    net = logit_model(km) if output == "logit" else km
    if len(net.inputs) != 1:
        raise ValueError(f"model must take one input to be called as a predict function, got "
                         f"{len(net.inputs)} inputs; for a model with auxiliary inputs, pass a function")
    spec = net.inputs[0]
    in_shape = tuple(spec.shape[1:])
    in_dtype = np.dtype(getattr(spec.dtype, "name", spec.dtype))
    call = tf.function(lambda t: net(t, training=False),
                       input_signature=[tf.TensorSpec((None, *in_shape), tf.as_dtype(in_dtype))])

    def predict(x: np.ndarray) -> np.ndarray:
        arr = np.asarray(x)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise TypeError(f"x must be an array of numbers, got dtype {arr.dtype}")
        if arr.ndim != 1 + len(in_shape) or any(s is not None and a != s for a, s in zip(arr.shape[1:], in_shape)):
            want = ", ".join("?" if s is None else str(s) for s in in_shape)
            raise ValueError(f"x must have shape (n, {want}) for this model, got {arr.shape}")
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise ValueError(f"x must be finite, got {int(np.sum(~np.isfinite(arr)))} NaN or infinite value(s)")
        out = call_in_batches(lambda b: call(b.astype(in_dtype)), arr, batch_size)
        out = _as_outputs(out, len(arr), f"model {km.name!r}")
        return out[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out

    predict.model = net  # type: ignore[attr-defined]
    return predict
