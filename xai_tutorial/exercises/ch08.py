"""Checkers for the exercises of chapter 8 (attention over image patches).

Each checker computes the expected answer itself and, when an answer is wrong, recognises the
usual mistakes (patches in the wrong order, rollout multiplied the wrong way round, the wrong
normalisation axis, ...) and says so.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .core import Feedback, answer_array, answer_int, call, check_array, checker, require_callable

# --------------------------------------------------------------------------- patches


def _reference_patches(images: np.ndarray, patch_size: int) -> np.ndarray:
    n, h, w = images.shape
    g = h // patch_size
    p = images.reshape(n, g, patch_size, g, patch_size).transpose(0, 1, 3, 2, 4)
    return p.reshape(n, g * g, patch_size * patch_size)


def _patch_cases() -> list[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(8)
    return [(rng.random((3, 8, 8)), 2), (rng.random((2, 8, 8)), 4), (rng.random((1, 6, 6)), 3),
            (np.arange(16.0).reshape(1, 4, 4), 2)]


@checker
def check_image_to_patches(fn: Callable[[np.ndarray, int], np.ndarray]) -> Feedback:
    """Check a learner's ``fn(images (n, H, W), patch_size) -> patches (n, n_patches, patch_size**2)``.

    Patches must come in row-major order (left to right, then top to bottom), each flattened
    row by row, as :func:`xai_tutorial.data.image_to_patches` does.
    """
    require_callable(fn, "a function to_patches(images, patch_size)")
    for images, p in _patch_cases():
        label = f"images of shape {images.shape}, patch_size={p}"
        got = call(fn, images, p, case=f"on images of shape {images.shape} with patch_size={p}")
        got = answer_array(got, f"the patches for {label}")
        want = _reference_patches(images, p)
        if got.shape != want.shape:
            return Feedback(False, f"for {label} the patches have shape {got.shape}, expected "
                                   f"{want.shape} = (n, (H // p) ** 2, p ** 2)")
        if np.allclose(got, want):
            continue
        n, h, _ = images.shape
        g = h // p
        if np.allclose(got, images.reshape(want.shape)):
            return Feedback(False, f"for {label} a plain reshape takes p*p consecutive pixels of one "
                                   "image row, not a p x p square: reshape to (n, g, p, g, p), swap "
                                   "the two middle axes, then reshape")
        grid_t = want.reshape(n, g, g, p * p).transpose(0, 2, 1, 3).reshape(want.shape)
        if np.allclose(got, grid_t):
            return Feedback(False, f"for {label} the patches come column by column: patch 1 must be "
                                   "the one to the right of patch 0, not the one below it")
        inner_t = want.reshape(n, g * g, p, p).transpose(0, 1, 3, 2).reshape(want.shape)
        if np.allclose(got, inner_t):
            return Feedback(False, f"for {label} the patches are in the right order but each is "
                                   "flattened column by column; flatten each patch row by row")
        return check_array(got, want, name=f"the patches for {label}")
    return Feedback(True, "your patches match data.image_to_patches on all test images "
                          "(row-major patch order, each patch flattened row by row).")


# --------------------------------------------------------------------------- rollout

#: The worked example of the rollout exercise: two layers of 2 heads over 3 tokens
#: (token 0 is [CLS]); each row is a softmax distribution.
ROLLOUT_LAYERS: list[np.ndarray] = [
    np.array([[[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]],
              [[0.2, 0.2, 0.6], [0.4, 0.4, 0.2], [0.3, 0.6, 0.1]]]),
    np.array([[[0.1, 0.8, 0.1], [0.5, 0.25, 0.25], [0.2, 0.2, 0.6]],
              [[0.3, 0.1, 0.6], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1]]]),
]


def _augment(w: np.ndarray, residual_weight: float, axis: int = -1, average: bool = True) -> np.ndarray:
    w = w.mean(axis=0) if average else w
    a = residual_weight * np.eye(w.shape[-1]) + (1.0 - residual_weight) * w
    return a / a.sum(axis=axis, keepdims=True)


def _rollout(layers: list[np.ndarray], residual_weight: float = 0.5, axis: int = -1,
             reverse: bool = False, residual: bool = True) -> np.ndarray:
    mats = [_augment(w, residual_weight if residual else 0.0, axis) for w in layers]
    out = mats[0]
    for m in mats[1:]:
        out = out @ m if reverse else m @ out
    return out


@checker
def check_rollout(answer: np.ndarray, layers: list[np.ndarray] | None = None,
                  residual_weight: float = 0.5) -> Feedback:
    """Check a rollout matrix computed by hand for ``layers`` (default :data:`ROLLOUT_LAYERS`).

    Expected: average the heads, ``A = residual_weight * I + (1 - residual_weight) * W``,
    renormalise each row, and multiply the last layer first: ``R = A_2 @ A_1``.
    """
    layers = ROLLOUT_LAYERS if layers is None else [np.asarray(w, dtype=np.float64) for w in layers]
    want = _rollout(layers, residual_weight)
    got = answer_array(answer, "your rollout", what="a numeric matrix")
    n = want.shape[-1]
    if got.shape == (layers[0].shape[0], n, n):
        return Feedback(False, f"your rollout has shape {got.shape}: one matrix per head. Average the "
                               f"heads of each layer first, so the rollout is ({n}, {n})")
    if got.shape != want.shape:
        return Feedback(False, f"your rollout has shape {got.shape}, expected {want.shape}")
    if np.allclose(got, want, atol=1e-6):
        return Feedback(True, f"R = A_2 A_1 with rows summing to 1; the [CLS] row is "
                              f"{np.round(want[0], 3).tolist()}.")
    mistakes = [
        (_rollout(layers, residual_weight, reverse=True),
         "you multiplied in the wrong order: information flows through layer 1 first, so "
         "R = A_2 @ A_1 (the last layer on the left)"),
        (_rollout(layers, residual_weight, axis=-2),
         "you normalised the columns (axis 0); normalise each row (axis=-1, keepdims=True) so "
         "every token's incoming weights sum to 1"),
        (_rollout(layers, residual_weight, axis=-2, reverse=True),
         "you normalised the columns and multiplied in the wrong order; normalise rows and use "
         "R = A_2 @ A_1"),
        (_rollout(layers, residual=False),
         f"you left out the residual connection: use A = {residual_weight} I + "
         f"{1 - residual_weight} W before renormalising"),
        (_augment(layers[-1], residual_weight),
         "that is the last layer alone; the rollout multiplies both layers: R = A_2 @ A_1"),
    ]
    for matrix, message in mistakes:
        if np.allclose(got, matrix, atol=1e-6):
            return Feedback(False, message)
    if not np.allclose(got.sum(axis=-1), 1.0, atol=1e-6):
        return Feedback(False, f"the rows of your rollout sum to {np.round(got.sum(axis=-1), 3).tolist()}; "
                               "every row of a rollout sums to 1 (renormalise the rows of each A)")
    return check_array(got, want, name="your rollout", atol=1e-6).with_hint(
        "Average the heads of each layer, mix in the identity, renormalise the rows, then multiply "
        "the last layer on the left.")


# --------------------------------------------------------------------------- occlusion


def most_important_patch(predict_fn: Callable[[np.ndarray], np.ndarray], patches: np.ndarray,
                         fill_value: float = 0.0) -> tuple[int, np.ndarray]:
    """The patch whose blanking lowers the predicted class's probability most, and all the drops.

    Parameters
    ----------
    predict_fn : callable
        ``(n, n_patches, patch_dim) -> probabilities (n, n_classes)``.
    patches : array of shape (n_patches, patch_dim) or (1, n_patches, patch_dim)
        One image.

    Returns
    -------
    (int, ndarray of shape (n_patches,))
        The index of the patch and the drop in probability for every patch.
    """
    x = np.asarray(patches, dtype=np.float64)
    x = x[None] if x.ndim == 2 else x
    if x.ndim != 3 or x.shape[0] != 1:
        raise ValueError(f"patches must be one image of shape (n_patches, patch_dim), got {np.shape(patches)}")
    full = np.asarray(predict_fn(x))[0]
    target = int(np.argmax(full))
    n_patches = x.shape[1]
    copies = np.repeat(x, n_patches, axis=0)
    copies[np.arange(n_patches), np.arange(n_patches)] = fill_value
    drops = full[target] - np.asarray(predict_fn(copies))[:, target]
    return int(np.argmax(drops)), drops


@checker
def check_most_important_patch(answer, predict_fn: Callable[[np.ndarray], np.ndarray],
                               patches: np.ndarray, grid: int = 4) -> Feedback:
    """Check the index of the patch whose occlusion (fill 0) lowers the predicted class's probability most.

    Parameters
    ----------
    answer : int
        Row-major patch index, ``row * grid + column``.
    predict_fn : callable
        The model's NumPy predict function, ``(n, n_patches, patch_dim) -> (n, n_classes)``.
    patches : array of shape (n_patches, patch_dim)
        The image, as patches.
    grid : int, default 4
        Patches per side, used to explain the index.
    """
    best, drops = most_important_patch(predict_fn, patches)
    if isinstance(answer, (tuple, list)) and len(answer) == 2:
        return Feedback(False, f"give one row-major index, row * {grid} + column, not a pair {tuple(answer)}")
    got = answer_int(answer, "the answer", what="one patch index (an int)", whole_floats=True)
    if not 0 <= got < len(drops):
        return Feedback(False, f"patch indices run from 0 to {len(drops) - 1}, got {got}")
    r, c = divmod(best, grid)
    if got == best:
        return Feedback(True, f"patch {best} (row {r}, column {c}): blanking it lowers the predicted "
                              f"class's probability by {drops[best]:.3f}, more than any other patch.")
    if got == int(np.argmin(drops)):
        return Feedback(False, f"blanking patch {got} *raises* the predicted class's probability the most "
                               f"(by {-drops[got]:.3f}); look for the largest drop "
                               "f(x) - f(x without patch j), not the smallest")
    if got == int(np.argmax(np.abs(drops))):
        return Feedback(False, f"patch {got} changes the probability most in absolute value, but upwards; "
                               "the question asks for the largest drop of the predicted class")
    if got - 1 == best:
        return Feedback(False, f"patch {got} is one past the right patch: patches are numbered from 0 "
                               f"(row * {grid} + column, both from 0)")
    if got == c * grid + r and r != c:
        return Feedback(False, f"patch {got} is the right patch with row and column swapped: the index is "
                               f"row * {grid} + column (row-major)")
    return Feedback(False, f"blanking patch {got} lowers the predicted class's probability by "
                           f"{drops[got]:.3f}; another patch lowers it by more. Occlude each of the "
                           f"{len(drops)} patches in turn (set its pixels to 0), and take the argmax of the "
                           "drops of the class predicted on the full image.")
