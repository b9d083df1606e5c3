"""A generated sweep of bad calls over the public API of every module of ``xai_tutorial``.

For each public function and class (``__all__``, or the public names a module defines) the table
:func:`_apis` gives one valid call (small inputs, tiny models built once with fixed seeds) and the
kind of each argument. From the kind, :class:`Kind` subclasses derive bad calls argument by
argument: a wrong kind (None, a string, a dict, a bool or a float where an int is wanted), a wrong
shape or number of dimensions, an empty array, NaN and inf, sizes out of range, mismatched pairs,
a callable that returns NaN, None or the wrong number of outputs, a non-callable where a callable
is expected.

A bad call is **clear** when it raises ``TypeError`` or ``ValueError`` whose message names the
argument (a mismatched pair may name either member), and where the bad value makes the kind rule
unambiguous, the right one of the two: ``TypeError`` for a wrong kind, ``ValueError`` for a wrong
shape, range or value. Any other exception (``AxisError``, ``IndexError``, TensorFlow's
``InvalidArgumentError``, ``AttributeError``, ``KeyError``, ...) or a silent return is unclear.

The exercise checkers (``xai_tutorial.exercises``) are not swept: they answer wrong input with a
``Feedback``, not an exception. Run with ``-s`` to see the table per module.
"""
from __future__ import annotations

import importlib
import inspect
import re
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Callable

import numpy as np
import pytest

import xai_tutorial  # noqa: F401  (silences TensorFlow before it is imported)

import keras  # noqa: E402
import matplotlib  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import tensorflow as tf  # noqa: E402

T, V = TypeError, ValueError
E = (TypeError, ValueError)  # the kind rule is ambiguous for this bad value: either is fine

MODULES = ("forward", "agreement", "attention", "attention_layers", "attention_interventions", "data",
           "models", "vision", "shapley", "text_shap", "surrogate", "feature_importance",
           "gradient_attribution", "perturbation", "activations", "plotting", "widgets", "reproducibility",
           "counterfactuals", "negation_data", "transformer", "transformer_attribution", "mechanistic", "induction",
           "experiments")

#: Public names that are not swept, and why.
EXEMPT = {
    "forward.keras_model_of": "returns None for anything that is not a Keras model: no input is bad",
    "data.reviews_path": "takes no arguments",
    "data.load_review_texts": "takes no arguments",
    "plotting.use_book_style": "takes no arguments",
    "attention_layers.DotProductAttention": "takes no arguments of its own (its call is swept)",
    "data.TabularSplit": "result container built by load_tabular",
    "data.DigitsPatches": "result container built by load_digits_patches",
    "shapley.ShapleyValues": "result container built by exact_shapley_values",
    "feature_importance.PermutationImportance": "result container built by permutation_importance",
    "attention_interventions.AdversarialResult": "result container built by adversarial_attention",
    "attention_interventions.ErasureResult": "result container built by erasure_flips",
    "activations.ActivationMaximization": "result container built by maximize_activation",
    "surrogate.SurrogateResult": "result container built by local_surrogate (its predict is swept)",
    "models.TextAttentionClassifier": "views of one model built by build_text_attention_classifier "
                                      "(its methods are swept)",
    "vision.TinyViT": "views of one model built by build_tiny_vit (its methods are swept)",
    "counterfactuals.TabularCounterfactual": "result container built by wachter_counterfactual",
    "counterfactuals.TokenSubstitution": "result container built by token_substitution_counterfactual",
    "negation_data.negation_vocab": "takes no arguments",
    "negation_data.NegationText": "result container built by make_negation_text (its subset is swept)",
    "transformer.TextTransformer": "views of one model built by build_text_transformer (its methods are swept)",
    "transformer_attribution.AttnLRPRelevance": "result container built by attn_lrp",
    "mechanistic.Trace": "result container built by trace",
    "induction.InductionTransformer": "views of one model built by build_induction_transformer "
                                      "(its methods are swept)",
}
#: Methods Keras calls itself (the layers' ``call`` is swept through ``layer(...)``).
KERAS_HOOKS = {"build", "get_config", "compute_mask", "compute_output_shape", "call", "from_config"}


# =========================================================================== kinds of argument

Bad = tuple[str, Any, Any]  # (label, bad value, expected exception type(s))

_DICT = {"a": 1}


def _kind_errors(optional: bool, *, none=T) -> list[Bad]:
    out = [("a str", "abc", T), ("a dict", _DICT, T)]
    return out if optional else [("None", None, none)] + out


class Kind:
    """How an argument may go wrong; :meth:`bad` lists bad values derived from the valid one."""

    optional = False

    def bad(self, valid: Any) -> list[Bad]:  # pragma: no cover - every kind overrides it
        raise NotImplementedError


@dataclass
class FloatArr(Kind):
    """A float array. ``ndim``: allowed numbers of dimensions (None = any, ``min_ndim`` = at least)."""

    ndim: int | tuple[int, ...] | None = None
    min_ndim: int | None = None
    empty: Any = "batch"  # "batch": (0, ...) is bad; an array: that empty array is bad; None: empty is fine
    nan: bool = True
    inf: bool = True
    optional: bool = False

    def bad(self, valid):
        a = np.asarray(valid, dtype=np.float64)
        out = _kind_errors(self.optional)
        out.append(("an array of str", np.full(a.shape if a.size else (1,), "a"), T))
        if self.nan and a.size:
            b = a.copy()
            b.flat[0] = np.nan
            out.append(("NaN", b, V))
        if self.inf and a.size:
            b = a.copy()
            b.flat[-1] = np.inf
            out.append(("inf", b, V))
        allowed = None if self.ndim is None else ((self.ndim,) if isinstance(self.ndim, int) else self.ndim)
        for d in sorted({a.ndim - 1, a.ndim + 1, 0}):
            if d < 0 or (allowed is not None and d in allowed) or (allowed is None and self.min_ndim is None):
                continue
            if self.min_ndim is not None and d >= self.min_ndim:
                continue
            out.append((f"{d}-D", _with_ndim(a, d), V))
        if isinstance(self.empty, np.ndarray):
            out.append(("empty", self.empty, V))
        elif self.empty == "batch" and a.ndim >= 1:
            out.append(("empty", np.zeros((0,) + a.shape[1:]), V))
        return out


def _with_ndim(a: np.ndarray, d: int) -> np.ndarray:
    if d == 0:
        return np.float64(a.flat[0]) if a.dtype.kind == "f" else a.flat[0]
    if d < a.ndim:
        return a.reshape((-1,) + a.shape[a.ndim - d + 1:]) if d > 1 else a.reshape(-1)
    return a[None]


@dataclass
class IntArr(Kind):
    """An int array (token ids, labels, positions) with its allowed range [low, high]."""

    ndim: int | tuple[int, ...] | None = None
    low: int | None = None
    high: int | None = None
    empty: Any = "batch"
    optional: bool = False

    def bad(self, valid):
        a = np.asarray(valid)
        out = _kind_errors(self.optional)
        frac = a.astype(np.float64)
        frac.flat[0] += 0.5
        out.append(("non-integer floats", frac, T))
        nan = a.astype(np.float64)
        nan.flat[0] = np.nan
        out.append(("NaN", nan, E))
        allowed = None if self.ndim is None else ((self.ndim,) if isinstance(self.ndim, int) else self.ndim)
        if allowed is not None:
            for d in sorted({a.ndim - 1, a.ndim + 1}):
                if d >= 0 and d not in allowed:
                    out.append((f"{d}-D", _with_ndim(a, d), V))
        if self.low is not None:
            b = a.copy()
            b.flat[0] = self.low - 1
            out.append(("below range", b, V))
        if self.high is not None:
            b = a.copy()
            b.flat[-1] = self.high + 1
            out.append(("above range", b, V))
        if isinstance(self.empty, np.ndarray):
            out.append(("empty", self.empty, V))
        elif self.empty == "batch" and a.ndim >= 1:
            out.append(("empty", np.zeros((0,) + a.shape[1:], dtype=a.dtype), V))
        return out


@dataclass
class BoolArr(Kind):
    """A boolean mask (``valid``, ``mask``, ``rationale``, ``highlight``).

    ``broadcast``: the mask only has to broadcast to the scores (then a mask with fewer leading axes
    is fine, and the bad shape is the transposed one); ``fixed``: its shape is set by other arguments.
    """

    optional: bool = True
    broadcast: bool = False
    fixed: bool = True

    def bad(self, valid):
        m = np.asarray(valid, dtype=bool)
        out = _kind_errors(self.optional) + [
            ("an int array", m.astype(np.int64), T),
            ("a float array", m.astype(np.float64), T),
        ]
        if self.broadcast:
            out.append(("a shape that does not broadcast", np.swapaxes(m, -1, -2), V))
        elif self.fixed:
            if m.ndim >= 1 and m.shape[-1] > 1:
                out.append(("wrong shape", m[..., :-1], V))
            if m.ndim >= 2:
                out.append(("wrong ndim", m[0], V))
        else:
            out += [("one axis fewer", m.reshape(-1), V), ("one axis more", m[None], V)]
        return out


@dataclass
class Int(Kind):
    """An int in [low, high]; ``big``: extra values that are too large."""

    low: int | None = None
    high: int | None = None
    optional: bool = False
    big: tuple = ()

    def bad(self, valid):
        out = _kind_errors(self.optional) + [
            ("a numeric str", "3", T), ("a float", 2.5, T), ("a whole float", 2.0, T), ("a bool", True, T),
        ]
        if self.low is not None:
            for v in sorted({self.low - 1, min(-1, self.low - 1), 0 if self.low > 0 else self.low - 1}):
                out.append((f"{v} (below range)", v, V))
        if self.high is not None:
            out.append((f"{self.high + 1} (above range)", self.high + 1, V))
        out += [(f"{v} (too large)", v, V) for v in self.big]
        return out


