"""Interactive explorers for attention maps, with a static rendering for the printed book.

* :func:`attention_html` renders one sequence as HTML, each token's background coloured by its
  attention weight. It is a pure function (string in, string out), so it is unit-tested.
* :func:`token_attention_explorer` wraps it in an ipywidgets explorer: pick an example, see its
  tokens coloured by attention, the predicted probability and the true label.
* :func:`plot_attention_examples` draws several examples as a matplotlib grid: the static version
  that the rendered book shows (widget state is never stored in the book's pages).

The widget needs a running Jupyter kernel to react; notebooks show it only when the environment
variable ``XAI_TUTORIAL_STATIC`` is unset and always show the static grid as well.
"""
from __future__ import annotations

import html
from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from ._validation import (as_bool_mask, as_float_array, as_int_array, check_cmap, check_fraction, check_int,
                          check_number, check_str, check_str_sequence)
from .data import TextData
from .plotting import SEQUENTIAL_CMAP, plot_token_heatmap

SUBSETS: tuple[str, ...] = ("all", "correct", "wrong")


def attention_html(tokens: Sequence[str], weights: np.ndarray, *, highlight: Sequence[bool] | None = None,
                   vmax: float | None = None, cmap: str = SEQUENTIAL_CMAP, decimals: int = 3) -> str:
    """HTML for one sequence whose tokens are coloured by their attention weights.

    Each token becomes a ``<span>`` whose background colour encodes its weight on a sequential
    colour map from 0 to ``vmax``, whose text colour keeps it readable, and whose tooltip
    (``title`` attribute) shows the weight. Tokens are HTML-escaped.

    Parameters
    ----------
    tokens : sequence of str, length n
        The tokens, in order (real tokens only, no padding).
    weights : array of shape (n,)
        Non-negative weights, one per token (attention weights need not sum to 1 here).
    highlight : sequence of bool, length n, optional
        Tokens to underline, e.g. the ground-truth rationale of planted text.
    vmax : float, optional
        Weight that gets the darkest colour; default the largest weight (1.0 if all are 0).
    cmap : str, default "Oranges"
        Name of a matplotlib colour map.
    decimals : int, default 3
        Decimals of the weight shown in each tooltip.

    Returns
    -------
    str
        A ``<div class="xai-attention">`` holding one ``<span class="xai-token">`` per token.

    Raises
    ------
    TypeError
        If ``tokens`` is not a sequence of str or ``weights`` not numeric.
    ValueError
        If lengths differ, a weight is negative or not finite, or ``vmax`` is not positive.
    """
    tokens = check_str_sequence(tokens, "tokens")
    w = as_float_array(weights, "weights", ndim=1)
    if w.shape[0] != len(tokens):
        raise ValueError(f"tokens and weights must have the same length, got {len(tokens)} and {w.shape[0]}")
    if w.size and w.min() < 0:
        raise ValueError(f"weights must be non-negative (attention weights), got a minimum of {w.min():.4g}")
    hl = as_bool_mask(highlight, "highlight", default=None, meaning="True = underline the token")
    if hl is None:
        hl = np.zeros(len(tokens), dtype=bool)
    elif hl.shape != (len(tokens),):
        raise ValueError(f"highlight must be a bool sequence of length {len(tokens)}, got shape {hl.shape}")
    if vmax is None:
        top = float(w.max()) if w.size and w.max() > 0 else 1.0
    else:
        top = check_number(vmax, "vmax")
        if top <= 0:
            raise ValueError(f"vmax must be a positive number, got {vmax!r}")
    decimals = check_int(decimals, "decimals", 0, 10)
    cmap_obj = mpl.colormaps[check_cmap(cmap)]

    spans = []
    for tok, weight, under in zip(tokens, w, hl):
        rgba = cmap_obj(min(weight / top, 1.0))
        luminance = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2]
        style = (f"background-color:{mpl.colors.to_hex(rgba)};"
                 f"color:{'white' if luminance < 0.5 else 'black'};"
                 "padding:1px 4px;margin:1px;border-radius:3px;display:inline-block;")
        if under:
            style += "text-decoration:underline;font-weight:bold;"
        spans.append(f'<span class="xai-token" style="{style}" title="{weight:.{decimals}f}">'
                     f"{html.escape(tok)}</span>")
    return ('<div class="xai-attention" style="line-height:1.9;font-family:monospace;">'
            + "".join(spans) + "</div>")


