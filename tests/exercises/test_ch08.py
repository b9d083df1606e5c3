"""Tests of the exercise checkers of chapter 8 (xai_tutorial.exercises.ch08): patches by hand, the
rollout of a two-layer example and the most important patch; the references are
data.image_to_patches and attention.attention_rollout."""
import numpy as np

from xai_tutorial import attention, data
from xai_tutorial.exercises import ch08


def test_check_image_to_patches_recognises_mistakes():
    assert ch08.check_image_to_patches(data.image_to_patches)
    naive = ch08.check_image_to_patches(lambda im, p: im.reshape(len(im), -1, p * p))
    assert not naive and "plain reshape" in naive.message

    def column_major(im, p):
        n, h, _ = im.shape
        g = h // p
        return im.reshape(n, g, p, g, p).transpose(0, 3, 1, 2, 4).reshape(n, g * g, p * p)

    def inner_transposed(im, p):
        n, h, _ = im.shape
        g = h // p
        return im.reshape(n, g, p, g, p).transpose(0, 1, 3, 4, 2).reshape(n, g * g, p * p)

    res = ch08.check_image_to_patches(column_major)
    assert not res and "column by column" in res.message
    res = ch08.check_image_to_patches(inner_transposed)
    assert not res and "flattened column by column" in res.message
    assert not ch08.check_image_to_patches(lambda im, p: None)
    assert "raised" in ch08.check_image_to_patches(lambda im, p: 1 / 0).message


def test_check_rollout_against_the_library_and_mistakes():
    layers = ch08.ROLLOUT_LAYERS
    right = attention.attention_rollout(layers)
    assert ch08.check_rollout(right)
    n = 3
    aug = [0.5 * w.mean(0) + 0.5 * np.eye(n) for w in layers]
    rows = [a / a.sum(1, keepdims=True) for a in aug]
    cols = [a / a.sum(0, keepdims=True) for a in aug]
    cases = {"wrong order": rows[0] @ rows[1], "normalised the columns": cols[1] @ cols[0],
             "residual": layers[1].mean(0) @ layers[0].mean(0), "last layer alone": rows[1],
             "one matrix per head": np.stack([right, right])}
    for hint, answer in cases.items():
        res = ch08.check_rollout(answer)
        assert not res and hint in res.message, (hint, res.message)
    assert not ch08.check_rollout(right + 0.01)


def test_check_most_important_patch_with_a_linear_model():
    a = np.linspace(-1.0, 2.0, 16)  # patch 15 helps class 0 most, patch 0 hurts it most

    def predict(x):
        score = (np.asarray(x).sum(-1) * a).sum(-1)
        e = np.exp(np.stack([score, np.zeros_like(score)], axis=1))
        return e / e.sum(1, keepdims=True)

    x = np.full((16, 4), 0.5)
    best, drops = ch08.most_important_patch(predict, x)
    assert best == 15 and drops.shape == (16,)
    assert ch08.check_most_important_patch(15, predict, x)
    assert "raises" in ch08.check_most_important_patch(0, predict, x).message
    assert "row-major index" in ch08.check_most_important_patch((3, 3), predict, x).message
    assert not ch08.check_most_important_patch(16, predict, x)
    assert not ch08.check_most_important_patch(7, predict, x)
