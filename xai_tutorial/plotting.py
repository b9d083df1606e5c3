"""One plotting style for the whole book, and the plots chapters share.

Every figure has a white background (readable in the theme's dark mode), labelled axes and a
title that states the finding. Positive attributions are drawn in orange, negative in blue.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from ._validation import (as_bool_mask, as_float_array, check_axes, check_bool, check_cmap, check_number, check_str,
                          check_str_sequence)

BOOK_STYLE: dict[str, object] = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.dpi": 100,
    "figure.figsize": (6.4, 3.6),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "legend.frameon": False,
    "font.size": 10,
    "image.cmap": "viridis",
}
DIVERGING_CMAP = "RdBu_r"
SEQUENTIAL_CMAP = "Oranges"


def use_book_style() -> None:
    """Apply the book's matplotlib style to every later figure of the process."""
    mpl.rcParams.update(BOOK_STYLE)


def plot_token_heatmap(tokens: Sequence[str], scores: np.ndarray, *, ax: plt.Axes | None = None,
                       title: str | None = None, diverging: bool | None = None,
                       vmax: float | None = None, highlight: Sequence[bool] | None = None,
                       cmap: str | None = None) -> plt.Axes:
    """Draw tokens as a row of boxes coloured by a score (attention, attribution, ...).

    Parameters
    ----------
    tokens : sequence of str, length n
        The tokens, in order.
    scores : array of shape (n,)
        One score per token. Non-negative scores use a sequential colour map, signed ones a
        diverging map centred on 0 (unless ``diverging`` says otherwise).
    ax : matplotlib Axes, optional
    title : str, optional
    diverging : bool, optional
        Force a diverging (True) or sequential (False) colour scale.
    vmax : float, optional
        Top of the colour scale; default the largest absolute score.
    highlight : sequence of bool, length n, optional
        Tokens to underline (e.g. the ground-truth rationale).
    cmap : str, optional
        Colour map name.

    Returns
    -------
    matplotlib Axes
    """
    tokens = check_str_sequence(tokens, "tokens")
    scores = as_float_array(scores, "scores", ndim=1)
    if len(tokens) != scores.shape[0]:
        raise ValueError(f"tokens and scores must have the same length, got {len(tokens)} and {scores.shape[0]}")
    highlight = as_bool_mask(highlight, "highlight", default=None, meaning="True = underline the token")
    if highlight is not None and highlight.shape != (len(tokens),):
        raise ValueError(f"highlight must have one entry per token ({len(tokens)}), got shape {highlight.shape}")
    check_axes(ax)
    check_str(title, "title", optional=True)
    if cmap is not None:
        check_cmap(cmap)
    if diverging is None:
        diverging = bool(scores.size and scores.min() < 0)
    else:
        diverging = check_bool(diverging, "diverging")
    top = float(np.max(np.abs(scores), initial=0.0)) if vmax is None else check_number(vmax, "vmax", low=0,
                                                                                           low_open=True)
    top = top if top > 0 else 1.0
    norm = mpl.colors.Normalize(-top if diverging else 0.0, top)
    cmap_obj = mpl.colormaps[cmap or (DIVERGING_CMAP if diverging else SEQUENTIAL_CMAP)]
    if ax is None:
        width = min(14.0, max(4.0, 0.12 * sum(len(t) + 2 for t in tokens)))
        _, ax = plt.subplots(figsize=(width, 0.9 if title is None else 1.2))
    ax.set_axis_off()
    widths = np.array([len(t) + 2 for t in tokens], dtype=float)
    lefts = np.concatenate([[0.0], np.cumsum(widths)[:-1]])
    total = widths.sum()
    for i, (tok, left, wid) in enumerate(zip(tokens, lefts, widths)):
        colour = cmap_obj(norm(scores[i]))
        ax.add_patch(mpl.patches.Rectangle((left / total, 0.15), (wid - 0.3) / total, 0.7,
                                           facecolor=colour, edgecolor="0.7", lw=0.5,
                                           transform=ax.transAxes))
        luminance = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]
        ax.text((left + (wid - 0.3) / 2) / total, 0.5, tok, ha="center", va="center", fontsize=9,
                color="white" if luminance < 0.5 else "black", transform=ax.transAxes,
                fontweight="bold" if highlight is not None and highlight[i] else "normal")
        if highlight is not None and highlight[i]:
            ax.plot([left / total, (left + wid - 0.3) / total], [0.08, 0.08], color="black", lw=2,
                    transform=ax.transAxes, clip_on=False)
    if title:
        ax.set_title(title, loc="left")
    return ax


