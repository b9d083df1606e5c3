"""SHAP for the text attention classifier: one Shapley value per token.

The players are the real tokens of a padded sequence of token ids, and a token is *absent* when
it is replaced by padding (id 0). The classifier of :mod:`xai_tutorial.models` masks padding out
of its attention softmax, so a sequence with absent tokens is read exactly as the shorter
sentence made of the tokens present. The value of a coalition ``S`` of tokens is
``v(S) = f(x_S)``, the prediction on the sentence that keeps only ``S``, and the Shapley values
(Shapley 1953; Lundberg & Lee 2017) satisfy efficiency:

.. math:: \\sum_t \\phi_t = f(x) - f(\\text{all padding}).

Padding positions are dummy players (masking them changes nothing), so their value is 0.

The glue is three pieces:

* :class:`PaddingMasker` (from :func:`padding_masker`), a shap masker that turns masked-out tokens
  into padding and tells shap which positions are padding already, so they cost no evaluations;
* :func:`xai_tutorial.forward.predict_fn`, the package's predict function, which calls the Keras
  model through one compiled ``tf.function`` (shap calls it thousands of times with small batches);
* :func:`token_explanation` / :func:`token_shap_values`, which run shap's Permutation (sampled)
  or Exact explainer with them and return values of shape (n, seq_len).

:func:`word_importance` and :func:`word_explanation` aggregate token values by vocabulary word,
the honest "summary plot" for text, where a position is not a feature.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._validation import as_bool_mask, as_float_array, as_int_array, check_choice, check_int, check_str_sequence
from .forward import explained_output, keras_model_of, predict_fn

__all__ = ["PaddingMasker", "padding_masker", "token_explanation",
           "token_shap_values", "word_importance", "word_explanation", "MAX_EXACT_TOKENS"]

#: Most real tokens per sequence that ``algorithm="exact"`` accepts (2**14 model evaluations).
MAX_EXACT_TOKENS = 14


# --------------------------------------------------------------------------- masker

class PaddingMasker:
    """A shap masker for token ids: masked-out tokens become padding.

    shap calls ``masker(mask, x)`` with a boolean ``mask`` of shape (seq_len,) (True = keep the
    token) and one sequence ``x`` of shape (seq_len,), and evaluates the model on the rows it
    returns. With a single returned row there is nothing to average over: the value of a
    coalition is the prediction on one shorter sentence, not an expectation over a background.

    Parameters
    ----------
    seq_len : int
        Length of the padded sequences.
    pad_id : int, default 0
        The padding id.

    Attributes
    ----------
    shape : tuple (1, seq_len)
        One masked row per mask, ``seq_len`` maskable positions (shap reads this).
    """

    def __init__(self, seq_len: int, pad_id: int = 0):
        self.seq_len = check_int(seq_len, "seq_len", 1)
        self.pad_id = check_int(pad_id, "pad_id", 0)
        self.shape = (1, self.seq_len)

    def _check_x(self, x: Any) -> np.ndarray:
        if x is None or isinstance(x, (str, bytes, dict)):
            raise TypeError(f"x must be one sequence of integer token ids of shape ({self.seq_len},), "
                            f"got {type(x).__name__}")
        arr = np.asarray(x)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"x must hold integer token ids, got dtype {arr.dtype}")
        if arr.shape != (self.seq_len,):
            raise ValueError(f"x must be one sequence of token ids of shape ({self.seq_len},), got shape {arr.shape}")
        if arr.size and arr.min() < 0:
            raise ValueError(f"x must hold token ids >= 0, got {arr.min()}")
        return arr

    def __call__(self, mask: Any, x: Any) -> np.ndarray:
        """The sequence with masked-out tokens replaced by padding, shape (1, seq_len)."""
        x = self._check_x(x)
        if mask is None:
            raise TypeError(f"mask must be a bool array of shape ({self.seq_len},) (True = keep the token), got None")
        mask = as_bool_mask(mask, "mask", (self.seq_len,), meaning="True = keep the token")
        return np.where(mask, x, self.pad_id).astype(x.dtype)[None, :]

    def invariants(self, x: Any) -> np.ndarray:
        """Positions whose masking changes nothing (already padding), shape (1, seq_len).

        shap's explainers skip these positions and give them the value 0.
        """
        return (self._check_x(x) == self.pad_id)[None, :]

    def __repr__(self) -> str:
        return f"PaddingMasker(seq_len={self.seq_len}, pad_id={self.pad_id})"


def padding_masker(seq_len: int, pad_id: int = 0) -> PaddingMasker:
    """A shap masker that replaces absent tokens by padding; see :class:`PaddingMasker`.

    Parameters
    ----------
    seq_len : int
        Length of the padded sequences.
    pad_id : int, default 0
        The padding id.

    Returns
    -------
    PaddingMasker
        Pass it to ``shap.explainers.Permutation(predict_fn, masker)`` (or ``Exact``).
    """
    return PaddingMasker(seq_len, pad_id)


# --------------------------------------------------------------------------- predict function

def _predict_fn(model: Any, seq_len: int) -> Callable[[np.ndarray], np.ndarray]:
    """The model as a predict function over token ids of length ``seq_len``, returning shape (n,)."""
    fn = predict_fn(model)
    km = keras_model_of(model)
    if km is not None:
        shape = tuple(km.inputs[0].shape)
        if len(shape) != 2 or shape[1] != seq_len:
            raise ValueError(f"token_ids must have shape (n, {shape[1]}) for this model, got "
                             f"sequences of length {seq_len}")

    def one_output(ids: np.ndarray) -> np.ndarray:
        return explained_output(fn, ids, name="the model")

    return one_output


# --------------------------------------------------------------------------- SHAP values

def token_explanation(model: Any, token_ids: Any, *, max_evals: int = 256, seed: int = 0,
                      algorithm: str = "permutation", vocab: Sequence[str] | None = None,
                      pad_id: int = 0):
    """SHAP values of every token of every sequence, as a ``shap.Explanation``.

    Absent tokens are replaced by padding (:class:`PaddingMasker`), so ``base_values`` is
    ``f(all padding)`` and each row of ``values`` sums to ``f(x) - f(all padding)``.

    Parameters
    ----------
    model : TextAttentionClassifier, keras.Model or callable
        The classifier, or a NumPy function ``f(ids (n, seq_len)) -> (n,)``.
    token_ids : int array of shape (n, seq_len)
        Sequences to explain; ids >= 0, ``pad_id`` is padding.
    max_evals : int, default 256
        Model evaluations per sequence for ``algorithm="permutation"``. One antithetic pair of
        permutations costs ``2 L + 1`` evaluations for ``L`` real tokens, so it must be at least
        ``2 L + 1`` for the longest sequence. Ignored by ``"exact"``.
    seed : int, default 0
        Seed of the permutations. NumPy's global random state is restored afterwards.
    algorithm : {"permutation", "exact"}, default "permutation"
        shap's Permutation explainer (sampled permutations; efficiency holds exactly for every
        sample) or its Exact explainer (all ``2**L`` coalitions; at most
        :data:`MAX_EXACT_TOKENS` real tokens).
    vocab : sequence of str, optional
        If given, ``display_data`` holds the tokens as strings.
    pad_id : int, default 0
        The padding id.

    Returns
    -------
    shap.Explanation
        ``values`` of shape (n, seq_len) (exactly 0 on padding), ``base_values`` of shape (n,),
        ``data`` the token ids.
    """
    import shap

    ids = as_int_array(token_ids, "token_ids", ndim=2)
    if ids.shape[0] == 0 or ids.shape[1] == 0:
        raise ValueError(f"token_ids must hold at least one sequence and one position, got shape {ids.shape}")
    if ids.min() < 0:
        raise ValueError(f"token_ids must be non-negative ids, got the value {ids.min()}")
    check_choice(algorithm, "algorithm", ("permutation", "exact"))
    seed = check_int(seed, "seed", 0, 2**32 - 1)
    pad_id = check_int(pad_id, "pad_id", 0)
    valid = ids != pad_id
    longest = int(valid.sum(axis=1).max())
    if algorithm == "permutation":
        max_evals = check_int(max_evals, "max_evals", 1)
        if max_evals < 2 * longest + 1:
            raise ValueError(f"max_evals must be at least 2 * L + 1 = {2 * longest + 1} for the longest "
                             f"sequence ({longest} real tokens), got {max_evals}")
    elif longest > MAX_EXACT_TOKENS:
        raise ValueError(f"algorithm='exact' evaluates 2**L coalitions: at most {MAX_EXACT_TOKENS} real "
                         f"tokens per sequence, got {longest}; use algorithm='permutation'")
    if vocab is not None:
        vocab = check_str_sequence(vocab, "vocab")
    if vocab is not None and ids.max() >= len(vocab):
        raise ValueError(f"token_ids must lie in [0, {len(vocab) - 1}] for a vocabulary of {len(vocab)} "
                         f"words, got the value {ids.max()}")

    seq_len = ids.shape[1]
    predict = _predict_fn(model, seq_len)
    masker = PaddingMasker(seq_len, pad_id)
    x = ids.astype(np.int32)
    state = np.random.get_state()  # shap's explainers reseed NumPy's global generator
    try:
        if algorithm == "permutation":
            explainer = shap.explainers.Permutation(predict, masker, seed=seed)
            expl = explainer(x, max_evals=max_evals, silent=True)
        else:
            explainer = shap.explainers.Exact(predict, masker)
            expl = explainer(x, max_evals=2**MAX_EXACT_TOKENS + 1, silent=True)
    finally:
        np.random.set_state(state)
    values = np.where(valid, np.asarray(expl.values, dtype=np.float64), 0.0)
    base = np.asarray(expl.base_values, dtype=np.float64).reshape(len(ids))
    display = None
    if vocab is not None:
        display = np.asarray(vocab, dtype=object)[ids]
    return shap.Explanation(values=values, base_values=base, data=ids, display_data=display,
                            feature_names=[f"position {t}" for t in range(seq_len)])


def token_shap_values(model: Any, token_ids: Any, *, max_evals: int = 256, seed: int = 0,
                      algorithm: str = "permutation", pad_id: int = 0) -> np.ndarray:
    """SHAP value of every token, shape (n, seq_len), 0 on padding.

    The values of :func:`token_explanation` (same parameters) without the ``Explanation``:
    each row sums to ``f(x) - f(all padding)``.
    """
    return token_explanation(model, token_ids, max_evals=max_evals, seed=seed, algorithm=algorithm,
                             pad_id=pad_id).values


# --------------------------------------------------------------------------- summaries by word

def _check_values_ids(values: Any, token_ids: Any, vocab: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    v = as_float_array(values, "values", ndim=2)
    ids = as_int_array(token_ids, "token_ids", ndim=2)
    if v.shape != ids.shape:
        raise ValueError(f"values and token_ids must have the same shape, got {v.shape} and {ids.shape}")
    vocab = check_str_sequence(vocab, "vocab")
    if ids.size and (ids.min() < 0 or ids.max() >= len(vocab)):
        raise ValueError(f"token_ids must lie in [0, {len(vocab) - 1}] for a vocabulary of {len(vocab)} "
                         f"words, got values in [{ids.min()}, {ids.max()}]")
    return v, ids


def word_importance(values: Any, token_ids: Any, vocab: Sequence[str], *, pad_id: int = 0):
    """Mean |SHAP| of each vocabulary word over its occurrences: the summary for token data.

    A position is not a feature of text (word 3 of one sentence has nothing to do with word 3 of
    another), so a per-position summary plot is meaningless; averaging by word is not.

    Parameters
    ----------
    values : array of shape (n, seq_len)
        Token attributions.
    token_ids : int array of shape (n, seq_len)
    vocab : sequence of str
        ``vocab[i]`` is the word with id ``i``.
    pad_id : int, default 0
        Padding, left out.

    Returns
    -------
    pandas.DataFrame
        Indexed by word (words that occur only), columns ``mean_abs`` (mean |value| per
        occurrence), ``mean`` (mean signed value) and ``count`` (occurrences), sorted by
        ``mean_abs`` from the largest (ties by word).
    """
    import pandas as pd

    v, ids = _check_values_ids(values, token_ids, vocab)
    pad_id = check_int(pad_id, "pad_id", 0)
    real = ids != pad_id
    flat_ids, flat_v = ids[real], v[real]
    count = np.bincount(flat_ids, minlength=len(vocab))
    sum_abs = np.bincount(flat_ids, weights=np.abs(flat_v), minlength=len(vocab))
    total = np.bincount(flat_ids, weights=flat_v, minlength=len(vocab))
    seen = np.flatnonzero(count)
    frame = pd.DataFrame({"mean_abs": sum_abs[seen] / count[seen], "mean": total[seen] / count[seen],
                          "count": count[seen]}, index=pd.Index([vocab[i] for i in seen], name="word"))
    return frame.sort_values(["mean_abs", "word"], ascending=[False, True], kind="stable")


def word_explanation(values: Any, token_ids: Any, vocab: Sequence[str], *, pad_id: int = 0,
                     base_values: Any = None):
    """Token attributions regrouped by word, as a ``shap.Explanation`` for shap's plots.

    Feature ``w`` of example ``i`` is the sum of the values of all occurrences of word ``w`` in
    sequence ``i`` (0 if it does not occur), so each row still sums to the row sum of
    ``values``; ``data`` counts the occurrences. ``shap.plots.bar`` then ranks words by
    ``mean_i |value|``, which mixes how strong a word is with how often it occurs; use
    :func:`word_importance` for the per-occurrence mean.

    Parameters
    ----------
    values, token_ids, vocab, pad_id :
        As in :func:`word_importance`.
    base_values : array of shape (n,), optional
        Passed through to the Explanation.

    Returns
    -------
    shap.Explanation
        ``values`` and ``data`` of shape (n, n_words), for the words that occur (padding left out).
    """
    import shap

    v, ids = _check_values_ids(values, token_ids, vocab)
    pad_id = check_int(pad_id, "pad_id", 0)
    real = ids != pad_id
    words = np.unique(ids[real])
    column = np.full(len(vocab), -1)
    column[words] = np.arange(len(words))
    n = ids.shape[0]
    sums = np.zeros((n, len(words)))
    counts = np.zeros((n, len(words)))
    rows = np.broadcast_to(np.arange(n)[:, None], ids.shape)[real]
    np.add.at(sums, (rows, column[ids[real]]), v[real])
    np.add.at(counts, (rows, column[ids[real]]), 1.0)
    if base_values is not None:
        base_values = as_float_array(base_values, "base_values", ndim=1)
        if base_values.shape != (n,):
            raise ValueError(f"base_values must have shape ({n},), got {base_values.shape}")
    return shap.Explanation(values=sums, base_values=base_values, data=counts,
                            feature_names=[vocab[i] for i in words])