@dataclass
class Number(Kind):
    """A finite real number in a range (open or closed at each end)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    optional: bool = False

    def bad(self, valid):
        out = _kind_errors(self.optional) + [
            ("a numeric str", "0.5", T), ("a bool", True, T), ("a list", [0.5], T),
            ("NaN", float("nan"), V), ("inf", float("inf"), V), ("-inf", float("-inf"), V),
        ]
        if self.low is not None:
            out.append(("below range", self.low if self.low_open else self.low - 1.0, V))
        if self.high is not None:
            out.append(("above range", self.high if self.high_open else self.high + 1.0, V))
        return out


@dataclass
class Bool(Kind):
    optional: bool = False

    def bad(self, valid):
        return _kind_errors(self.optional) + [("an int", 1, T), ("a float", 0.0, T)]


@dataclass
class Choice(Kind):
    optional: bool = False

    def bad(self, valid):
        out = [("an unknown name", "no-such-choice", V), ("an int", 3, T), ("a list", [valid], T)]
        return out if self.optional else [("None", None, T)] + out


@dataclass
class Obj(Kind):
    """An object of a package type (a model, a TextData, ...): anything else is a wrong kind."""

    optional: bool = False

    def bad(self, valid):
        return _kind_errors(self.optional) + [("an int", 3, T), ("an array", np.zeros((2, 3)), T)]


@dataclass
class Str(Kind):
    optional: bool = False

    def bad(self, valid):
        out = [("an int", 3, T), ("a list", ["abc"], T), ("a dict", _DICT, T)]
        return out if self.optional else [("None", None, T)] + out


@dataclass
class StrSeq(Kind):
    """A sequence of str (tokens, labels, a vocabulary); ``sized``: its length must match."""

    optional: bool = False
    sized: bool = True

    def bad(self, valid):
        out = [("a str", "abc", T), ("an int", 3, T), ("a dict", _DICT, T),
               ("a list of ints", list(range(len(valid))), T)]
        if not self.optional:
            out.insert(0, ("None", None, T))
        if self.sized:
            out.append(("too short", list(valid)[:-1], V))
        return out


@dataclass
class Func(Kind):
    """A callable. ``nan``/``none``/``short``: also pass one that returns NaN, None, one output too few."""

    optional: bool = False
    nan: bool = True
    none: bool = True
    short: bool = True

    def bad(self, valid):
        out = [("an int", 3, T), ("a str", "abc", T), ("a dict", _DICT, T), ("an array", np.ones(3), T)]
        if not self.optional:
            out.insert(0, ("None", None, T))
        if self.nan:
            out.append(("a function returning NaN", lambda *a: valid(*a) * np.nan, V))
        if self.none:
            out.append(("a function returning None", lambda *a: None, T))
        if self.short:
            out.append(("a function returning one output too few", lambda *a: valid(*a)[:-1], V))
        return out


@dataclass
class Tensor(Kind):
    """A float tensor argument of a Keras layer call (arrays are tensors too)."""

    min_rank: int = 3
    optional: bool = False
    empty: Any = None

    def bad(self, valid):
        a = np.asarray(valid)
        out = _kind_errors(self.optional) + [("an int", 3, T), ("an array of str", np.full(a.shape, "a"), T)]
        b = a.copy()
        b.flat[0] = np.nan
        out.append(("NaN", b, V))
        b = a.copy()
        b.flat[-1] = np.inf
        out.append(("inf", b, V))
        out.append((f"{self.min_rank - 1}-D", a.reshape((-1,) + a.shape[a.ndim - self.min_rank + 2:]), V))
        if self.empty is not None:
            out.append(("empty", self.empty, V))
        return out


@dataclass
class Custom(Kind):
    """Bad values written out for an argument of its own kind."""

    values: list = field(default_factory=list)

    def bad(self, valid):
        return list(self.values)


# =========================================================================== the swept API

@dataclass
class Api:
    """One public callable, a valid call of it and the kinds of its arguments."""

    module: str
    name: str
    fn: Callable
    args: dict
    kinds: dict
    pos: int = 0  # how many of ``args`` go positionally (in order)
    extra: list = field(default_factory=list)  # (label, {arg: value}, expected, blamed names)
    run_valid: bool = True
    aliases: dict = field(default_factory=dict)  # argument -> other names its errors may use

    def call(self, args: dict):
        names = list(args)
        return self.fn(*(args[n] for n in names[:self.pos]), **{n: args[n] for n in names[self.pos:]})


@dataclass
class Result:
    module: str
    api: str
    label: str
    outcome: str  # "clear", or why not: "silent", "unnamed", "wrong type", "other: <exception>"
    detail: str = ""

    @property
    def id(self) -> str:
        return f"{self.module}.{self.api}({self.label})"


# English words that are also argument names: they must appear where an argument is named.
_WORDY = {"a", "values", "index", "label", "text", "mask", "weights", "model", "data", "name"}


def names_argument(message: str, name: str) -> bool:
    """Whether ``message`` names the argument ``name``."""
    esc = re.escape(name)
    if name not in _WORDY:
        return re.search(rf"(?<![A-Za-z0-9_]){esc}(?![A-Za-z0-9_])", message) is not None
    verbs = "must|and|of|has|have|is|are|returned|returns|needs|does|should|lie|with|allow"
    after = rf"(?=\s+(?:{verbs})\b|\s*[,:=)\]\['\"`]|\s*$)"
    return re.search(rf"(?:^|(?<=[\s(\[`'\",]))(?:a |the )?{esc}{after}", message) is not None


def _outcome(exc: BaseException | None, expected, blame: tuple[str, ...]) -> tuple[str, str]:
    if exc is None:
        return "silent", ""
    msg = str(exc)
    kind = type(exc).__name__
    if not isinstance(exc, (TypeError, ValueError)) or isinstance(exc, (np.exceptions.AxisError, IndexError,
                                                                           KeyError, AttributeError)):
        return f"other: {kind}", msg[:200]
    if not any(names_argument(msg, b) for b in blame):
        return "unnamed", f"{kind}: {msg[:200]}"
    if not isinstance(exc, expected):
        return "wrong type", f"{kind}: {msg[:200]}"
    return "clear", ""


def run_bad_call(api: Api, label: str, args: dict, expected, blame: tuple[str, ...]) -> Result:
    exc = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            api.call(args)
        except Exception as e:  # noqa: BLE001 - every exception is classified
            exc = e
    plt.close("all")
    outcome, detail = _outcome(exc, expected, blame)
    return Result(api.module, api.name, label, outcome, detail)


def bad_calls(api: Api):
    """Every bad call of ``api``: (label, arguments, expected exception, blamed names)."""
    for arg, kind in api.kinds.items():
        for label, value, expected in kind.bad(api.args[arg]):
            yield f"{arg}: {label}", {**api.args, arg: value}, expected, (arg, *api.aliases.get(arg, ()))
    for label, changes, expected, blame in api.extra:
        yield label, {**api.args, **changes}, expected, tuple(blame)


# =========================================================================== tiny models and data

def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _init(seed: int):
    return keras.initializers.GlorotUniform(seed=seed)


@cache
def _mlp() -> keras.Model:
    """3 features -> 2 softmax outputs, with a named hidden layer."""
    inputs = keras.Input((3,), name="features")
    h = keras.layers.Dense(4, activation="tanh", kernel_initializer=_init(0), name="hidden")(inputs)
    out = keras.layers.Dense(2, activation="softmax", kernel_initializer=_init(1), name="out")(h)
    return keras.Model(inputs, out, name="tiny_mlp")


@cache
def _linear_model() -> keras.Model:
    """A model whose last layer has no sigmoid or softmax (so it has no logit)."""
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, kernel_initializer=_init(2))],
                            name="tiny_linear")


VOCAB_SIZE, SEQ_LEN = 12, 6
IDS = np.array([[2, 3, 4, 0, 0, 0], [5, 6, 7, 8, 0, 0], [9, 10, 11, 2, 3, 0], [4, 4, 0, 0, 0, 0]], dtype=np.int32)
TOKEN_WEIGHTS = np.linspace(-1.0, 1.0, VOCAB_SIZE) * (np.arange(VOCAB_SIZE) > 0)


def token_model(ids: np.ndarray) -> np.ndarray:
    """P(class 1) = sigmoid(sum of per-token weights); padding (id 0) adds nothing. Shape (n,)."""
    return 1.0 / (1.0 + np.exp(-TOKEN_WEIGHTS[np.asarray(ids)].sum(axis=1)))


@cache
def _clf():
    from xai_tutorial import models

    return models.build_text_attention_classifier(VOCAB_SIZE, SEQ_LEN, embed_dim=4, hidden_dim=4,
                                                  attention_units=4, seed=0)


@cache
def _vit():
    from xai_tutorial import vision

    return vision.build_tiny_vit(4, 4, 3, dim=8, depth=1, heads=2, seed=0)


PATCHES = _rng(3).uniform(size=(3, 4, 4))


@cache
def _planted():
    from xai_tutorial import data

    return data.make_planted_text(6, 8, min_len=3, max_cues=2, seed=0)


def _pair(a: str, b: str, value: Any, what: str = "mismatched shapes") -> tuple:
    """A bad call in which ``b`` does not match ``a``: either may be named."""
    return (f"{a}/{b}: {what}", {b: value}, V, (a, b))


def _one(arg: str, what: str, value: Any, expected=V, also: tuple = ()) -> tuple:
    return (f"{arg}: {what}", {arg: value}, expected, (arg, *also))


@dataclass
class Target(Kind):
    """``target``: None, an int, or one int per input (see forward.check_target)."""

    n: int = 1
    k: int | None = None
    optional: bool = True

    def bad(self, valid):
        out = [("a str", "abc", T), ("a dict", _DICT, T), ("a float", 1.5, T), ("a bool", True, T),
               ("-1", -1, V), ("wrong length", np.zeros(self.n + 1, dtype=int), V),
               ("non-integer floats", np.full(self.n, 0.5), T), ("2-D", np.zeros((self.n, 1), dtype=int), V)]
        if self.k is not None:
            out.append(("too large", self.k, V))
        return out


def _batch_x(valid: np.ndarray) -> Custom:
    """Bad values of an input batch passed to a function as it is."""
    return Custom([("None", None, T), ("a str", "abc", T), ("a dict", _DICT, T), ("a number", 3.0, E)])


# =========================================================================== the table, module by module

def _forward() -> list[Api]:
    from xai_tutorial import forward as m

    x = _rng(0).normal(size=(4, 3))

    def two(x):
        return np.stack([x[:, 0], 2 * x[:, 1]], axis=1)

    return [
        Api("forward", "predict_fn", m.predict_fn, {"model": _mlp(), "output": "probability", "batch_size": 8},
            {"model": Obj(), "output": Choice(), "batch_size": Int(1)}, pos=1,
            extra=[("output: 'logit' of a plain function", {"model": two, "output": "logit"}, V, ("output",)),
                   ("output: 'logit' of a model without sigmoid", {"model": _linear_model(), "output": "logit"}, V,
                    ("model", "output"))]),
        Api("forward", "predict_fn(model)", m.predict_fn(_mlp()), {"x": x}, {"x": FloatArr(ndim=2, empty=None)},
            pos=1, extra=[_one("x", "wrong number of features", x[:, :2])]),
        Api("forward", "logit_model", m.logit_model, {"model": _mlp()}, {"model": Obj()}, pos=1,
            extra=[_one("model", "last layer without sigmoid or softmax", _linear_model())]),
        Api("forward", "explained_output", m.explained_output, {"fn": two, "x": x, "target": 1},
            {"fn": Func(), "x": _batch_x(x), "target": Target(4, 2)}, pos=2,
            extra=[("fn: several outputs and no target", {"target": None}, V, ("fn", "predict_fn", "target"))],
            aliases={"fn": ("predict_fn",)}),
        Api("forward", "output_matrix", m.output_matrix, {"fn": two, "x": x}, {"fn": Func(), "x": _batch_x(x)},
            pos=2, aliases={"fn": ("predict_fn",)}),
        Api("forward", "check_target", m.check_target, {"target": 1, "n": 4},
            {"target": Target(4), "n": Int(0)}, pos=2,
            extra=[("n: None (with an array target)", {"target": np.zeros(4, dtype=int), "n": None}, T, ("n",))]),
        Api("forward", "call_in_batches", m.call_in_batches, {"call": two, "x": x, "batch_size": 2},
            {"call": Func(nan=False, none=False, short=False), "x": _batch_x(x), "batch_size": Int(1)}, pos=3),
    ]


def _agreement() -> list[Api]:
    from xai_tutorial import agreement as m

    s = _rng(1).normal(size=(3, 5))
    r = np.array([[1, 0, 0, 1, 0], [0, 1, 0, 0, 0], [0, 0, 1, 1, 0]], dtype=bool)
    valid = np.ones((3, 5), dtype=bool)
    valid[2, 4] = False
    b = _rng(2).normal(size=(3, 5))
    common = {"scores": FloatArr(ndim=2), "rationale": BoolArr(optional=False), "valid": BoolArr(),
              "absolute": Bool()}
    pairs = [_pair("scores", "rationale", r[:, :4]), _pair("scores", "valid", valid[:2])]
    return [
        Api("agreement", "rationale_auc", m.rationale_auc, {"scores": s, "rationale": r, "valid": valid,
                                                             "absolute": True}, common, pos=3,
            extra=pairs + [_one("rationale", "no rationale token", np.zeros((3, 5), dtype=bool))]),
        Api("agreement", "per_example_auc", m.per_example_auc,
            {"scores": s, "rationale": r, "valid": valid, "absolute": True}, common, pos=3, extra=pairs),
        Api("agreement", "rationale_mass", m.rationale_mass,
            {"scores": s, "rationale": r, "valid": valid, "absolute": True}, common, pos=3, extra=pairs),
        Api("agreement", "per_example_precision_at_k", m.per_example_precision_at_k,
            {"scores": s, "rationale": r, "valid": valid, "k": 2, "absolute": True},
            {**common, "k": Int(1, 5, optional=True)}, pos=3, extra=pairs),
        Api("agreement", "precision_at_k", m.precision_at_k,
            {"scores": s, "rationale": r, "valid": valid, "k": 2, "absolute": True},
            {**common, "k": Int(1, 5, optional=True)}, pos=3, extra=pairs),
        Api("agreement", "rank_correlation", m.rank_correlation,
            {"a": s, "b": b, "valid": valid, "method": "kendall", "absolute": False},
            {"a": FloatArr(ndim=2), "b": FloatArr(ndim=2), "valid": BoolArr(), "method": Choice(),
             "absolute": Bool()}, pos=3,
            extra=[_pair("a", "b", b[:, :4]), _pair("a", "valid", valid[:, :4])]),
        *[Api("agreement", name, getattr(m, name), {"a": s, "b": b, "valid": valid, "k": 2},
              {"a": FloatArr(ndim=2), "b": FloatArr(ndim=2), "valid": BoolArr(), "k": Int(1, 5)}, pos=3,
              extra=[_pair("a", "b", b[:, :4]), _pair("a", "valid", valid[:, :4])])
          for name in ("feature_agreement", "rank_agreement", "sign_agreement", "signed_rank_agreement")],
    ]


def _attention() -> list[Api]:
    from xai_tutorial import attention as m

    g = _rng(4)
    q, k, v = g.normal(size=(2, 3, 4)), g.normal(size=(2, 5, 4)), g.normal(size=(2, 5, 6))
    mask = np.ones((3, 5), dtype=bool)
    mask[0, 3:] = False
    bmask = BoolArr(broadcast=True)
    att = g.uniform(size=(2, 2, 2, 4, 4))
    att = list(att / att.sum(axis=-1, keepdims=True))
    W_q, W_k, W_v, W_o = g.normal(size=(4, 6)), g.normal(size=(4, 6)), g.normal(size=(4, 6)), g.normal(size=(6, 4))
    k3 = g.normal(size=(2, 5, 3))
    Wa_q, Wa_k, wa_v = g.normal(size=(4, 6)), g.normal(size=(3, 6)), g.normal(size=6)
    qkv = {"q": FloatArr(min_ndim=2, empty=np.zeros((2, 0, 4))), "k": FloatArr(min_ndim=2, empty=np.zeros((2, 0, 4))),
           "v": FloatArr(min_ndim=2, empty=np.zeros((2, 0, 6)))}
    mha_args = {"x_q": q, "x_kv": k, "W_q": W_q, "W_k": W_k, "W_v": W_v, "W_o": W_o, "n_heads": 2, "mask": mask,
                "b_q": np.zeros(6), "b_k": np.zeros(6), "b_v": np.zeros(6), "b_o": np.zeros(4)}
    kernel = FloatArr(ndim=(2, 3))
    bias = FloatArr(ndim=(1, 2), optional=True, empty=None)
    rollout_bad = Custom([
        ("None", None, T), ("a str", "abc", T), ("a dict", _DICT, T), ("an int", 3, T), ("an empty list", [], V),
        ("a NaN layer", [att[0], att[1] * np.nan], V), ("a 1-D layer", [np.ones(4) / 4], V),
        ("non-square maps", [a[..., :3] for a in att], V), ("negative weights", [att[0], -att[1]], V),
        ("layers of different shapes", [att[0], att[1][:, :, :3, :3]], V),
        ("a layer of str", [np.full((4, 4), "a")], T), ("a 2-D array", np.eye(4), V),
    ])
    return [
        Api("attention", "softmax", m.softmax, {"x": q[0], "axis": -1},
            {"x": FloatArr(min_ndim=1, empty=np.zeros((2, 0))), "axis": Int(-2, 1)}, pos=1),
        Api("attention", "causal_mask", m.causal_mask, {"n": 4}, {"n": Int(1)}, pos=1),
        Api("attention", "key_padding_mask", m.key_padding_mask, {"lengths": np.array([2, 4]), "n_keys": 4},
            {"lengths": IntArr(ndim=1, low=1, high=4, empty=None), "n_keys": Int(1)}, pos=2,
            extra=[_pair("lengths", "n_keys", 3, "n_keys below a length")]),
        Api("attention", "masked_softmax", m.masked_softmax, {"scores": q[0], "mask": mask[:, :4]},
            {"scores": FloatArr(min_ndim=1, empty=np.zeros((3, 0))), "mask": bmask}, pos=2,
            extra=[_one("mask", "a fully masked row", np.array([[True] * 4, [False] * 4, [True] * 4]))]),
        Api("attention", "scaled_dot_product_attention", m.scaled_dot_product_attention,
            {"q": q, "k": k, "v": v, "mask": mask, "scale": 0.5},
            {**qkv, "mask": bmask, "scale": Number(0, low_open=True, optional=True)}, pos=4,
            extra=[_pair("q", "k", k[..., :3], "different d_k"), _pair("k", "v", v[:, :4], "different numbers of keys"),
                   _one("scale", "0", 0.0), _one("scale", "-1", -1.0),
                   _one("mask", "a fully masked row", np.array([[False] * 5] + [[True] * 5] * 2))]),
        Api("attention", "additive_attention", m.additive_attention,
            {"q": q, "k": k3, "v": v, "W_q": Wa_q, "W_k": Wa_k, "w_v": wa_v, "mask": mask, "b": np.zeros(6)},
            {**qkv, "k": FloatArr(min_ndim=2, empty=np.zeros((2, 0, 3))), "W_q": FloatArr(ndim=2),
             "W_k": FloatArr(ndim=2), "w_v": FloatArr(ndim=1), "mask": bmask,
             "b": FloatArr(ndim=1, optional=True, empty=None)}, pos=7,
            extra=[_pair("q", "W_q", Wa_q[:3], "W_q rows differ from d_q"), _pair("k", "W_k", Wa_k[:2]),
                   _pair("W_q", "W_k", Wa_k[:, :5], "different units"),
                   _pair("W_q", "w_v", wa_v[:5], "different units"),
                   _pair("W_q", "b", np.zeros(5), "different units"), _pair("k", "v", v[:, :4])]),
        Api("attention", "split_heads", m.split_heads, {"x": v, "n_heads": 2},
            {"x": FloatArr(min_ndim=2, empty=None), "n_heads": Int(1, big=(4,))}, pos=2),
        Api("attention", "merge_heads", m.merge_heads, {"x": np.zeros((2, 2, 5, 3))},
            {"x": FloatArr(min_ndim=3, empty=None)}, pos=1),
        Api("attention", "multi_head_attention", m.multi_head_attention, mha_args,
            {"x_q": FloatArr(min_ndim=2), "x_kv": FloatArr(min_ndim=2), "W_q": kernel, "W_k": kernel, "W_v": kernel,
             "W_o": kernel, "n_heads": Int(1, big=(4,)), "mask": bmask, "b_q": bias, "b_k": bias, "b_v": bias,
             "b_o": bias}, pos=7,
            extra=[_pair("x_q", "W_q", W_q[:3]), _pair("W_q", "W_k", W_k[:, :4], "different head sizes"),
                   _pair("W_v", "W_o", W_o[:4]), _pair("W_q", "b_q", np.zeros(5)), _pair("W_o", "b_o", np.zeros(3))]),
        Api("attention", "attention_rollout", m.attention_rollout, {"attentions": att, "residual_weight": 0.5},
            {"attentions": rollout_bad, "residual_weight": Number(0, 1)}, pos=1),
    ]


def _attention_layers() -> list[Api]:
    from xai_tutorial import attention_layers as m

    g = _rng(5)
    q = g.normal(size=(2, 3, 4)).astype("float32")
    k = g.normal(size=(2, 5, 4)).astype("float32")
    v = g.normal(size=(2, 5, 6)).astype("float32")
    k3 = g.normal(size=(2, 5, 3)).astype("float32")
    mask = np.ones((2, 3, 5), dtype=bool)
    mask[:, 0, 3:] = False
    empty_row = mask.copy()
    empty_row[0, 1] = False
    bmask = BoolArr(broadcast=True)
    dot, bahdanau, mha = m.DotProductAttention(), m.BahdanauAttention(4), m.MultiHeadAttentionFromScratch(2, 3)
    dot(q, k, value=v)
    bahdanau(q, k3, value=v)
    mha(q, v, key=k)
    t2 = Tensor(min_rank=2)

    def fresh(cls, *args):
        return lambda query, key, **kw: cls(*args)(query, key, **kw)

    def first_call(low_rank):
        return {"query": Custom([("None", None, T), ("a str", "abc", T), ("an int", 3, T),
                                 ("NaN", np.full_like(q, np.nan), V), (f"{low_rank.ndim}-D", low_rank, V)])}
    return [
        Api("attention_layers", "DotProductAttention.call", dot,
            {"query": q, "key": k, "value": v, "attention_mask": mask},
            {"query": t2, "key": Tensor(min_rank=2, empty=np.zeros((2, 0, 4), "float32")),
             "value": Tensor(min_rank=2, optional=True), "attention_mask": bmask}, pos=2,
            extra=[
                _pair("key", "value", v[:, :4], "different numbers of positions"),
                _pair("query", "key", k3, "different d_k"),
                _pair("query", "key", np.concatenate([k, k, k])[:3], "different batch sizes"),
                _one("attention_mask", "a fully masked row", empty_row)]),
        Api("attention_layers", "DotProductAttention.call (first call)", fresh(m.DotProductAttention),
            {"query": q, "key": k}, first_call(q[0, 0]), pos=2),
        Api("attention_layers", "BahdanauAttention", m.BahdanauAttention, {"units": 4, "use_bias": False},
            {"units": Int(1), "use_bias": Bool()}, pos=1),
        Api("attention_layers", "BahdanauAttention.call", bahdanau,
            {"query": q, "key": k3, "value": v, "attention_mask": mask},
            {"query": Tensor(), "key": Tensor(empty=np.zeros((2, 0, 3), "float32")), "value": Tensor(optional=True),
             "attention_mask": bmask}, pos=2,
            extra=[_pair("key", "value", v[:, :4], "different numbers of positions"),
                   _pair("query", "key", np.concatenate([k3, k3]), "different batch sizes"),
                   _one("query", "a different d_q than the layer was built for", k),
                   _one("key", "a different d_k than the layer was built for", k),
                   _one("attention_mask", "a fully masked row", empty_row)]),
        Api("attention_layers", "BahdanauAttention.call (first call)", fresh(m.BahdanauAttention, 4),
            {"query": q, "key": k}, first_call(q[0]), pos=2),
        Api("attention_layers", "MultiHeadAttentionFromScratch", m.MultiHeadAttentionFromScratch,
            {"num_heads": 2, "key_dim": 3, "value_dim": None, "output_dim": None, "use_bias": True},
            {"num_heads": Int(1), "key_dim": Int(1), "value_dim": Int(1, optional=True),
             "output_dim": Int(1, optional=True), "use_bias": Bool()}, pos=2),
        Api("attention_layers", "MultiHeadAttentionFromScratch.call", mha,
            {"query": q, "value": v, "key": k, "attention_mask": mask},
            {"query": Tensor(), "value": Tensor(empty=np.zeros((2, 0, 6), "float32")), "key": Tensor(optional=True),
             "attention_mask": bmask}, pos=2,
            extra=[_one("key", "None, so the value (of another size than the layer's keys)", None),
                   _pair("key", "value", v[:, :4], "different numbers of positions"),
                   _pair("query", "value", np.concatenate([v, v]), "different batch sizes"),
                   _one("query", "a different d_q than the layer was built for", v),
                   _one("value", "a different d_v than the layer was built for", k),
                   _one("attention_mask", "a fully masked row", empty_row)]),
        Api("attention_layers", "MultiHeadAttentionFromScratch.call (first call)",
            fresh(m.MultiHeadAttentionFromScratch, 2, 3), {"query": q, "key": v}, first_call(q[0]), pos=2),
    ]


def _attention_interventions() -> list[Api]:
    from xai_tutorial import attention_interventions as m

    clf = _clf()
    real = IDS != 0
    w = m.uniform_attention(real)
    p = np.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]])
    q = p[::-1].copy()
    ids = IntArr(ndim=2, low=0, high=VOCAB_SIZE - 1, empty=None)
    weights = FloatArr(ndim=2)
    wbad = [_pair("token_ids", "weights", w[:, :5]), _one("weights", "rows not summing to 1", w * 2),
            _one("weights", "weight on padding", np.where(real, w, 0.1)), _one("weights", "negative", -w)]
    seq = [_one("token_ids", "wrong seq_len", IDS[:, :5])]
    pos = np.array([0, 1, 2, 0])
    on_pad = np.array([0, 1, 2, 5])
    pos_extra = [_one("positions", "pointing at padding", on_pad),
                 _one("positions", "a bool mask of the wrong shape", real[:, :5]),
                 _one("positions", "every token erased", real),
                 _pair("token_ids", "positions", pos[:3], "one position per example")]
    erase_kinds = {"clf": Obj(), "token_ids": ids, "positions": IntArr(ndim=1, low=0, high=SEQ_LEN - 1),
                   "weights": FloatArr(ndim=2, optional=True)}
    return [
        Api("attention_interventions", "jensen_shannon", m.jensen_shannon, {"p": p, "q": q, "base": 2.0},
            {"p": FloatArr(ndim=(1, 2), empty=None), "q": FloatArr(ndim=(1, 2), empty=None),
             "base": Number(0, low_open=True, optional=True)}, pos=2,
            extra=[_pair("p", "q", q[:, :3]), _one("p", "negative", -p), _one("q", "a row of zeros", q * 0),
                   _one("base", "1", 1.0)]),
        Api("attention_interventions", "uniform_attention", m.uniform_attention, {"mask": real},
            {"mask": BoolArr(optional=False, fixed=False)}, pos=1,
            extra=[_one("mask", "a row without a real token", np.vstack([real[:3], [False] * SEQ_LEN]))]),
        Api("attention_interventions", "encoded_tokens", m.encoded_tokens, {"clf": clf, "token_ids": IDS},
            {"clf": Obj(), "token_ids": ids}, pos=2, extra=seq),
        Api("attention_interventions", "predict_with_attention", m.predict_with_attention,
            {"clf": clf, "token_ids": IDS, "weights": w}, {"clf": Obj(), "token_ids": ids, "weights": weights},
            pos=3, extra=seq + wbad),
        Api("attention_interventions", "attention_gradient", m.attention_gradient,
            {"clf": clf, "token_ids": IDS, "weights": w},
            {"clf": Obj(), "token_ids": ids, "weights": FloatArr(ndim=2, optional=True)}, pos=3, extra=seq + wbad),
        Api("attention_interventions", "gradient_x_embedding", m.gradient_x_embedding,
            {"clf": clf, "token_ids": IDS, "detach_attention": True, "output": "logit"},
            {"clf": Obj(), "token_ids": ids, "detach_attention": Bool(), "output": Choice()}, pos=2,
            extra=seq),
        Api("attention_interventions", "adversarial_attention", m.adversarial_attention,
            {"clf": clf, "token_ids": IDS, "max_delta": 0.05, "steps": 2, "lr": 0.1, "penalty": 10.0,
             "init_scale": 1.0, "seed": 0},
            {"clf": Obj(), "token_ids": ids, "max_delta": Number(0, 1, low_open=True, high_open=True),
             "steps": Int(1), "lr": Number(0, low_open=True), "penalty": Number(0, low_open=True),
             "init_scale": Number(0), "seed": Int(0)}, pos=2,
            extra=seq + [_one("token_ids", "a sequence of padding only", np.vstack([IDS[:3], np.zeros((1, 6), int)]))]),
        Api("attention_interventions", "erase_and_predict", m.erase_and_predict,
            {"clf": clf, "token_ids": IDS, "positions": pos, "weights": w}, erase_kinds, pos=3,
            extra=seq + pos_extra + wbad),
        Api("attention_interventions", "erasure_flips", m.erasure_flips,
            {"clf": clf, "token_ids": IDS, "positions": pos, "weights": w}, erase_kinds, pos=3,
            extra=seq + pos_extra + wbad),
    ]


def _data() -> list[Api]:
    from xai_tutorial import data as m

    vocab = ("<pad>", "<unk>", "good", "bad", "film", "plot")
    ids = np.array([[2, 4, 5, 0], [3, 4, 0, 0], [4, 5, 2, 3]], dtype=np.int32)
    labels = np.array([1, 0, 1])
    rationale = np.zeros(ids.shape, dtype=bool)
    rationale[:, 0] = True
    text = m.TextData(ids, labels, vocab, rationale)
    planted = _planted()
    lists = [["a", "good", "film"], ["a", "bad", "plot"]]
    token_lists = Custom([("None", None, T), ("a str", "a film", T), ("a list of str", ["a film", "a plot"], T),
                          ("a dict", _DICT, T), ("an int", 3, T), ("lists of ints", [[1, 2], [3]], T),
                          ("an array of ints", np.zeros((2, 3)), T)])
    images = _rng(6).uniform(size=(2, 4, 4))
    index = Custom([("None", None, T), ("a str", "abc", T), ("a dict", _DICT, T), ("a float", 1.5, T),
                    ("non-integer floats", [0.5, 1.0], T), ("an int (not a sequence)", 1, T),
                    ("out of range", [0, 9], V), ("negative out of range", [-9], V),
                    ("a bool mask of the wrong length", np.array([True, False]), V),
                    ("a 2-D index", np.array([[0, 1]]), V)])
    return [
        Api("data", "TextData", m.TextData, {"token_ids": ids, "labels": labels, "vocab": vocab,
                                              "rationale": rationale},
            {"token_ids": IntArr(ndim=2, low=0, high=len(vocab) - 1, empty=None),
             "labels": IntArr(ndim=1, low=0, high=1, empty=None), "vocab": StrSeq(sized=False),
             "rationale": BoolArr()}, pos=3,
            extra=[_pair("token_ids", "labels", labels[:2], "one label per sequence"),
                   _pair("token_ids", "vocab", vocab[:4], "ids beyond the vocabulary")]),
        Api("data", "TextData.tokens", text.tokens, {"i": 1}, {"i": Int(-3, 2)}, pos=1),
        Api("data", "TextData.subset", text.subset, {"index": np.array([0, 2])}, {"index": index}, pos=1),
        Api("data", "decode", m.decode, {"token_ids": ids[0], "vocab": vocab},
            {"token_ids": IntArr(ndim=1, low=0, high=len(vocab) - 1, empty=None), "vocab": StrSeq(sized=False)},
            pos=2, extra=[_pair("token_ids", "vocab", vocab[:3], "ids beyond the vocabulary")]),
        Api("data", "make_planted_text", m.make_planted_text,
            {"n_samples": 6, "seq_len": 6, "min_len": 3, "max_cues": 2, "seed": 0},
            {"n_samples": Int(2), "seq_len": Int(2), "min_len": Int(2, 6), "max_cues": Int(1, 6), "seed": Int(0)},
            pos=2),
        Api("data", "split_text", m.split_text, {"data": planted, "test_size": 0.5, "seed": 0},
            {"data": Obj(), "test_size": Number(0, 1, low_open=True, high_open=True), "seed": Int(0)}, pos=1),
        Api("data", "tokenize", m.tokenize, {"text": "A good film."}, {"text": Str()}, pos=1),
        Api("data", "build_vocab", m.build_vocab, {"token_lists": lists, "max_size": 10, "min_count": 1},
            {"token_lists": token_lists, "max_size": Int(3), "min_count": Int(1)}, pos=1),
        Api("data", "encode", m.encode, {"token_lists": lists, "vocab": vocab, "seq_len": 4},
            {"token_lists": token_lists, "vocab": StrSeq(sized=False), "seq_len": Int(1)}, pos=3),
        Api("data", "load_reviews", m.load_reviews, {"seq_len": 40, "max_vocab": 5000, "test_size": 0.2, "seed": 0},
            {"seq_len": Int(1), "max_vocab": Int(3), "test_size": Number(0, 1, low_open=True, high_open=True),
             "seed": Int(0)}, run_valid=False),
        Api("data", "load_tabular", m.load_tabular, {"name": "wine", "test_size": 0.25, "seed": 0},
            {"name": Choice(), "test_size": Number(0, 1, low_open=True, high_open=True), "seed": Int(0)}, pos=1),
        Api("data", "image_to_patches", m.image_to_patches, {"images": images, "patch_size": 2},
            {"images": FloatArr(ndim=3, empty=None), "patch_size": Int(1, big=(3, 8))}, pos=2,
            extra=[_one("images", "not square", images[:, :, :2])]),
        Api("data", "patches_to_image", m.patches_to_image, {"patches": m.image_to_patches(images, 2), "patch_size": 2},
            {"patches": FloatArr(ndim=3, empty=None), "patch_size": Int(1, big=(3,))}, pos=2,
            extra=[_one("patches", "not a square number of patches", np.zeros((2, 3, 4)))]),
        Api("data", "load_digits_patches", m.load_digits_patches, {"patch_size": 4, "test_size": 0.25, "seed": 0},
            {"patch_size": Int(1, 8, big=(3,)), "test_size": Number(0, 1, low_open=True, high_open=True),
             "seed": Int(0)}, pos=1),
    ]


def _models() -> list[Api]:
    from xai_tutorial import models as m

    clf = _clf()
    pool = m.AttentionPooling(4, seed=0)
    h = _rng(7).normal(size=(2, SEQ_LEN, 4)).astype("float32")
    real = IDS[:2] != 0
    pool(h, mask=real)
    ids = IntArr(ndim=2, low=0, high=VOCAB_SIZE - 1, empty=None)
    seq = [_one("token_ids", "wrong seq_len", IDS[:, :5])]
    labels = np.array([1, 0, 1, 0])
    return [
        Api("models", "AttentionPooling", m.AttentionPooling, {"units": 4, "seed": 0},
            {"units": Int(1), "seed": Int(0, optional=True)}, pos=1),
        Api("models", "AttentionPooling.call", pool, {"inputs": h, "mask": real},
            {"inputs": Tensor(), "mask": BoolArr(broadcast=True)}, pos=1,
            extra=[_pair("inputs", "mask", real[:, :5], "mask of another length")]),
        Api("models", "TextAttentionClassifier.predict_proba", clf.predict_proba, {"token_ids": IDS, "batch_size": 2},
            {"token_ids": ids, "batch_size": Int(1)}, pos=1, extra=seq),
        Api("models", "TextAttentionClassifier.attention_weights", clf.attention_weights,
            {"token_ids": IDS, "batch_size": 2}, {"token_ids": ids, "batch_size": Int(1)}, pos=1, extra=seq),
        Api("models", "build_text_attention_classifier", m.build_text_attention_classifier,
            {"vocab_size": VOCAB_SIZE, "seq_len": SEQ_LEN, "embed_dim": 4, "hidden_dim": 4, "attention_units": 4,
             "encoder": "dense", "dropout": 0.0, "seed": 0},
            {"vocab_size": Int(2), "seq_len": Int(1), "embed_dim": Int(1), "hidden_dim": Int(1),
             "attention_units": Int(1), "encoder": Choice(), "dropout": Number(0, 1, high_open=True),
             "seed": Int(0)}, pos=2),
        Api("models", "train_text_classifier", m.train_text_classifier,
            {"clf": _train_clf(), "train_ids": IDS, "train_labels": labels, "epochs": 1, "batch_size": 4,
             "learning_rate": 5e-3, "seed": 0, "validation_split": 0.0},
            {"clf": Obj(), "train_ids": ids, "train_labels": IntArr(ndim=1, low=0, high=1),
             "epochs": Int(1), "batch_size": Int(1), "learning_rate": Number(0, low_open=True), "seed": Int(0),
             "validation_split": Number(0, 1, high_open=True)}, pos=3,
            extra=[_one("train_ids", "wrong seq_len", IDS[:, :5]),
                   _pair("train_ids", "train_labels", labels[:3], "one label per sequence")]),
    ]


@cache
def _train_clf():
    """A classifier of its own for the training call (training changes the weights)."""
    from xai_tutorial import models

    return models.build_text_attention_classifier(VOCAB_SIZE, SEQ_LEN, embed_dim=4, hidden_dim=4,
                                                  attention_units=4, seed=1)


@cache
def _train_vit():
    from xai_tutorial import vision

    return vision.build_tiny_vit(4, 4, 3, dim=8, depth=1, heads=2, seed=1)


def _vision() -> list[Api]:
    from xai_tutorial import vision as m

    vit = _vit()
    layer = m.ClassTokenAndPosition(4, 8)
    emb = _rng(8).normal(size=(2, 4, 8)).astype("float32")
    layer(emb)
    patches = FloatArr(ndim=3, empty=None)
    shape = [_one("patches", "wrong patch_dim", PATCHES[:, :, :3]), _one("patches", "wrong n_patches", PATCHES[:, :3])]
    labels = np.array([0, 1, 2])
    return [
        Api("vision", "ClassTokenAndPosition", m.ClassTokenAndPosition, {"n_patches": 4, "dim": 8},
            {"n_patches": Int(1), "dim": Int(1)}, pos=2),
        Api("vision", "ClassTokenAndPosition.call", layer, {"inputs": emb}, {"inputs": Tensor()}, pos=1,
            extra=[_one("inputs", "wrong n_patches", emb[:, :3]), _one("inputs", "wrong dim", emb[..., :6])]),
        Api("vision", "TinyViT.predict_proba", vit.predict_proba, {"patches": PATCHES, "batch_size": 2},
            {"patches": patches, "batch_size": Int(1)}, pos=1, extra=shape),
        Api("vision", "TinyViT.predict", vit.predict, {"patches": PATCHES}, {"patches": patches}, pos=1, extra=shape),
        Api("vision", "TinyViT.attention_maps", vit.attention_maps, {"patches": PATCHES, "batch_size": 2},
            {"patches": patches, "batch_size": Int(1)}, pos=1, extra=shape),
        Api("vision", "check_patches", m.check_patches, {"patches": PATCHES, "n_patches": 4, "patch_dim": 4},
            {"patches": patches, "n_patches": Int(1), "patch_dim": Int(1)}, pos=3, extra=shape),
        Api("vision", "sincos_position_embedding", m.sincos_position_embedding,
            {"grid": 2, "dim": 8, "max_period": 10.0},
            {"grid": Int(1), "dim": Int(4, big=(6,)), "max_period": Number(1, low_open=True)}, pos=2),
        Api("vision", "build_tiny_vit", m.build_tiny_vit,
            {"n_patches": 4, "patch_dim": 4, "n_classes": 3, "dim": 8, "depth": 1, "heads": 2, "mlp_dim": None,
             "dropout": 0.0, "position_init": "sincos", "seed": 0},
            {"n_patches": Int(1), "patch_dim": Int(1), "n_classes": Int(2), "dim": Int(1), "depth": Int(1),
             "heads": Int(1, big=(3,)), "mlp_dim": Int(1, optional=True), "dropout": Number(0, 1, high_open=True),
             "position_init": Choice(), "seed": Int(0)}, pos=3,
            extra=[("position_init: 'sincos' with a non-square number of patches",
                    {"n_patches": 3, "position_init": "sincos"}, V, ("position_init", "n_patches"))]),
        Api("vision", "train_tiny_vit", m.train_tiny_vit,
            {"vit": _train_vit(), "patches": PATCHES, "labels": labels, "epochs": 1, "batch_size": 3,
             "learning_rate": 3e-3, "weight_decay": 0.05, "label_smoothing": 0.1, "seed": 0,
             "validation_split": 0.0},
            {"vit": Obj(), "patches": patches, "labels": IntArr(ndim=1, low=0, high=2), "epochs": Int(1),
             "batch_size": Int(1), "learning_rate": Number(0, low_open=True), "weight_decay": Number(0),
             "label_smoothing": Number(0, 1, high_open=True), "seed": Int(0),
             "validation_split": Number(0, 1, high_open=True)}, pos=3,
            extra=shape + [_pair("patches", "labels", labels[:2], "one label per image")]),
    ]


def _shapley() -> list[Api]:
    from xai_tutorial import shapley as m

    w = np.array([1.0, -2.0, 0.5])

    def linear(X):
        return X @ w

    def glove(S):
        return float(0 in S and (1 in S or 2 in S))

    x = np.array([1.0, 2.0, 3.0])
    bg = _rng(9).normal(size=(4, 3))
    game_fn = Func(short=False)
    game_fn_extra = [_one("value_fn", "a function returning a str", lambda S: "abc", T),
                     _one("value_fn", "a function returning an array", lambda S: np.ones(2), V)]
    return [
        Api("shapley", "coalition_masks", m.coalition_masks, {"n_players": 3}, {"n_players": Int(1, 16)}, pos=1),
        Api("shapley", "shapley_weights", m.shapley_weights, {"n_players": 3}, {"n_players": Int(1, 16)}, pos=1),
        Api("shapley", "shapley_from_coalition_values", m.shapley_from_coalition_values,
            {"values": np.arange(8.0)}, {"values": FloatArr(ndim=(1, 2), empty=np.zeros(0))}, pos=1,
            extra=[_one("values", "not 2**n values", np.arange(6.0)), _one("values", "a single value", np.ones(1))]),
        Api("shapley", "shapley_values_of_game", m.shapley_values_of_game, {"value_fn": glove, "n_players": 3},
            {"value_fn": game_fn, "n_players": Int(1, 16)}, pos=2, extra=game_fn_extra),
        Api("shapley", "interventional_coalition_values", m.interventional_coalition_values,
            {"predict_fn": linear, "x": x, "background": bg, "max_features": 16, "max_rows_per_call": 64},
            {"predict_fn": Func(), "x": FloatArr(ndim=1, empty=np.zeros(0)), "background": FloatArr(ndim=2),
             "max_features": Int(1, 16), "max_rows_per_call": Int(1)}, pos=3,
            extra=[_pair("x", "background", bg[:, :2], "different numbers of features"),
                   _pair("x", "max_features", 2, "more features than max_features")]),
        Api("shapley", "exact_shapley_values", m.exact_shapley_values,
            {"predict_fn": linear, "X": bg[:2], "background": bg, "max_features": 16},
            {"predict_fn": Func(), "X": FloatArr(ndim=(1, 2), empty=None), "background": FloatArr(ndim=2),
             "max_features": Int(1, 16)}, pos=3,
            extra=[_pair("X", "background", bg[:, :2], "different numbers of features"),
                   _pair("X", "max_features", 2, "more features than max_features")]),
    ]


def _text_shap() -> list[Api]:
    from xai_tutorial import text_shap as m

    masker = m.PaddingMasker(SEQ_LEN)
    vocab = tuple(f"w{i}" for i in range(VOCAB_SIZE))
    values = _rng(10).normal(size=IDS.shape) * (IDS != 0)
    ids = IntArr(ndim=2, low=0, empty=None)
    shap_kinds = {"model": Obj(), "token_ids": ids, "max_evals": Int(1), "seed": Int(0, 2**32 - 1),
                  "algorithm": Choice(), "pad_id": Int(0)}
    shap_args = {"model": token_model, "token_ids": IDS[:2], "max_evals": 12, "seed": 0, "algorithm": "permutation",
                 "pad_id": 0}
    shap_extra = [_one("max_evals", "below 2 L + 1", 8),
                  ("model: a model for another sequence length", {"model": _clf(), "token_ids": IDS[:2, :5]}, V,
                   ("model", "token_ids")),
                  ("algorithm: 'exact' for a too long sequence",
                   {"algorithm": "exact", "token_ids": np.ones((1, 15), int)},
                   V, ("algorithm",))]
    words = {"values": FloatArr(ndim=2, empty=None), "token_ids": IntArr(ndim=2, low=0, high=VOCAB_SIZE - 1,
                                                                         empty=None),
             "vocab": StrSeq(sized=False), "pad_id": Int(0)}
    word_extra = [_pair("values", "token_ids", IDS[:, :5]),
                  _pair("token_ids", "vocab", vocab[:5], "ids beyond the vocabulary")]
    return [
        Api("text_shap", "PaddingMasker", m.PaddingMasker, {"seq_len": SEQ_LEN, "pad_id": 0},
            {"seq_len": Int(1), "pad_id": Int(0)}, pos=1),
        Api("text_shap", "PaddingMasker.__call__", masker, {"mask": IDS[0] > 2, "x": IDS[0]},
            {"mask": BoolArr(optional=False), "x": IntArr(ndim=1, low=0, empty=np.zeros(0, int))}, pos=2,
            extra=[_pair("mask", "x", IDS[0, :5], "x of another length")]),
        Api("text_shap", "PaddingMasker.invariants", masker.invariants, {"x": IDS[0]},
            {"x": IntArr(ndim=1, low=0, empty=np.zeros(0, int))}, pos=1,
            extra=[_one("x", "another length", IDS[0, :5])]),
        Api("text_shap", "padding_masker", m.padding_masker, {"seq_len": SEQ_LEN, "pad_id": 0},
            {"seq_len": Int(1), "pad_id": Int(0)}, pos=1),
        Api("text_shap", "token_explanation", m.token_explanation, {**shap_args, "vocab": vocab},
            {**shap_kinds, "vocab": StrSeq(optional=True, sized=False)}, pos=2,
            extra=shap_extra + [_pair("token_ids", "vocab", vocab[:5], "ids beyond the vocabulary")]),
        Api("text_shap", "token_shap_values", m.token_shap_values, shap_args, shap_kinds, pos=2, extra=shap_extra),
        Api("text_shap", "word_importance", m.word_importance,
            {"values": values, "token_ids": IDS, "vocab": vocab, "pad_id": 0}, words, pos=3, extra=word_extra),
        Api("text_shap", "word_explanation", m.word_explanation,
            {"values": values, "token_ids": IDS, "vocab": vocab, "pad_id": 0, "base_values": np.zeros(4)},
            {**words, "base_values": FloatArr(ndim=1, optional=True, empty=None)}, pos=3,
            extra=word_extra + [_pair("values", "base_values", np.zeros(3), "one base value per sequence")]),
    ]


def _seed_kind(generator: bool) -> Custom:
    out = [("a str", "abc", T), ("a float", 1.5, T), ("a bool", True, T), ("a dict", _DICT, T), ("-1", -1, V),
           ("a list", [1, 2], T)]
    if not generator:
        out.append(("2**32 (too large)", 2**32, V))
    return Custom(out)


def _surrogate() -> list[Api]:
    from xai_tutorial import surrogate as m

    x = np.array([0.5, -1.0, 2.0])
    w = np.array([1.0, -2.0, 0.5])

    def f(z):
        return np.tanh(z @ w)

    res = m.local_surrogate(f, x, n_samples=50, seed=0)
    scale = Custom([("None", None, T), ("a str", "abc", T), ("a dict", _DICT, T), ("NaN", np.nan, V),
                    ("0", 0.0, V), ("negative", -1.0, V), ("wrong length", np.ones(2), V),
                    ("2-D", np.ones((3, 1)), V), ("a negative entry", np.array([1.0, -1.0, 1.0]), V)])
    return [
        Api("surrogate", "SurrogateResult.predict", res.predict, {"z": x[None]}, {"z": FloatArr(ndim=2, empty=None)},
            pos=1, extra=[_one("z", "wrong number of features", np.ones((2, 2)))]),
        Api("surrogate", "exponential_kernel", m.exponential_kernel, {"distances": np.array([0.0, 1.0, 2.0]),
                                                                      "kernel_width": 1.0},
            {"distances": FloatArr(empty=None), "kernel_width": Number(0, low_open=True)}, pos=2,
            extra=[_one("distances", "negative", np.array([-1.0, 1.0]))]),
        Api("surrogate", "sample_perturbations", m.sample_perturbations,
            {"x": x, "n_samples": 5, "scale": 1.0, "seed": 0},
            {"x": FloatArr(ndim=1, empty=np.zeros(0)), "n_samples": Int(1), "scale": scale,
             "seed": _seed_kind(True)}, pos=2),
        Api("surrogate", "local_surrogate", m.local_surrogate,
            {"predict_fn": f, "x": x, "n_samples": 50, "kernel_width": None, "scale": 1.0, "alpha": 1.0,
             "target": None, "seed": 0},
            {"predict_fn": Func(), "x": FloatArr(ndim=1, empty=np.zeros(0)), "n_samples": Int(2),
             "kernel_width": Number(0, low_open=True, optional=True), "scale": scale, "alpha": Number(0),
             "target": Int(0, optional=True), "seed": _seed_kind(True)}, pos=2,
            extra=[_one("target", "too large", 1), _one("kernel_width", "so small that every weight is 0", 1e-200)]),
        Api("surrogate", "effective_sample_size", m.effective_sample_size, {"weights": np.array([0.5, 1.0, 0.0])},
            {"weights": FloatArr(ndim=1, empty=np.zeros(0))}, pos=1,
            extra=[_one("weights", "all zero", np.zeros(3)), _one("weights", "negative", np.array([1.0, -1.0]))]),
    ]


def _feature_importance() -> list[Api]:
    from xai_tutorial import feature_importance as m

    g = _rng(11)
    X = g.normal(size=(6, 3))
    w = np.array([1.0, -2.0, 0.0])
    y = X @ w + 0.1 * g.normal(size=6)

    def predict(X):
        return X @ w

    def neg_mse(y, p):
        return -float(np.mean((y - p) ** 2))

    y_bad = Custom([("None", None, T), ("a str", "abc", T), ("a dict", _DICT, T), ("2-D", y[:, None], V),
                    ("wrong length", y[:5], V), ("NaN", np.r_[np.nan, y[1:]], V)])
    seed = Custom([("a str", "abc", T), ("a float", 1.5, T), ("a bool", True, T), ("a dict", _DICT, T),
                   ("-1", -1, V), ("2**32 (too large)", 2**32, V)])
    alphas = np.array([1.0, 0.5, 0.1])
    coefs = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 2.0]])
    return [
        Api("feature_importance", "permutation_importance", m.permutation_importance,
            {"predict_fn": predict, "X": X, "y": y, "scoring": neg_mse, "n_repeats": 2, "seed": 0},
            {"predict_fn": Func(), "X": FloatArr(ndim=2), "y": y_bad, "scoring": Func(short=False),
             "n_repeats": Int(1), "seed": seed}, pos=3,
            extra=[_one("scoring", "a function returning a str", lambda y, p: "abc", T)]),
        Api("feature_importance", "permutation_indices", m.permutation_indices,
            {"n_samples": 5, "n_repeats": 2, "seed": 0},
            {"n_samples": Int(1), "n_repeats": Int(1), "seed": Int(0, 2**32 - 1)}, pos=3),
        Api("feature_importance", "soft_threshold", m.soft_threshold,
            {"z": np.array([-2.0, 0.1, 3.0]), "threshold": 0.5},
            {"z": FloatArr(empty=None), "threshold": Number(0)}, pos=2),
        Api("feature_importance", "lasso_coordinate_descent", m.lasso_coordinate_descent,
            {"X": X, "y": y, "alpha": 0.1, "max_iter": 100, "tol": 1e-8},
            {"X": FloatArr(ndim=2), "y": FloatArr(ndim=1), "alpha": Number(0), "max_iter": Int(1), "tol": Number(0)},
            pos=3, extra=[_pair("X", "y", y[:5], "one target per row")]),
        Api("feature_importance", "lasso_entry_alphas", m.lasso_entry_alphas, {"alphas": alphas, "coefs": coefs},
            {"alphas": FloatArr(ndim=1), "coefs": FloatArr(ndim=2, empty=None)}, pos=2,
            extra=[_pair("alphas", "coefs", coefs[:, :2], "one coefficient per alpha")]),
    ]


def _gradient_attribution() -> list[Api]:
    from xai_tutorial import gradient_attribution as m

    fn = _mlp()
    x = _rng(12).normal(size=(2, 3))
    aux = Custom([("a str", "abc", T), ("a dict", _DICT, T), ("an int", 3, T), ("a list holding None", [None], T),
                  ("an array of the wrong batch size", np.zeros((3, 2)), V), ("a list of str arrays",
                                                                               [np.full((2, 1), "a")], T)])
    base = {"fn": fn, "x": x, "target": 1, "aux": None}
    kinds = {"fn": Func(), "x": FloatArr(min_ndim=2), "target": Target(2, 2), "aux": aux}
    baseline = Custom([("a str", "abc", T), ("a dict", _DICT, T), ("NaN (a number)", float("nan"), V),
                       ("NaN (an array)", np.full(3, np.nan), V), ("wrong shape", np.zeros(4), V),
                       ("an array of str", np.full(3, "a"), T), ("a bool", True, T)])
    extra = [_one("fn", "a function whose output does not depend on x", lambda t: tf.zeros((2, 2)) + 0 * 1.0),
             _one("fn", "a function returning a 3-D output", lambda t: tf.zeros((2, 2, 2)) + tf.reduce_sum(t))]
    return [
        Api("gradient_attribution", "gradients", m.gradients, base, kinds, pos=2, extra=extra),
        Api("gradient_attribution", "gradient_x_input", m.gradient_x_input, base, kinds, pos=2, extra=extra),
        Api("gradient_attribution", "integrated_gradients", m.integrated_gradients,
            {**base, "baseline": None, "steps": 4, "method": "trapezoid", "max_rows": 64},
            {**kinds, "baseline": baseline, "steps": Int(1), "method": Choice(), "max_rows": Int(1)}, pos=2,
            extra=extra),
        Api("gradient_attribution", "model_output", m.model_output, base, kinds, pos=2, extra=extra[1:]),
        Api("gradient_attribution", "completeness_gap", m.completeness_gap,
            {"fn": fn, "x": x, "attributions": np.ones_like(x), "baseline": None, "target": 1, "aux": None},
            {**kinds, "attributions": FloatArr(min_ndim=2, empty=None), "baseline": baseline}, pos=3,
            extra=[_pair("x", "attributions", np.ones((2, 2)))]),
        Api("gradient_attribution", "smoothgrad", m.smoothgrad,
            {**base, "noise_level": 0.15, "n_samples": 3, "seed": 0, "value_range": None, "max_rows": 64},
            {**kinds, "noise_level": Number(low=0.0), "n_samples": Int(1), "seed": Int(0),
             "value_range": Custom([("a str", "abc", T), ("one number", 1.0, T), ("reversed bounds", (1.0, 0.0), V),
                                    ("NaN bounds", (float("nan"), 1.0), V)]),
             "max_rows": Int(1)}, pos=2, extra=extra),
        Api("gradient_attribution", "blurred_baseline", m.blurred_baseline,
            {"x": _rng(13).uniform(size=(2, 4, 4)), "sigma": 1.0, "image_shape": None},
            {"x": FloatArr(min_ndim=3), "sigma": Number(low=0.0, low_open=True),
             "image_shape": Custom([("a str", "abc", T), ("one number", 4, T),
                                    ("3 values that do not fit", (2, 2, 2), V), ("a zero size", (0, 16), V)])},
            pos=1),
        Api("gradient_attribution", "uniform_baseline", m.uniform_baseline,
            {"x": x, "low": 0.0, "high": 1.0, "seed": 0},
            {"x": FloatArr(min_ndim=2), "low": Number(), "high": Number(), "seed": Int(0)}, pos=1,
            extra=[_pair("low", "high", -1.0, "high below low")]),
        Api("gradient_attribution", "expected_gradients", m.expected_gradients,
            {**base, "references": _rng(14).normal(size=(5, 3)), "n_samples": 4, "seed": 0, "max_rows": 64},
            {**kinds, "references": FloatArr(min_ndim=2), "n_samples": Int(1), "seed": Int(0), "max_rows": Int(1)},
            pos=2, extra=extra + [_pair("x", "references", np.zeros((5, 4)))]),
        Api("gradient_attribution", "grad_cam", m.grad_cam,
            {"model": _cnn(), "x": _rng(15).uniform(size=(2, 6, 6, 1)), "layer": "conv", "target": 1,
             "relu": True, "upsample": True},
            {"model": Obj(), "x": FloatArr(ndim=4), "layer": Custom([("a str that names no layer", "no-such", V),
                                                                   ("an int", 3, T), ("None", None, T),
                                                                   ("a dense layer's name", "out", V)]),
             "target": Target(2, 2), "relu": Bool(), "upsample": Bool()}, pos=2,
            extra=[_one("x", "images of another size", np.zeros((2, 5, 5, 1)))]),
    ]


@cache
def _cnn() -> keras.Model:
    """6x6x1 images -> 2 softmax outputs through a named 3x3 convolution and global average pooling."""
    inputs = keras.Input((6, 6, 1))
    h = keras.layers.Conv2D(3, 3, activation="relu", kernel_initializer=_init(3), name="conv")(inputs)
    h = keras.layers.GlobalAveragePooling2D()(h)
    out = keras.layers.Dense(2, activation="softmax", kernel_initializer=_init(4), name="out")(h)
    return keras.Model(inputs, out, name="tiny_cnn")


def _perturbation() -> list[Api]:
    from xai_tutorial import perturbation as m

    x = IDS[:3]
    valid = x != 0
    scores = _rng(13).normal(size=x.shape)
    xs = Custom([("None", None, T), ("a str", "abc", T), ("a dict", _DICT, T),
                 ("an array of str", np.full(x.shape, "a"), T), ("1-D", x[0], V),
                 ("no examples", np.zeros((0, 6), int), V), ("no positions", np.zeros((3, 0), int), V),
                 ("NaN", np.where(valid, x, np.nan), V)])
    common = {"predict_fn": Func(), "x": xs, "valid": BoolArr(), "fill_value": Number(),
              "target": Target(3, 2)}
    args = {"predict_fn": token_model, "x": x, "scores": scores, "valid": valid, "fill_value": 0}
    fractions = Custom([("None", None, T), ("a str", "abc", T), ("a dict", _DICT, T), ("empty", [], V),
                        ("0", [0.0, 0.5], V), ("above 1", [0.5, 1.5], V), ("NaN", [np.nan], V), ("2-D", [[0.5]], V)])
    curve_extra = [_pair("x", "scores", scores[:, :5]), _pair("scores", "valid", valid[:, :5]),
                   _one("fill_value", "0.5 in integer token ids", 0.5),
                   _one("predict_fn", "a function returning values outside [0, 1]", lambda ids: token_model(ids) + 2),
                   _one("valid", "an example without a valid position", np.vstack([valid[:2], [False] * 6]))]
    curve_kinds = {**common, "scores": FloatArr(ndim=2), "steps": Int(1)}
    aopc_kinds = {**common, "scores": FloatArr(ndim=2), "fractions": fractions}
    return [
        Api("perturbation", "occlusion", m.occlusion,
            {"predict_fn": token_model, "x": x, "fill_value": 0, "valid": valid, "target": None}, common, pos=2,
            extra=[_one("fill_value", "0.5 in integer token ids", 0.5), _pair("x", "valid", valid[:, :5])]),
        Api("perturbation", "deletion_curve", m.deletion_curve, {**args, "steps": 3, "target": None}, curve_kinds,
            pos=3, extra=curve_extra),
        Api("perturbation", "insertion_curve", m.insertion_curve, {**args, "steps": 3, "target": None}, curve_kinds,
            pos=3, extra=curve_extra),
        Api("perturbation", "curve_auc", m.curve_auc, {"curve": np.array([[1.0, 0.5, 0.0]])},
            {"curve": FloatArr(ndim=(1, 2), empty=np.zeros(0))}, pos=1,
            extra=[_one("curve", "a single point", np.ones((2, 1)))]),
        Api("perturbation", "comprehensiveness", m.comprehensiveness,
            {**args, "fractions": (0.2, 0.5), "target": None}, aopc_kinds, pos=3, extra=curve_extra),
        Api("perturbation", "sufficiency", m.sufficiency,
            {**args, "fractions": (0.2, 0.5), "target": None}, aopc_kinds, pos=3, extra=curve_extra),
    ]


def _activations() -> list[Api]:
    from xai_tutorial import activations as m

    model = _mlp()
    x = _rng(14).normal(size=(4, 3))
    names = Custom([("a str that is no layer", "nope", V), ("an int", 3, T), ("a list holding an int", [3], T),
                    ("a dict", _DICT, T), ("an empty list", [], V), ("a list holding None", [None], T)])
    image_shape = Custom([("a str", "ab", T), ("a 1-tuple", (9,), V), ("the wrong size", (2, 2), V),
                          ("a float size", (3, 3.0), T), ("negative sizes", (-3, -3), V), ("an int", 9, T),
                          ("None (needed for a Dense kernel)", None, E)])
    bounds = Custom([("a str", "ab", T), ("one number", (0.0,), V), ("low above high", (1.0, 0.0), V),
                     ("NaN", (np.nan, 1.0), V), ("str bounds", ("a", "b"), T), ("an int", 3, T),
                     ("inf", (0.0, np.inf), V)])
    units = IntArr(ndim=(0, 1), low=0, high=3, empty=None)  # the hidden layer has 4 units
    return [
        Api("activations", "layer_activations", m.layer_activations,
            {"model": model, "x": x, "layer_names": ["hidden"], "batch_size": 2},
            {"model": Obj(), "x": FloatArr(ndim=2, empty=None), "layer_names": names, "batch_size": Int(1)}, pos=3,
            extra=[_one("x", "wrong number of features", x[:, :2]),
                   _one("x", "two inputs for a one-input model", [x, x])]),
        Api("activations", "weights_as_images", m.weights_as_images,
            {"kernel": np.zeros((9, 2)), "image_shape": (3, 3)},
            {"kernel": FloatArr(ndim=(2, 4), empty=None), "image_shape": image_shape}, pos=2,
            extra=[_one("kernel", "a Conv2D kernel with 2 input channels", np.zeros((3, 3, 2, 4)))]),
        Api("activations", "top_activating_examples", m.top_activating_examples, {"activations": x, "k": 2},
            {"activations": FloatArr(ndim=2, empty=np.zeros((0, 3))), "k": Int(1, 4)}, pos=2),
        Api("activations", "maximize_activation", m.maximize_activation,
            {"model": model, "units": np.array([0, 1]), "start": np.zeros((2, 3)), "layer_name": "hidden",
             "steps": 2, "learning_rate": 0.1, "l2": 0.0, "bounds": (-1.0, 1.0)},
            {"model": Obj(), "units": units, "start": FloatArr(min_ndim=2), "layer_name": Str(optional=True),
             "steps": Int(1), "learning_rate": Number(0), "l2": Number(0), "bounds": bounds}, pos=3,
            extra=[_one("layer_name", "no such layer", "nope"), _pair("units", "start", np.zeros((3, 3)),
                                                                     "one unit per start input"),
                   _one("units", "beyond the layer's units", np.array([0, 4]))]),
    ]


def _plotting() -> list[Api]:
    from xai_tutorial import plotting as m

    tokens = ["a", "good", "film"]
    scores = np.array([0.1, -0.5, 0.3])
    ax = Obj(optional=True)
    title = Str(optional=True)
    cmap = Str(optional=True)
    img = _rng(15).uniform(size=(4, 4))
    return [
        Api("plotting", "plot_token_heatmap", m.plot_token_heatmap,
            {"tokens": tokens, "scores": scores, "ax": None, "title": "t", "diverging": None, "vmax": None,
             "highlight": np.array([False, True, False]), "cmap": None},
            {"tokens": StrSeq(), "scores": FloatArr(ndim=1, empty=None), "ax": ax, "title": title,
             "diverging": Bool(optional=True), "vmax": Number(0, low_open=True, optional=True),
             "highlight": BoolArr(), "cmap": cmap}, pos=2,
            extra=[_pair("tokens", "scores", scores[:2]), _one("cmap", "an unknown colour map", "no-such-cmap")]),
        Api("plotting", "plot_attention_matrix", m.plot_attention_matrix,
            {"weights": np.full((2, 3), 1 / 3), "x_labels": ["a", "b", "c"], "y_labels": ["q", "r"], "ax": None,
             "title": "t", "annotate": False},
            {"weights": FloatArr(ndim=2), "x_labels": StrSeq(optional=True), "y_labels": StrSeq(optional=True),
             "ax": ax, "title": title, "annotate": Bool()}, pos=1),
        Api("plotting", "plot_image_attribution", m.plot_image_attribution,
            {"image": img, "attribution": img[:2, :2], "ax": None, "title": "t", "alpha": 0.6},
            {"image": FloatArr(ndim=2), "attribution": FloatArr(ndim=2, optional=True, empty=None), "ax": ax,
             "title": title, "alpha": Number(0, 1)}, pos=2,
            extra=[_pair("image", "attribution", img[:3, :3], "a shape that does not divide the image")]),
    ]


def _widgets() -> list[Api]:
    from xai_tutorial import widgets as m

    texts = _planted()
    n = len(texts)
    probs = np.linspace(0.1, 0.9, n)
    weights = texts.padding_mask / texts.padding_mask.sum(axis=1, keepdims=True)
    tokens = ["a", "good", "film"]
    label_names = Custom([("None", None, T), ("a str", "ab", T), ("one name", ("a",), V), ("a name that is no str",
                                                                                             ("a", 3), T),
                          ("an int", 3, T), ("three names", ("a", "b", "c"), V)])
    ex_kinds = {"texts": Obj(), "probs": FloatArr(ndim=(1, 2), empty=None), "weights": FloatArr(ndim=2, empty=None),
                "threshold": Number(0, 1, low_open=True, high_open=True), "label_names": label_names}
    ex_extra = [_pair("texts", "probs", probs[:-1], "one probability per example"),
                _one("probs", "outside [0, 1]", probs + 1), _pair("texts", "weights", weights[:, :-1])]
    return [
        Api("widgets", "attention_html", m.attention_html,
            {"tokens": tokens, "weights": np.array([0.2, 0.5, 0.3]), "highlight": np.array([False, True, False]),
             "vmax": None, "cmap": "Oranges", "decimals": 3},
            {"tokens": StrSeq(), "weights": FloatArr(ndim=1, empty=None), "highlight": BoolArr(),
             "vmax": Number(0, low_open=True, optional=True), "cmap": Str(), "decimals": Int(0, 10)}, pos=2,
            extra=[_pair("tokens", "weights", np.array([0.2, 0.8])),
                   _one("weights", "negative", np.array([-1.0, 0, 0])),
                   _one("cmap", "an unknown colour map", "no-such-cmap")]),
        Api("widgets", "example_header_html", m.example_header_html,
            {"index": 3, "prob": 0.7, "label": 1, "threshold": 0.5, "label_names": ("negative", "positive")},
            {"index": Int(0), "prob": Number(0, 1), "label": Int(0, 1),
             "threshold": Number(0, 1, low_open=True, high_open=True), "label_names": label_names}, pos=3),
        Api("widgets", "token_attention_explorer", m.token_attention_explorer,
            {"texts": texts, "probs": probs, "weights": weights, "threshold": 0.5,
             "label_names": ("negative", "positive")}, ex_kinds, pos=3, extra=ex_extra),
        Api("widgets", "plot_attention_examples", m.plot_attention_examples,
            {"texts": texts, "probs": probs, "weights": weights, "indices": [0, 2], "threshold": 0.5,
             "label_names": ("negative", "positive"), "title": "t", "vmax": None, "max_tokens": 10},
            {**ex_kinds, "indices": IntArr(ndim=1, low=0, high=n - 1, empty=np.zeros(0, int)),
             "title": Str(optional=True), "vmax": Number(0, low_open=True, optional=True),
             "max_tokens": Int(1)}, pos=4, extra=ex_extra),
    ]


def _reproducibility() -> list[Api]:
    from xai_tutorial import reproducibility as m

    # never called with the valid arguments: that would seed and reconfigure TensorFlow for every later test
    return [Api("reproducibility", "set_seed", m.set_seed, {"seed": 0, "deterministic_ops": False},
                {"seed": Int(0, 2**32 - 1), "deterministic_ops": Bool()}, pos=1, run_valid=False)]


def _softmax_predict(X):
    """A fixed linear-softmax model of 2 features and 2 classes (numpy), shape (n, 2)."""
    z = np.asarray(X, dtype=np.float64) @ np.array([[1.0, -1.0], [-0.5, 0.5]])
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _counterfactuals() -> list[Api]:
    from xai_tutorial import counterfactuals as m

    X = _rng(16).normal(size=(12, 2))
    y = np.arange(12) % 2
    x = np.array([1.0, -0.5])
    vec = FloatArr(ndim=1, empty=np.zeros(0))
    cand = np.array([9, 10, 11])
    return [
        Api("counterfactuals", "median_absolute_deviation", m.median_absolute_deviation, {"X": X},
            {"X": FloatArr(ndim=2)}, pos=1),
        Api("counterfactuals", "n_changed", m.n_changed, {"x": x, "x_cf": x + [0.5, 0.0], "tol": 1e-3},
            {"x": vec, "x_cf": vec, "tol": Number(0)}, pos=2, extra=[_pair("x", "x_cf", np.zeros(3))]),
        Api("counterfactuals", "wachter_counterfactual", m.wachter_counterfactual,
            {"predict": _softmax_predict, "x": x, "X_reference": X, "target": 1, "desired": 0.6,
             "distance": "mad_l1", "scale": "logit", "lam": None, "lam_factor": 2.0, "max_rounds": 4,
             "n_iter": 20, "tol": 1e-6, "fd_step": 1e-5},
            {"predict": Func(), "x": vec, "X_reference": FloatArr(ndim=2), "target": Int(0, 1),
             "desired": Number(0, 1, low_open=True, high_open=True), "distance": Choice(), "scale": Choice(),
             "lam": Number(0, low_open=True, optional=True), "lam_factor": Number(1, low_open=True),
             "max_rounds": Int(1), "n_iter": Int(1), "tol": Number(0, low_open=True),
             "fd_step": Number(0, low_open=True)}, pos=3,
            extra=[_pair("x", "X_reference", X[:, :1], "different numbers of features"),
                   _one("predict", "a function returning one class", lambda X: _softmax_predict(X)[:, :1]),
                   _one("predict", "a function returning probabilities above 1",
                        lambda X: _softmax_predict(X) + 1.0)]),
        Api("counterfactuals", "linear_counterfactual", m.linear_counterfactual,
            {"w": np.array([1.0, 2.0]), "b": 0.5, "x": x, "level": 0.0},
            {"w": vec, "b": Number(), "x": vec, "level": Number()}, pos=3,
            extra=[_one("w", "all zero", np.zeros(2)), _pair("w", "x", np.zeros(3))]),
        Api("counterfactuals", "plausibility", m.plausibility,
            {"x_cf": x, "X_reference": X, "y_reference": y, "target": 1, "n_neighbors": 3},
            {"x_cf": FloatArr(ndim=(1, 2), empty=np.zeros(0)), "X_reference": FloatArr(ndim=2),
             "y_reference": IntArr(ndim=1), "target": Int(), "n_neighbors": Int(1, 5)}, pos=3,
            extra=[_pair("x_cf", "X_reference", X[:, :1], "different numbers of features"),
                   _pair("X_reference", "y_reference", y[:5], "one label per row"),
                   _one("target", "a class not in y_reference", 5)]),
        Api("counterfactuals", "token_substitution_counterfactual", m.token_substitution_counterfactual,
            {"predict": token_model, "token_ids": IDS[0], "candidates": cand, "max_substitutions": 2,
             "search": "greedy", "target": None, "threshold": 0.5, "pad_id": 0, "max_evaluations": 1000},
            {"predict": Func(), "token_ids": IntArr(ndim=1, low=0, empty=np.zeros(0, int)),
             "candidates": IntArr(ndim=1, low=0, empty=np.zeros(0, int)), "max_substitutions": Int(1, 3),
             "search": Choice(), "target": Target(1), "threshold": Number(), "pad_id": Int(0),
             "max_evaluations": Int(1)}, pos=3,
            extra=[_one("candidates", "a repeated id", np.array([9, 9])),
                   _one("candidates", "the padding id", np.array([0, 9])),
                   _one("token_ids", "padding only", np.zeros(6, int)),
                   ("max_evaluations: below an exact search's size", {"search": "exact", "max_evaluations": 2}, V,
                    ("max_evaluations", "search")),
                   _one("predict", "a function returning 2 outputs per sentence",
                        lambda ids: np.stack([token_model(ids)] * 2, axis=1), V, also=("target",))]),
    ]


def _negation_data() -> list[Api]:
    from xai_tutorial import negation_data as m

    d = m.make_negation_text(6, seq_len=6, min_len=4, seed=0)
    index = Custom([("None", None, T), ("a str", "abc", T), ("a dict", _DICT, T), ("a float", 1.5, T),
                    ("non-integer floats", [0.5, 1.0], T), ("out of range", [0, 9], V),
                    ("a bool mask of the wrong length", np.array([True, False]), V),
                    ("a 2-D index", np.array([[0, 1]]), V)])
    return [
        Api("negation_data", "make_negation_text", m.make_negation_text,
            {"n_samples": 6, "seq_len": 6, "min_len": 4, "negation_rate": 0.3, "distractor_rate": 0.2, "seed": 0},
            {"n_samples": Int(2), "seq_len": Int(3), "min_len": Int(3, 6), "negation_rate": Number(0, 1),
             "distractor_rate": Number(0, 1), "seed": Int(0)}, pos=2),
        Api("negation_data", "NegationText.subset", d.subset, {"index": np.array([0, 2])}, {"index": index}, pos=1),
    ]


@cache
def _tr():
    from xai_tutorial import transformer

    return transformer.build_text_transformer(VOCAB_SIZE, SEQ_LEN, dim=8, depth=1, heads=2, mlp_dim=8, seed=0)


@cache
def _train_tr():
    """A transformer of its own for the training and re-initialising calls (they change the weights)."""
    from xai_tutorial import transformer

    return transformer.build_text_transformer(VOCAB_SIZE, SEQ_LEN, dim=8, depth=1, heads=2, mlp_dim=8, seed=1)


def _transformer() -> list[Api]:
    from xai_tutorial import transformer as m

    tr = _tr()
    ids = IntArr(ndim=2, low=0, high=VOCAB_SIZE - 1, empty=None)
    seq = [_one("token_ids", "wrong seq_len", IDS[:, :5])]
    labels = np.array([1, 0, 1, 0])
    return [
        Api("transformer", "TextTransformer.predict_proba", tr.predict_proba, {"token_ids": IDS, "batch_size": 2},
            {"token_ids": ids, "batch_size": Int(1)}, pos=1, extra=seq),
        Api("transformer", "TextTransformer.predict", tr.predict, {"token_ids": IDS}, {"token_ids": ids}, pos=1,
            extra=seq),
        Api("transformer", "TextTransformer.attention_maps", tr.attention_maps, {"token_ids": IDS, "batch_size": 2},
            {"token_ids": ids, "batch_size": Int(1)}, pos=1, extra=seq),
        Api("transformer", "TextTransformer.layer_inputs", tr.layer_inputs, {"token_ids": IDS, "batch_size": 2},
            {"token_ids": ids, "batch_size": Int(1)}, pos=1, extra=seq),
        Api("transformer", "check_token_ids", m.check_token_ids, {"token_ids": IDS, "tr": tr, "name": "token_ids"},
            {"token_ids": ids, "tr": Obj(), "name": Str()}, pos=2, extra=seq),
        Api("transformer", "sincos_positions", m.sincos_positions, {"n": 4, "dim": 6, "max_period": 100.0},
            {"n": Int(1), "dim": Int(2), "max_period": Number(1, low_open=True)}, pos=2),
        Api("transformer", "build_text_transformer", m.build_text_transformer,
            {"vocab_size": VOCAB_SIZE, "seq_len": SEQ_LEN, "n_classes": 2, "dim": 8, "depth": 1, "heads": 2,
             "mlp_dim": None, "position_init": "sincos", "seed": 0},
            {"vocab_size": Int(2), "seq_len": Int(1), "n_classes": Int(1), "dim": Int(1), "depth": Int(1),
             "heads": Int(1, big=(3,)), "mlp_dim": Int(1, optional=True), "position_init": Choice(),
             "seed": Int(0)}, pos=2,
            extra=[("position_init: 'sincos' with dim=1", {"dim": 1, "heads": 1, "position_init": "sincos"}, V,
                    ("position_init", "dim"))]),
        Api("transformer", "reset_weights", m.reset_weights, {"tr": _train_tr(), "seed": 1, "position_init": "sincos"},
            {"tr": Obj(), "seed": Int(0), "position_init": Choice()}, pos=2),
        Api("transformer", "train_text_transformer", m.train_text_transformer,
            {"tr": _train_tr(), "token_ids": IDS, "labels": labels, "epochs": 1, "batch_size": 4,
             "learning_rate": 3e-3, "seed": 0, "validation_split": 0.0},
            {"tr": Obj(), "token_ids": ids, "labels": IntArr(ndim=1, low=0, high=1), "epochs": Int(1),
             "batch_size": Int(1), "learning_rate": Number(0, low_open=True), "seed": Int(0),
             "validation_split": Number(0, 1, high_open=True)}, pos=3,
            extra=seq + [_pair("token_ids", "labels", labels[:3], "one label per sequence")]),
    ]


def _transformer_attribution() -> list[Api]:
    from xai_tutorial import transformer_attribution as m

    tr = _tr()
    vit = _vit()
    vk = {"model": Obj(), "inputs": FloatArr(ndim=3, empty=None)}
    g = _rng(17)
    att = g.uniform(size=(2, 2, 2, 4, 4))
    att = list(att / att.sum(axis=-1, keepdims=True))
    grads = list(g.normal(size=(2, 2, 2, 4, 4)))
    maps = Custom([
        ("None", None, T), ("a str", "abc", T), ("a dict", _DICT, T), ("an int", 3, T), ("an empty list", [], V),
        ("a NaN layer", [att[0], att[1] * np.nan], V), ("a 3-D layer", [att[0][0]], V),
        ("non-square maps", [a[..., :3] for a in att], V), ("negative weights", [att[0], -att[1]], V),
        ("layers of different shapes", [att[0], att[1][:, :, :3, :3]], V),
        ("a layer of str", [np.full((2, 2, 4, 4), "a")], T), ("a 4-D array", att[0], V),
    ])
    grads_kind = Custom([
        ("None", None, T), ("a str", "abc", T), ("a dict", _DICT, T), ("an int", 3, T),
        ("one layer too few", grads[:1], V), ("a NaN layer", [grads[0], grads[1] * np.nan], V),
        ("a layer of another shape", [grads[0], grads[1][..., :3]], V),
        ("a layer of str", [np.full((4, 4), "a")] * 2, T),
    ])
    cap = np.array([[0, 2.0, 1.0, 0], [0, 0, 1.0, 1.0], [0, 0, 0, 2.0], [0, 0, 0, 0]])
    w = att[0]
    f = g.normal(size=(2, 2, 4, 3))
    trk = {"model": Obj(), "inputs": IntArr(ndim=2, low=0, high=VOCAB_SIZE - 1, empty=None)}
    seq = [_one("inputs", "wrong seq_len", IDS[:, :5])]
    target = Target(4, 2, optional=False)
    no_target = [_one("target", "None for a model of 2 classes", None)]
    layer = Int(-1, 0)
    head = Custom([("None", None, T), ("a float", 0.5, T), ("a bool", True, T), ("a list", [0], T),
                   ("an unknown name", "no-such-mode", V), ("2 (above range)", 2, V), ("-1 (below range)", -1, V)])
    valid = np.ones((2, 4), dtype=bool)
    valid[1, 3] = False
    return [
        Api("transformer_attribution", "max_flow_value", m.max_flow_value,
            {"capacity": cap, "source": 0, "sink": 3, "tol": 1e-12},
            {"capacity": FloatArr(ndim=2, empty=None), "source": Int(0, 3), "sink": Int(0, 3), "tol": Number(0)},
            pos=3, extra=[_one("capacity", "not square", cap[:3]), _one("capacity", "negative", -cap),
                          _pair("source", "sink", 0, "the same node")]),
        Api("transformer_attribution", "attention_graph", m.attention_graph,
            {"attentions": att, "residual_weight": 0.5},
            {"attentions": maps, "residual_weight": Number(0, 1)}, pos=1,
            extra=[("attentions/residual_weight: a row of zeros and no residual",
                    {"attentions": [att[0], np.zeros_like(att[1])], "residual_weight": 0.0}, V,
                    ("attentions", "residual_weight"))]),
        Api("transformer_attribution", "attention_flow_values", m.attention_flow_values,
            {"attentions": att, "output": 0, "residual_weight": 0.5, "normalize": False, "valid": valid},
            {"attentions": maps, "output": Int(0, 3), "residual_weight": Number(0, 1), "normalize": Bool(),
             "valid": BoolArr()}, pos=1,
            extra=[_one("valid", "False at the output token", ~valid)]),
        Api("transformer_attribution", "chefer_relevance_matrix", m.chefer_relevance_matrix,
            {"attentions": att, "gradients": grads}, {"attentions": maps, "gradients": grads_kind}, pos=2),
        Api("transformer_attribution", "value_norm_matrix", m.value_norm_matrix,
            {"weights": w, "transformed": f, "heads": "sum"},
            {"weights": FloatArr(ndim=4), "transformed": FloatArr(ndim=4, empty=None), "heads": Choice()}, pos=2,
            extra=[_one("weights", "not square", w[..., :3]), _one("weights", "negative", -w),
                   _pair("weights", "transformed", f[:, :1], "another number of heads")]),
        Api("transformer_attribution", "attention_gradients", m.attention_gradients,
            {"model": tr, "inputs": IDS, "target": 1, "batch_size": 2},
            {**trk, "target": target, "batch_size": Int(1)}, pos=2, extra=seq + no_target),
        Api("transformer_attribution", "transformed_values", m.transformed_values,
            {"model": tr, "inputs": IDS, "layer": -1}, {**trk, "layer": layer}, pos=2, extra=seq),
        Api("transformer_attribution", "raw_attention", m.raw_attention,
            {"model": tr, "inputs": IDS, "layer": -1, "head": "mean"}, {**trk, "layer": layer, "head": head}, pos=2,
            extra=seq),
        Api("transformer_attribution", "rollout", m.rollout, {"model": tr, "inputs": IDS, "residual_weight": 0.5},
            {**trk, "residual_weight": Number(0, 1)}, pos=2, extra=seq),
        Api("transformer_attribution", "attention_flow", m.attention_flow,
            {"model": tr, "inputs": IDS[:2], "residual_weight": 0.5, "normalize": False},
            {**trk, "residual_weight": Number(0, 1), "normalize": Bool()}, pos=2, extra=seq),
        Api("transformer_attribution", "chefer_relevance", m.chefer_relevance,
            {"model": tr, "inputs": IDS, "target": 1}, {**trk, "target": target}, pos=2, extra=seq + no_target),
        Api("transformer_attribution", "value_norms", m.value_norms,
            {"model": tr, "inputs": IDS, "layer": -1, "head": "sum"}, {**trk, "layer": layer, "head": head}, pos=2,
            extra=seq),
        Api("transformer_attribution", "attn_lrp", m.attn_lrp,
            {"model": tr, "inputs": IDS, "target": 1, "parts": False, "batch_size": 2},
            {**trk, "target": target, "parts": Bool(), "batch_size": Int(1)}, pos=2, extra=seq + no_target),
        # the same methods on the tiny ViT: patches instead of token ids
        *[Api("transformer_attribution", f"{name} (ViT)", getattr(m, name), {"model": vit, "inputs": PATCHES, **more},
              {**vk, **kinds}, pos=2, extra=[_one("inputs", "wrong number of patches", PATCHES[:, :3])])
          for name, more, kinds in [
              ("raw_attention", {}, {}), ("rollout", {}, {}), ("attention_flow", {}, {}),
              ("value_norms", {"layer": 0}, {"layer": Int(-1, 0)}),
              ("chefer_relevance", {"target": 2}, {"target": Target(3, 3, optional=False)}),
              ("attn_lrp", {"target": 2, "batch_size": 2},
               {"target": Target(3, 3, optional=False), "batch_size": Int(1)}),
          ]],
    ]


#: Corrupted inputs for the patching calls: other tokens, padding at the same positions as IDS.
CORRUPTED = np.where(IDS != 0, (IDS + 4) % (VOCAB_SIZE - 1) + 1, 0).astype(np.int32)


def _mechanistic() -> list[Api]:
    from xai_tutorial import mechanistic as m

    tr = _tr()
    ids = IntArr(ndim=2, low=0, high=VOCAB_SIZE - 1, empty=None)
    trk = {"tr": Obj(), "token_ids": ids}
    seq = [_one("token_ids", "wrong seq_len", IDS[:, :5])]
    pair = {"tr": Obj(), "clean_ids": ids, "corrupted_ids": ids}
    pair_bad = [
        _one("clean_ids", "wrong seq_len", IDS[:, :5]),
        _pair("clean_ids", "corrupted_ids", CORRUPTED[:3], "different numbers of sequences"),
        _pair("clean_ids", "corrupted_ids", np.where(IDS != 0, CORRUPTED, 1), "padding at other positions"),
    ]
    positions = np.zeros(1 + SEQ_LEN, dtype=bool)
    positions[1:3] = True
    pos_bad = [_one("positions", "one row per sequence, wrong number of rows", np.ones((3, 1 + SEQ_LEN), bool))]
    keep = np.array([[True, False]])
    target = Target(4, 2, optional=False)
    no_target = [_one("target", "None", None, T)]
    same = [("clean_ids/corrupted_ids: the same inputs (nothing to restore)", {"corrupted_ids": IDS}, V,
             ("clean_ids", "corrupted_ids"))]
    g = _rng(19)
    logits = g.normal(size=(4, 2))
    x = np.concatenate([g.normal(-1, 1, (5, 2)), g.normal(1, 1, (5, 2))])
    y = np.repeat([0, 1], 5)
    train = np.tile([True, True, True, False, False], 2)
    return [
        Api("mechanistic", "trace", m.trace, {"tr": tr, "token_ids": IDS}, trk, pos=2, extra=seq),
        Api("mechanistic", "ablate_heads", m.ablate_heads,
            {"tr": tr, "token_ids": IDS, "keep": keep, "method": "mean", "reference_ids": IDS[:2]},
            {**trk, "keep": BoolArr(optional=False), "method": Choice(),
             "reference_ids": IntArr(ndim=2, low=0, high=VOCAB_SIZE - 1, empty=None, optional=True)}, pos=3,
            extra=seq + [_one("keep", "no masks", np.zeros((0, 1, 2), bool)),
                         _one("keep", "4-D", keep[None, None]),
                         _one("reference_ids", "wrong seq_len", IDS[:, :5]),
                         ("reference_ids: given with method='zero'", {"method": "zero", "reference_ids": IDS},
                          V, ("reference_ids", "method"))]),
        Api("mechanistic", "patch_residual", m.patch_residual,
            {"tr": tr, "clean_ids": IDS, "corrupted_ids": CORRUPTED, "layer": 1, "positions": positions},
            {**pair, "layer": Int(0, 1), "positions": BoolArr()}, pos=4, extra=pair_bad + pos_bad),
        Api("mechanistic", "patch_heads", m.patch_heads,
            {"tr": tr, "clean_ids": IDS, "corrupted_ids": CORRUPTED, "layer": 0, "head": 1, "positions": positions},
            {**pair, "layer": Int(0, 0), "head": Int(0, 1), "positions": BoolArr()}, pos=5,
            extra=pair_bad + pos_bad),
        Api("mechanistic", "patching_map", m.patching_map,
            {"tr": tr, "clean_ids": IDS, "corrupted_ids": CORRUPTED, "target": 1},
            {**pair, "target": target}, pos=4, extra=pair_bad + no_target + same),
        Api("mechanistic", "head_patching_map", m.head_patching_map,
            {"tr": tr, "clean_ids": IDS, "corrupted_ids": CORRUPTED, "target": 1, "positions": positions},
            {**pair, "target": target, "positions": BoolArr()}, pos=4, extra=pair_bad + no_target + same + pos_bad),
        Api("mechanistic", "logit_difference", m.logit_difference, {"logits": logits, "target": np.array([1, 0, 1, 0])},
            {"logits": FloatArr(ndim=2), "target": target}, pos=2,
            extra=no_target + [_pair("logits", "target", np.array([1, 0, 1]), "one target per row"),
                               _one("logits", "no class column", np.zeros((4, 0)))]),
        Api("mechanistic", "normalised_effect", m.normalised_effect,
            {"patched": np.array([0.5, 1.0, -1.0]), "corrupted": np.zeros(3), "clean": np.array([1.0, 2.0, -2.0]),
             "min_gap": 1e-9},
            {"patched": FloatArr(empty=None), "corrupted": FloatArr(empty=None), "clean": FloatArr(empty=None),
             "min_gap": Number(0)}, pos=3,
            extra=[_pair("patched", "clean", np.ones(2), "shapes that do not broadcast"),
                   ("clean/corrupted: equal somewhere", {"clean": np.array([1.0, 0.0, -2.0])}, V,
                    ("clean", "corrupted"))]),
        Api("mechanistic", "probe_accuracy", m.probe_accuracy, {"features": x, "labels": y, "train": train, "C": 1.0},
            {"features": FloatArr(ndim=2), "labels": IntArr(ndim=1), "train": BoolArr(optional=False),
             "C": Number(0, low_open=True)}, pos=3,
            extra=[_pair("features", "labels", y[:-1], "one label per row"),
                   _pair("features", "train", train[:-1], "one train flag per row"),
                   _one("train", "all True", np.ones(10, bool)), _one("train", "all False", np.zeros(10, bool)),
                   ("labels/train: one class among the training rows", {"train": y == 1}, V, ("labels", "train"))]),
        Api("mechanistic", "control_task_labels", m.control_task_labels,
            {"word_ids": np.array([5, 7, 5, 9, 7]), "n_labels": 2, "seed": 0},
            {"word_ids": IntArr(ndim=1), "n_labels": Int(2), "seed": Int(0)}, pos=1),
    ]


IND_VOCAB, IND_CONTEXT = 6, 5


@cache
def _ind_tokens() -> np.ndarray:
    from xai_tutorial import induction

    return induction.make_repeated_sequences(6, IND_CONTEXT + 1, IND_VOCAB, min_period=2, max_period=3, seed=0)[0]


@cache
def _ind():
    """A tiny two-layer induction transformer, trained one epoch on a handful of repeated sequences."""
    from xai_tutorial import induction

    net = induction.build_induction_transformer(IND_VOCAB, IND_CONTEXT, dim=8, heads=2, seed=0)
    induction.train_induction_transformer(net, _ind_tokens(), epochs=1, batch_size=6, seed=0)
    return net


@cache
def _train_ind():
    """An induction transformer of its own for the training calls (they change the weights)."""
    from xai_tutorial import induction

    return induction.build_induction_transformer(IND_VOCAB, IND_CONTEXT, dim=8, heads=2, depth=1, seed=1)


def _induction() -> list[Api]:
    from xai_tutorial import induction as m

    net = _ind()
    toks = _ind_tokens()
    tokens = IntArr(ndim=2, low=0, high=IND_VOCAB - 1, empty=None)
    width = [_one("tokens", "context tokens (no next token)", toks[:, :-1]),
             _one("tokens", "one token too many", np.concatenate([toks, toks[:, :1]], axis=1))]
    ablate = Custom([("a str", "abc", T), ("an int", 3, T), ("a dict", _DICT, T), ("a float", 0.5, T),
                     ("a pair not in a list", (1, 0), T), ("a layer out of range", [(2, 0)], V),
                     ("a head out of range", [(0, 2)], V), ("a negative layer", [(-1, 0)], V),
                     ("a float head", [(0, 0.5)], T), ("a str pair", ["ab"], T), ("a triple", [(0, 0, 0)], E)])
    maps = np.asarray(net.attention_maps(toks))[0]  # layer 1, (n, heads, L, L)
    square = FloatArr(ndim=(2, 3, 4), empty=np.zeros((0, 2, IND_CONTEXT, IND_CONTEXT)))
    att_bad = [_one("attention", "not square", maps[..., :-1]), _one("attention", "negative", -maps)]
    return [
        Api("induction", "make_repeated_sequences", m.make_repeated_sequences,
            {"n": 3, "seq_len": 6, "vocab_size": 6, "min_period": 2, "max_period": 3, "seed": 0},
            {"n": Int(1), "seq_len": Int(4), "vocab_size": Int(3), "min_period": Int(2, 3),
             "max_period": Int(2, 5, optional=True), "seed": Int(0)}, pos=3,
            extra=[("max_period: None and vocab_size below seq_len // 2", {"max_period": None, "seq_len": 12,
                                                                           "vocab_size": 5}, V,
                    ("vocab_size", "max_period"))]),
        Api("induction", "build_induction_transformer", m.build_induction_transformer,
            {"vocab_size": 6, "context": 4, "dim": 4, "heads": 2, "depth": 1, "max_period": 100.0, "seed": 0},
            {"vocab_size": Int(2), "context": Int(2), "dim": Int(2), "heads": Int(1, 4, big=(3,)), "depth": Int(1),
             "max_period": Number(1, low_open=True), "seed": Int(0)}, pos=2),
        Api("induction", "train_induction_transformer", m.train_induction_transformer,
            {"net": _train_ind(), "tokens": toks, "epochs": 1, "batch_size": 6, "learning_rate": 1e-2, "seed": 0},
            {"net": Obj(), "tokens": IntArr(ndim=2, low=0, high=IND_VOCAB - 1), "epochs": Int(1),
             "batch_size": Int(1), "learning_rate": Number(0, low_open=True), "seed": Int(0)}, pos=2,
            extra=width),
        Api("induction", "next_token_loss", m.next_token_loss, {"net": net, "tokens": toks, "ablate": [(1, 0)]},
            {"net": Obj(), "tokens": tokens, "ablate": ablate}, pos=2, extra=width),
        Api("induction", "InductionTransformer.attention_maps", net.attention_maps, {"tokens": toks, "batch_size": 4},
            {"tokens": tokens, "batch_size": Int(1)}, pos=1,
            extra=[_one("tokens", "one token too few", toks[:, :-2]),
                   _one("tokens", "two tokens too many", np.concatenate([toks, toks[:, :1]], axis=1))]),
        Api("induction", "previous_token_scores", m.previous_token_scores, {"attention": maps},
            {"attention": square}, pos=1, extra=att_bad + [_one("attention", "one position", np.ones((1, 1)))]),
        Api("induction", "prefix_matching_scores", m.prefix_matching_scores,
            {"attention": maps, "tokens": toks[:, :-1]}, {"attention": square, "tokens": IntArr(ndim=(1, 2))}, pos=2,
            extra=att_bad + [_pair("attention", "tokens", toks[:3, :-1], "another number of sequences"),
                             _pair("attention", "tokens", toks[:, :-2], "another number of positions"),
                             _one("tokens", "no repeated token", np.tile(np.arange(IND_CONTEXT), (len(toks), 1)))]),
    ]


def _seed_run(seed, dataset=None):
    """A tiny experiment: two methods, one metric, per-example scores."""
    g = np.random.default_rng(seed)
    return {"a": {"auc": g.uniform(0.7, 0.9, 4)}, "b": {"auc": g.uniform(0.4, 0.6, 4)}}


def _experiments() -> list[Api]:
    import pandas as pd

    from xai_tutorial import experiments as m

    table = m.run_over_seeds(_seed_run, [0, 1, 2])
    summary = m.summarize(table)
    tables = Custom([("None", None, T), ("a str", "abc", T), ("a dict", _DICT, T), ("an array", np.zeros((2, 3)), T),
                     ("a table without its columns", table[["seed", "method"]], V),
                     ("a table without rows", table.iloc[:0], V)])
    summaries = Custom([("None", None, T), ("a str", "abc", T), ("a dict", _DICT, T),
                        ("a table without its columns", summary[["method", "metric"]], V),
                        ("a table without rows", summary.iloc[:0], V)])
    seeds = Custom([("None", None, T), ("a str", "abc", T), ("an int", 3, T), ("a dict", _DICT, T),
                    ("empty", [], V), ("repeated", [0, 0], V), ("negative", [-1, 0], V), ("floats", [0.5, 1.0], T),
                    ("bools", [True, False], T)])
    datasets = Custom([("a str", "abc", T), ("an int", 3, T), ("a dict", {"x": 1}, T), ("empty", [], V),
                       ("a list of ints", [1, 2], T), ("repeated", ["x", "x"], V)])
    per_seed = Custom([("None", None, T), ("a str", "abc", T), ("an array", np.ones((2, 3)), T), ("empty", [], V),
                       ("a seed of NaN only", [np.ones(3), np.full(3, np.nan)], V),
                       ("a 2-D seed", [np.ones((2, 2))], V), ("a seed of str", [np.full(3, "a")], T),
                       ("an infinite score", [np.array([1.0, np.inf])], V)])
    level = Number(0, 1, low_open=True, high_open=True)
    interval = {"interval": Choice(), "level": level, "n_boot": Int(10), "seed": Int(0)}
    dataset_table = m.run_over_seeds(_seed_run, [0, 1], datasets=["x", "y"])
    return [
        Api("experiments", "run_over_seeds", m.run_over_seeds, {"run": _seed_run, "seeds": [0, 1], "datasets": None},
            {"run": Func(nan=False, short=False), "seeds": seeds, "datasets": datasets}, pos=2,
            extra=[_one("run", "a function returning infinite scores",
                        lambda s, d=None: {"a": {"auc": np.array([1.0, np.inf])}}),
                   _one("run", "a function returning str scores", lambda s, d=None: {"a": {"auc": "high"}}, T),
                   _one("run", "a function returning a list", lambda s, d=None: [0.5], T),
                   _one("run", "a function returning {method: number}", lambda s, d=None: {"a": 0.5}, T),
                   _one("run", "a function returning 2-D scores", lambda s, d=None: {"a": {"auc": np.ones((2, 2))}}),
                   ("run: a function without a dataset argument (datasets given)",
                    {"run": lambda s: _seed_run(s), "datasets": ["x"]}, T, ("run", "datasets"))]),
        Api("experiments", "t_interval", m.t_interval, {"seed_means": np.array([0.5, 0.6, 0.7]), "level": 0.95},
            {"seed_means": FloatArr(ndim=1, nan=False, empty=np.zeros(0)), "level": level}, pos=1,
            extra=[_one("seed_means", "NaN only", np.full(3, np.nan))]),
        Api("experiments", "bootstrap_interval", m.bootstrap_interval,
            {"scores_per_seed": [np.ones(3), np.arange(4.0)], "level": 0.95, "n_boot": 20, "seed": 0},
            {"scores_per_seed": per_seed, "level": level, "n_boot": Int(10), "seed": Int(0)}, pos=1),
        Api("experiments", "summarize", m.summarize,
            {"table": table, "interval": "bootstrap", "level": 0.95, "n_boot": 20, "seed": 0},
            {"table": tables, **interval}, pos=1),
        Api("experiments", "compare", m.compare,
            {"table": table, "metric": "auc", "a": "a", "b": "b", "interval": "bootstrap", "level": 0.95,
             "n_boot": 20, "seed": 0, "dataset": None},
            {"table": tables, "metric": Str(), "a": Str(), "b": Str(), **interval, "dataset": Str(optional=True)},
            pos=4,
            extra=[_one("metric", "not in the table", "no-such-metric"), _one("a", "not in the table", "c"),
                   _one("b", "not in the table", "c"),
                   _one("dataset", "given for a table without data sets", "x"),
                   ("dataset: None for a table of two data sets", {"table": dataset_table}, V, ("dataset",)),
                   ("interval: 'bootstrap' with unpaired examples",
                    {"table": pd.concat([table[table["method"] == "a"],
                                         table[table["method"] == "b"].assign(scores=[np.ones(2)] * 3)])},
                    V, ("interval",))]),
        Api("experiments", "plot_intervals", m.plot_intervals,
            {"summary": summary, "metric": "auc", "ax": None, "title": "t", "dataset": None, "xlabel": None},
            {"summary": summaries, "metric": Str(), "ax": Obj(optional=True), "title": Str(optional=True),
             "dataset": Str(optional=True), "xlabel": Str(optional=True)}, pos=2,
            extra=[_one("metric", "not in the summary", "no-such-metric"),
                   _one("dataset", "given for a summary without data sets", "x")]),
    ]


TABLE = (_forward, _agreement, _attention, _attention_layers, _attention_interventions, _data, _models, _vision,
         _shapley, _text_shap, _surrogate, _feature_importance, _gradient_attribution, _perturbation, _activations,
         _plotting, _widgets, _reproducibility, _counterfactuals, _negation_data, _transformer,
         _transformer_attribution, _mechanistic, _induction, _experiments)


# =========================================================================== running the sweep

@dataclass
class Sweep:
    apis: list[Api]
    results: list[Result]
    valid_errors: dict[str, str]
    seconds: float
    api_seconds: dict[str, float] = field(default_factory=dict)  # CPU seconds per callable

    def by_id(self) -> dict[str, Result]:
        return {r.id: r for r in self.results}

    def share(self) -> float:
        return sum(r.outcome == "clear" for r in self.results) / len(self.results)

    def table(self) -> str:
        rows = defaultdict(Counter)
        for r in self.results:
            rows[r.module][r.outcome.split(":")[0]] += 1
        cols = ("silent", "unnamed", "wrong type", "other")
        lines = [f"{'module':<26}{'calls':>7}{'clear':>7}{'share':>8}" + "".join(f"{c:>11}" for c in cols)]
        for mod in MODULES:
            c = rows[mod]
            total = sum(c.values())
            lines.append(f"{mod:<26}{total:>7}{c['clear']:>7}{c['clear'] / total:>8.1%}"
                         + "".join(f"{c[k]:>11}" for k in cols))
        total = len(self.results)
        clear = sum(r.outcome == "clear" for r in self.results)
        lines.append(f"{'all':<26}{total:>7}{clear:>7}{clear / total:>8.1%}")
        return "\n".join(lines)


def run_sweep() -> Sweep:
    start = time.perf_counter()
    apis = [api for part in TABLE for api in part()]
    valid_errors = {}
    results = []
    api_seconds = {}
    for api in apis:
        t0 = time.process_time()
        if api.run_valid:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    api.call(api.args)
            except Exception as exc:  # noqa: BLE001
                valid_errors[f"{api.module}.{api.name}"] = f"{type(exc).__name__}: {exc}"
            plt.close("all")
        for label, args, expected, blame in bad_calls(api):
            results.append(run_bad_call(api, label, args, expected, blame))
        api_seconds[f"{api.module}.{api.name}"] = time.process_time() - t0
    return Sweep(apis, results, valid_errors, time.perf_counter() - start, api_seconds)


@pytest.fixture(scope="module")
def sweep() -> Sweep:
    matplotlib.use("Agg")
    return run_sweep()


def _public_names(module) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, o in vars(module).items() if not n.startswith("_")
                 and (inspect.isfunction(o) or inspect.isclass(o)) and o.__module__ == module.__name__]
    return [n for n in names if callable(getattr(module, n))]


def _public_methods(cls) -> list[str]:
    own = [n for n, o in vars(cls).items() if inspect.isfunction(o) and (not n.startswith("_") or n == "__call__")]
    return [n for n in own if n not in KERAS_HOOKS]


# =========================================================================== tests

def test_every_public_callable_is_swept(sweep):
    swept = {f"{a.module}.{a.name.split(' ')[0].split('(')[0]}" for a in sweep.apis}
    missing = []
    for mod in MODULES:
        module = importlib.import_module(f"xai_tutorial.{mod}")
        for name in _public_names(module):
            key = f"{mod}.{name}"
            if key in EXEMPT:
                continue
            obj = getattr(module, name)
            methods = _public_methods(obj) if inspect.isclass(obj) else []
            is_layer = inspect.isclass(obj) and issubclass(obj, keras.layers.Layer)
            if key not in swept and not methods:
                missing.append(key)
            for meth in methods:
                if f"{key}.{meth}" not in swept:
                    missing.append(f"{key}.{meth}")
            if is_layer and f"{key}.call" not in swept:
                missing.append(f"{key}.call")
    assert not missing, f"public callables without bad calls (add them to the table or to EXEMPT): {missing}"


def test_valid_calls_run(sweep):
    assert not sweep.valid_errors, sweep.valid_errors


def test_share_of_clear_errors(sweep):
    print(f"\n{sweep.table()}\n{len(sweep.results)} bad calls over {len(sweep.apis)} callables in "
          f"{sweep.seconds:.1f} s ({sum(sweep.api_seconds.values()):.1f} s of CPU)")
    unclear = [r for r in sweep.results if r.outcome != "clear"]
    for r in unclear:
        print(f"  {r.outcome:<28} {r.id}  {r.detail[:160]!r}")
    assert len(sweep.results) >= 1900
    assert sweep.share() >= 0.98, f"{len(unclear)} unclear bad calls, first: {[r.id for r in unclear[:10]]}"


#: Bad calls the review found unclear, and others of high value: each must be clear.
HIGH_VALUE = [
    # the Keras layers: NaN in query/key/value, query=None (also before the first call), mismatched key counts
    *[f"attention_layers.{layer}.call({arg}: NaN)" for layer in ("DotProductAttention", "BahdanauAttention",
                                                                   "MultiHeadAttentionFromScratch")
      for arg in ("query", "key", "value")],
    *[f"attention_layers.{layer}.call(query: None)" for layer in ("DotProductAttention", "BahdanauAttention",
                                                                   "MultiHeadAttentionFromScratch")],
    *[f"attention_layers.{layer}.call (first call)(query: None)" for layer in ("DotProductAttention",
                                                                                "BahdanauAttention",
                                                                                "MultiHeadAttentionFromScratch")],
    "attention_layers.DotProductAttention.call(key/value: different numbers of positions)",
    "attention_layers.BahdanauAttention.call(key/value: different numbers of positions)",
    "attention_layers.MultiHeadAttentionFromScratch.call(key/value: different numbers of positions)",
    "attention_layers.BahdanauAttention.call(query: a different d_q than the layer was built for)",
    # training with an infinite learning rate
    "models.train_text_classifier(learning_rate: inf)",
    "vision.train_tiny_vit(learning_rate: inf)",
    # a scale that is not positive
    "attention.scaled_dot_product_attention(scale: -1)",
    "attention.scaled_dot_product_attention(scale: 0)",
    # a text where a list of token lists is expected: data.encode("a film", vocab, 4)
    "data.encode(token_lists: a str)",
    "data.encode(token_lists: a list of str)",
    "data.build_vocab(token_lists: a str)",
    # rank_correlation(None, b) must blame a
    "agreement.rank_correlation(a: None)",
    # explainers given a predict function that returns NaN
    "perturbation.occlusion(predict_fn: a function returning NaN)",
    "perturbation.deletion_curve(predict_fn: a function returning NaN)",
    "shapley.interventional_coalition_values(predict_fn: a function returning NaN)",
    "shapley.exact_shapley_values(predict_fn: a function returning NaN)",
    "feature_importance.permutation_importance(predict_fn: a function returning NaN)",
    "surrogate.local_surrogate(predict_fn: a function returning NaN)",
    "gradient_attribution.integrated_gradients(fn: a function returning NaN)",
    "gradient_attribution.model_output(fn: a function returning NaN)",
    "shapley.shapley_values_of_game(value_fn: a function returning NaN)",
    # a negative tolerance made the max-flow search loop forever
    "transformer_attribution.max_flow_value(tol: below range)",
    # scores that are no probabilities, and a wrong model, where a text transformer is expected
    "counterfactuals.wachter_counterfactual(predict: a function returning probabilities above 1)",
    "transformer.check_token_ids(tr: None)",
    "transformer.train_text_transformer(tr: a str)",
    # a run function that cannot take the data set, infinite scores dropped as if they were missing
    "experiments.run_over_seeds(run: a function without a dataset argument (datasets given))",
    "experiments.t_interval(seed_means: inf)",
    "experiments.bootstrap_interval(scores_per_seed: an infinite score)",
    # patching a pair that leaves nothing to restore, logits and targets that do not match, no training rows
    "mechanistic.patching_map(clean_ids/corrupted_ids: the same inputs (nothing to restore))",
    "mechanistic.head_patching_map(clean_ids/corrupted_ids: the same inputs (nothing to restore))",
    "mechanistic.logit_difference(logits: empty)",
    "mechanistic.logit_difference(logits: no class column)",
    "mechanistic.probe_accuracy(train: None)",
    # empty inputs: training on nothing, a mean over no maps
    "induction.train_induction_transformer(tokens: empty)",
    "induction.previous_token_scores(attention: empty)",
]


@pytest.mark.parametrize("case", HIGH_VALUE)
def test_high_value_bad_calls_are_clear(sweep, case):
    result = sweep.by_id().get(case)
    assert result is not None, f"the sweep has no bad call {case}"
    assert result.outcome == "clear", f"{case}: {result.outcome} {result.detail}"


def test_non_bool_masks_raise_type_error_everywhere(sweep):
    """An int or float array where a boolean mask (valid, mask, rationale, highlight, ...) is expected."""
    cases = [r for r in sweep.results if r.label.endswith((": an int array", ": a float array"))]
    assert len(cases) >= 50
    unclear = [f"{r.id}: {r.outcome} {r.detail}" for r in cases if r.outcome != "clear"]
    assert not unclear, unclear


def test_names_argument_needs_the_argument_itself():
    assert names_argument("a must be an array of numbers, got NoneType", "a")
    assert names_argument("a and b must have the same shape", "b")
    assert not names_argument("x must be a number, got a str", "a")
    assert names_argument("query must be finite", "query")
    assert not names_argument("query_kernel must be finite", "query")
    assert names_argument("attentions[1] must be finite", "attentions")


def test_outcome_rules():
    assert _outcome(None, V, ("x",))[0] == "silent"
    assert _outcome(np.exceptions.AxisError("axis 2 is out of bounds for x"), V, ("x",))[0].startswith("other")
    assert _outcome(IndexError("x index out of range"), V, ("x",))[0].startswith("other")
    assert _outcome(ValueError("x must be finite"), V, ("x",))[0] == "clear"
    assert _outcome(ValueError("x must be a str"), T, ("x",))[0] == "wrong type"
    assert _outcome(TypeError("'NoneType' object is not iterable"), T, ("x",))[0] == "unnamed"


# =========================================================================== the checks themselves

def test_checked_layers_keep_gradients():
    """The eager checks of AttentionPooling and ClassTokenAndPosition must not cut a GradientTape."""
    from xai_tutorial import gradient_attribution

    clf = _clf()
    emb = np.asarray(clf.embed(IDS))
    mask = (IDS != 0).astype("float32")
    ig = gradient_attribution.integrated_gradients(clf.head, emb, aux=[mask], steps=4)
    assert ig.shape == emb.shape and np.abs(ig).sum() > 0
    assert np.abs(gradient_attribution.gradients(_vit().model, PATCHES, target=1)).sum() > 0


def test_seed_helpers_draw_what_numpy_draws():
    from xai_tutorial import _validation as v

    np.testing.assert_array_equal(v.as_generator(3).normal(size=4), np.random.default_rng(3).normal(size=4))
    g = np.random.default_rng(1)
    assert v.as_generator(g) is g
    np.testing.assert_array_equal(v.as_random_state(3).randint(100, size=4),
                                  np.random.RandomState(3).randint(100, size=4))
    with pytest.raises(TypeError, match="seed must be an int"):
        v.as_generator(True)
    with pytest.raises(ValueError, match=r"seed must be in \[0, 4294967295\]"):
        v.as_random_state(2**32)


def test_shared_checks_kind_and_range():
    from xai_tutorial import _validation as v

    with pytest.raises(TypeError, match="method must be one of"):
        v.check_choice(None, "method", ("a", "b"))
    assert v.check_bool(np.True_, "flag") is True
    with pytest.raises(TypeError, match="flag must be a bool"):
        v.check_bool(1, "flag")
    assert v.check_str_sequence(("a", "b"), "tokens", length=2) == ["a", "b"]
    with pytest.raises(ValueError, match="tokens must have 3 entries, got 2"):
        v.check_str_sequence(["a", "b"], "tokens", length=3)
    with pytest.raises(TypeError, match=r"token_lists\[0\] is a str"):
        v.check_token_lists(["a film"], "token_lists")
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 3\], got values in \[0, 4\]"):
        v.as_int_array([0, 4], "ids", low=0, high=3)
    with pytest.raises(ValueError, match="x must not be empty"):
        v.as_float_array(np.zeros((0, 2)), "x", nonempty=True)
    with pytest.raises(ValueError, match="x must be at least 2-D"):
        v.as_float_array([1.0], "x", min_ndim=2)
    assert v.check_bounds((0, 1), "bounds") == (0.0, 1.0)
    with pytest.raises(ValueError, match=r"bounds\[1\] must be finite"):
        v.check_bounds((0, np.inf), "bounds")
    np.testing.assert_array_equal(v.as_positive_vector(2.0, "scale", 3), [2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="mask of shape"):
        v.as_bool_mask(np.ones((3, 2), bool), "mask", (2, 3), broadcast=True)