def plot_attention_matrix(weights: np.ndarray, *, x_labels: Sequence[str] | None = None,
                          y_labels: Sequence[str] | None = None, ax: plt.Axes | None = None,
                          title: str | None = None, annotate: bool = False) -> plt.Axes:
    """Heatmap of an attention matrix, queries as rows and keys as columns.

    Parameters
    ----------
    weights : array of shape (n_queries, n_keys)
    x_labels, y_labels : sequences of str, optional
        Key and query labels.
    annotate : bool, default False
        Write each weight in its cell (for small matrices).
    """
    weights = as_float_array(weights, "weights", ndim=2, nonempty=True)
    if x_labels is not None:
        x_labels = check_str_sequence(x_labels, "x_labels", length=weights.shape[1])
    if y_labels is not None:
        y_labels = check_str_sequence(y_labels, "y_labels", length=weights.shape[0])
    check_axes(ax)
    check_str(title, "title", optional=True)
    annotate = check_bool(annotate, "annotate")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.45 * weights.shape[1] + 2, 0.4 * weights.shape[0] + 1.2))
    im = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=max(float(weights.max()), 1e-12),
                   aspect="auto")
    ax.grid(False)
    ax.set_xlabel("key (attended to)")
    ax.set_ylabel("query")
    if x_labels is not None:
        ax.set_xticks(range(weights.shape[1]), x_labels, rotation=60, ha="right")
    if y_labels is not None:
        ax.set_yticks(range(weights.shape[0]), y_labels)
    if annotate:
        for i in range(weights.shape[0]):
            for j in range(weights.shape[1]):
                ax.text(j, i, f"{weights[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if weights[i, j] < 0.6 * weights.max() else "black")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="weight")
    if title:
        ax.set_title(title)
    return ax


def plot_image_attribution(image: np.ndarray, attribution: np.ndarray | None = None, *,
                           ax: plt.Axes | None = None, title: str | None = None,
                           alpha: float = 0.6) -> plt.Axes:
    """A grey-scale image with an attribution map over it (signed maps use a diverging scale).

    Parameters
    ----------
    image : array of shape (H, W)
    attribution : array of shape (h, w), optional
        Upsampled by repetition to (H, W) when h divides H (e.g. one value per patch).
    """
    image = as_float_array(image, "image", ndim=2, nonempty=True)
    check_axes(ax)
    check_str(title, "title", optional=True)
    alpha = check_number(alpha, "alpha", low=0, high=1)
    if ax is None:
        _, ax = plt.subplots(figsize=(2.4, 2.4))
    ax.imshow(image, cmap="gray_r")
    if attribution is not None:
        attribution = as_float_array(attribution, "attribution", ndim=2)
        h, w = attribution.shape
        if image.shape[0] % h or image.shape[1] % w:
            raise ValueError(f"attribution shape {attribution.shape} must divide the image shape {image.shape}")
        up = np.kron(attribution, np.ones((image.shape[0] // h, image.shape[1] // w)))
        top = float(np.abs(up).max()) or 1.0
        if up.min() < 0:
            ax.imshow(up, cmap=DIVERGING_CMAP, vmin=-top, vmax=top, alpha=alpha)
        else:
            ax.imshow(up, cmap="inferno", vmin=0, vmax=top, alpha=alpha)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title:
        ax.set_title(title, fontsize=9)
    return ax