def _check_example_arrays(texts: TextData, probs: np.ndarray, weights: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(texts, TextData):
        raise TypeError(f"texts must be a TextData, got {type(texts).__name__}")
    p = as_float_array(probs, "probs", ndim=(1, 2))
    if p.ndim == 2:
        if p.shape[1] != 1:
            raise ValueError(f"probs must have shape (n,) or (n, 1), got {p.shape}")
        p = p[:, 0]
    if p.shape[0] != len(texts):
        raise ValueError(f"probs must have one entry per example ({len(texts)}), got {p.shape[0]}")
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(f"probs must be probabilities in [0, 1], got values in [{p.min():.4g}, {p.max():.4g}]")
    w = as_float_array(weights, "weights", ndim=2)
    if w.shape != texts.token_ids.shape:
        raise ValueError(f"weights must have shape {texts.token_ids.shape} (one row per example, one "
                         f"column per position), got {w.shape}")
    return p, w


def _check_label_names(label_names) -> tuple[str, str]:
    """The names of labels 0 and 1: a sequence of two str."""
    if isinstance(label_names, (str, bytes)) or not isinstance(label_names, (tuple, list)):
        raise TypeError(f"label_names must be two strings, e.g. ('negative', 'positive'), got "
                        f"{type(label_names).__name__}")
    if len(label_names) != 2:
        raise ValueError(f"label_names must be two strings, got {len(label_names)}: {label_names!r}")
    return tuple(check_str_sequence(label_names, "label_names"))


def example_header_html(index: int, prob: float, label: int, *, threshold: float = 0.5,
                        label_names: tuple[str, str] = ("negative", "positive")) -> str:
    """One line of HTML: example number, predicted label and probability, true label, right or wrong.

    Parameters
    ----------
    index : int
        Number of the example, shown as is.
    prob : float
        Predicted P(label = 1), in [0, 1].
    label : int
        True label, 0 or 1.
    threshold : float, default 0.5
        Probability above which the prediction is label 1.
    label_names : (str, str)
        Names of labels 0 and 1.
    """
    index = check_int(index, "index", 0)
    label = check_int(label, "label", 0, 1)
    if not 0.0 <= check_number(prob, "prob") <= 1.0:
        raise ValueError(f"prob must be a probability in [0, 1], got {prob!r}")
    threshold = check_fraction(threshold, "threshold")
    label_names = _check_label_names(label_names)
    pred = int(prob > threshold)
    verdict = ("<span style='color:#1a7f37'>right</span>" if pred == label
               else "<span style='color:#cf222e'>wrong</span>")
    return (f"<b>example {index}</b> &middot; predicted <b>{html.escape(label_names[pred])}</b> "
            f"(P({html.escape(label_names[1])}) = {prob:.3f}) &middot; true <b>{html.escape(label_names[label])}</b> "
            f"&middot; {verdict}")


def token_attention_explorer(texts: TextData, probs: np.ndarray, weights: np.ndarray, *,
                             threshold: float = 0.5,
                             label_names: tuple[str, str] = ("negative", "positive")):
    """An ipywidgets explorer of attention maps, one example at a time.

    A dropdown chooses which examples to browse (all, correctly or wrongly classified), a slider
    picks one of them, and the widget shows the example's prediction, its true label and its
    tokens coloured by attention (the ground-truth rationale underlined when ``texts`` has one).

    Parameters
    ----------
    texts : TextData
        The examples, with ``token_ids`` of shape (n, seq_len).
    probs : array of shape (n,) or (n, 1)
        Predicted P(label = 1) of each example.
    weights : array of shape (n, seq_len)
        Attention weights of each example (0 on padding).
    threshold : float, default 0.5
        Probability above which the prediction is label 1.
    label_names : (str, str), default ("negative", "positive")
        Names of labels 0 and 1.

    Returns
    -------
    ipywidgets.VBox
        Its children are the dropdown, the slider and an ``HTML`` widget; changing the dropdown
        or moving the slider re-renders the HTML (in a live kernel).
    """
    import ipywidgets as widgets

    p, w = _check_example_arrays(texts, probs, weights)
    threshold = check_fraction(threshold, "threshold")
    label_names = _check_label_names(label_names)
    if len(texts) == 0:
        raise ValueError("texts must hold at least one example, got 0")
    correct = (p > threshold).astype(int) == texts.labels
    pools = {"all": np.arange(len(texts)), "correct": np.flatnonzero(correct),
             "wrong": np.flatnonzero(~correct)}

    subset = widgets.Dropdown(options=[(f"{k} ({len(v)})", k) for k, v in pools.items()],
                              value="all", description="examples")
    slider = widgets.IntSlider(value=0, min=0, max=len(texts) - 1, description="#",
                               continuous_update=False)
    out = widgets.HTML()

    def render(*_):
        pool = pools[subset.value]
        if len(pool) == 0:
            out.value = f"<i>no {subset.value} examples</i>"
            return
        i = int(pool[min(slider.value, len(pool) - 1)])
        n = int(texts.lengths[i])
        hl = None if texts.rationale is None else texts.rationale[i, :n]
        out.value = (example_header_html(i, float(p[i]), int(texts.labels[i]), threshold=threshold,
                                         label_names=tuple(label_names))
                     + attention_html(texts.tokens(i), w[i, :n], highlight=hl))

    def on_subset(_):
        slider.max = max(len(pools[subset.value]) - 1, 0)
        slider.value = 0
        render()

    subset.observe(on_subset, names="value")
    slider.observe(render, names="value")
    render()
    return widgets.VBox([subset, slider, out])


def plot_attention_examples(texts: TextData, probs: np.ndarray, weights: np.ndarray,
                            indices: Sequence[int], *, threshold: float = 0.5,
                            label_names: tuple[str, str] = ("negative", "positive"),
                            title: str | None = None, vmax: float | None = None,
                            max_tokens: int = 40) -> plt.Figure:
    """Static grid of attention maps: one row per example, tokens coloured by attention.

    Each row's title gives the example number, the prediction with its probability, the true
    label and whether the prediction is right; rationale tokens (if known) are underlined.

    Parameters
    ----------
    texts : TextData
        The examples.
    probs : array of shape (n,) or (n, 1)
        Predicted P(label = 1).
    weights : array of shape (n, seq_len)
        Attention weights.
    indices : sequence of int
        Which examples to draw, at least one.
    threshold : float, default 0.5
        Probability above which the prediction is label 1.
    label_names : (str, str)
        Names of labels 0 and 1.
    title : str, optional
        Title of the whole figure (state the finding).
    vmax : float, optional
        Weight that gets the darkest colour in every row; default each row's own largest weight
        (so short and long examples are equally readable).
    max_tokens : int, default 40
        Longer examples are cut after this many tokens.

    Returns
    -------
    matplotlib Figure
    """
    p, w = _check_example_arrays(texts, probs, weights)
    threshold = check_fraction(threshold, "threshold")
    label_names = _check_label_names(label_names)
    check_str(title, "title", optional=True)
    if vmax is not None and not check_number(vmax, "vmax") > 0:
        raise ValueError(f"vmax must be a positive number or None, got {vmax!r}")
    max_tokens = check_int(max_tokens, "max_tokens", 1)
    idx = as_int_array(indices, "indices", ndim=1)
    if idx.size == 0:
        raise ValueError("indices must name at least one example, got none")
    if idx.min() < 0 or idx.max() >= len(texts):
        raise ValueError(f"indices must lie in [0, {len(texts) - 1}], got values in [{idx.min()}, {idx.max()}]")
    lengths = np.minimum(texts.lengths[idx], max_tokens)
    width = min(14.0, max(6.0, 0.11 * max(sum(len(t) + 2 for t in texts.tokens(int(i))[:n])
                                          for i, n in zip(idx, lengths))))
    fig, axes = plt.subplots(len(idx), 1, figsize=(width, 0.85 * len(idx) + (0.5 if title else 0.2)),
                             squeeze=False)
    for ax, i, n in zip(axes[:, 0], idx, lengths):
        i = int(i)
        pred = int(p[i] > threshold)
        verdict = "right" if pred == texts.labels[i] else "WRONG"
        hl = None if texts.rationale is None else texts.rationale[i, :n]
        plot_token_heatmap(texts.tokens(i)[:n], w[i, :n], ax=ax, vmax=vmax, diverging=False,
                           highlight=hl)
        ax.set_title(f"#{i}: predicted {label_names[pred]} (P({label_names[1]}) = {p[i]:.2f}), "
                     f"true {label_names[int(texts.labels[i])]}, {verdict}", loc="left", fontsize=9,
                     fontweight="normal")
    if title:
        fig.suptitle(title, fontweight="bold", fontsize=11, x=0.01, ha="left")
    fig.tight_layout()
    return fig
