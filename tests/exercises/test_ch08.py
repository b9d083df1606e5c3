"""Tests of the exercise checkers of chapter 8 (xai_tutorial.exercises.ch08): patches by hand, the
rollout of a two-layer example and the most important patch; the references are
data.image_to_patches and attention.attention_rollout.

Each checker accepts a right answer written differently from the book's solution, rejects the
typical wrong answers with a hint that does not print the expected value, and answers unusable
input with "Not yet" instead of raising."""
import numpy as np
import pytest

from xai_tutorial import attention, data
from xai_tutorial.exercises import ch08
from checker_asserts import rejected


# --------------------------------------------------------------------------- patches

def patches_by_slicing(images, p):
    """Right, written with slices instead of reshape/transpose."""
    n, h, _ = images.shape
    g = h // p
    return np.stack([np.stack([images[k, r * p:(r + 1) * p, c * p:(c + 1) * p].ravel()
                               for r in range(g) for c in range(g)]) for k in range(n)])


def column_major(im, p):
    n, h, _ = im.shape
    g = h // p
    return im.reshape(n, g, p, g, p).transpose(0, 3, 1, 2, 4).reshape(n, g * g, p * p)


def inner_transposed(im, p):
    n, h, _ = im.shape
    g = h // p
    return im.reshape(n, g, p, g, p).transpose(0, 1, 3, 4, 2).reshape(n, g * g, p * p)


def test_patches_right_answers():
    assert ch08.check_image_to_patches(data.image_to_patches)
    assert ch08.check_image_to_patches(patches_by_slicing)


@pytest.mark.parametrize("fn, words", [
    (lambda im, p: im.reshape(len(im), -1, p * p), "plain reshape"),
    (column_major, "column by column: patch 1"),
    (inner_transposed, "flattened column by column"),
    (lambda im, p: im.reshape(len(im), p * p, -1), "expected"),                 # (n, p*p, g*g)
    (lambda im, p: data.image_to_patches(im, p) + 1.0, "differ"),
    (lambda im, p: im.reshape(len(im), 4, 2, 4, 2).transpose(0, 1, 3, 2, 4).reshape(len(im), 16, 4),
     "the patches have shape"),                                                  # hard-coded p = 2
])
def test_patches_typical_mistakes(fn, words):
    fb = ch08.check_image_to_patches(fn)
    rejected(fb, words)
    assert "array([" not in fb.message  # no expected array is printed


@pytest.mark.parametrize("fn", [None, "to_patches", lambda im, p: None, lambda im, p: "patches",
                                lambda im: im, lambda im, p: 1 / 0, np.zeros((2, 2))])
def test_patches_unusable_answers_say_not_yet(fn):
    fb = ch08.check_image_to_patches(fn)
    assert not fb and str(fb).startswith("Not yet")


# --------------------------------------------------------------------------- rollout

LAYERS = ch08.ROLLOUT_LAYERS
RIGHT = attention.attention_rollout(LAYERS)


def rollout_by_loop():
    """Right, written with an explicit loop over the layers and np.linalg.multi_dot."""
    mats = []
    for w in LAYERS:
        a = (w.sum(axis=0) / len(w) + np.identity(3)) / 2
        mats.append(a / a.sum(axis=-1)[:, None])
    return np.linalg.multi_dot(mats[::-1])


def test_rollout_right_answers():
    assert ch08.check_rollout(RIGHT)
    assert ch08.check_rollout(rollout_by_loop())
    assert ch08.check_rollout(rollout_by_loop().tolist())


AUG = [0.5 * w.mean(0) + 0.5 * np.eye(3) for w in LAYERS]
ROWS = [a / a.sum(1, keepdims=True) for a in AUG]
COLS = [a / a.sum(0, keepdims=True) for a in AUG]


@pytest.mark.parametrize("answer, words", [
    (ROWS[0] @ ROWS[1], "wrong order"),
    (COLS[1] @ COLS[0], "normalised the columns"),
    (COLS[0] @ COLS[1], "normalised the columns and multiplied in the wrong order"),
    (LAYERS[1].mean(0) @ LAYERS[0].mean(0), "residual"),
    (ROWS[1], "last layer alone"),
    (np.stack([RIGHT, RIGHT]), "one matrix per head"),
    (RIGHT * 2, "sum to"),
    (RIGHT + np.array([[0.01, -0.01, 0.0]] * 3), "differ"),
    (RIGHT[:2], "shape"),
])
def test_rollout_typical_mistakes(answer, words):
    fb = ch08.check_rollout(answer)
    rejected(fb, words, *[f"{v:.3f}" for v in RIGHT[0]])


@pytest.mark.parametrize("answer", [None, ..., "R", [[1, 2], [3]], len])
def test_rollout_unusable_answers_say_not_yet(answer):
    fb = ch08.check_rollout(answer)
    assert not fb and str(fb).startswith("Not yet")


# --------------------------------------------------------------------------- occlusion

A = np.linspace(-1.0, 2.0, 16)
A[6] = 2.5  # patch 6 (row 1, column 2) helps class 0 most; patch 0 hurts it most


def predict(x):
    score = (np.asarray(x).sum(-1) * A).sum(-1)
    e = np.exp(np.stack([score, np.zeros_like(score)], axis=1))
    return e / e.sum(1, keepdims=True)


X = np.full((16, 4), 0.5)


def test_most_important_patch_right_answers():
    best, drops = ch08.most_important_patch(predict, X)
    assert best == 6 and drops.shape == (16,)
    assert ch08.check_most_important_patch(6, predict, X)
    # written differently: a loop over the patches, the answer as NumPy's argmax
    p0 = predict(X[None])[0, 0]
    loop = []
    for j in range(16):
        blanked = X.copy()
        blanked[j] = 0.0
        loop.append(p0 - predict(blanked[None])[0, 0])
    assert ch08.check_most_important_patch(np.argmax(loop), predict, X)
    assert ch08.check_most_important_patch(6.0, predict, X)


@pytest.mark.parametrize("answer, words", [
    (0, "*raises*"),                 # the argmin of the drops
    (7, "one past"),                 # numbered from 1
    (9, "row and column swapped"),   # column * 4 + row
    ((1, 2), "row-major index"),
    (14, "another patch lowers it by more"),
    (16, "run from 0 to 15"),
])
def test_most_important_patch_typical_mistakes(answer, words):
    fb = ch08.check_most_important_patch(answer, predict, X)
    rejected(fb, words, "patch 6", " 6 ", "is 6")


@pytest.mark.parametrize("answer", [None, "6", 6.5, np.array([6, 7]), ..., True])
def test_most_important_patch_unusable_answers_say_not_yet(answer):
    fb = ch08.check_most_important_patch(answer, predict, X)
    assert not fb and str(fb).startswith("Not yet")
