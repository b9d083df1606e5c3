"""Tests of the exercise checkers of chapter 3 (xai_tutorial.exercises.ch03): the right answer
passes, and each usual mistake (no scaling, the wrong softmax axis, the future visible, heads cut
the wrong way) fails with a message that names it."""
import numpy as np

from xai_tutorial import attention as A
from xai_tutorial.exercises import ch03


def test_check_attention_weights_accepts_the_answer_and_names_mistakes():
    q, k = ch03.Q_EXERCISE, ch03.K_EXERCISE
    assert ch03.check_attention_weights(A.softmax(q @ k.T / np.sqrt(2)))
    unscaled = ch03.check_attention_weights(A.softmax(q @ k.T))
    assert not unscaled and "√d_k" in unscaled.message
    wrong_axis = ch03.check_attention_weights(A.softmax(q @ k.T / np.sqrt(2), axis=0))
    assert not wrong_axis and "columns" in wrong_axis.message
    assert "K Qᵀ" in ch03.check_attention_weights(np.zeros((3, 2))).message
    assert "scores" in ch03.check_attention_weights(q @ k.T).message


def test_check_masked_softmax_accepts_the_answer_and_names_mistakes():
    assert ch03.check_masked_softmax(A.masked_softmax)

    def forgets_mask(scores, mask):
        return A.softmax(scores)

    def unstable(scores, mask):
        e = np.where(mask, np.exp(scores), 0.0)
        return e / e.sum(axis=-1, keepdims=True)

    with np.errstate(over="ignore", invalid="ignore"):
        msg_unstable = ch03.check_masked_softmax(unstable)
    msg_mask = ch03.check_masked_softmax(forgets_mask)
    assert not msg_mask and "exactly 0" in msg_mask.message
    assert not msg_unstable and "maximum" in msg_unstable.message
    assert not ch03.check_masked_softmax(None)


def test_check_causal_mask_accepts_the_answer_and_names_mistakes():
    assert ch03.check_causal_mask(A.causal_mask)
    upper = ch03.check_causal_mask(lambda n: np.triu(np.ones((n, n), dtype=bool)))
    assert not upper and "future" in upper.message
    strict = ch03.check_causal_mask(lambda n: np.tril(np.ones((n, n), dtype=bool), -1))
    assert not strict and "diagonal" in strict.message
    ints = ch03.check_causal_mask(lambda n: np.tril(np.ones((n, n))))
    assert not ints and "boolean" in ints.message


def test_check_split_heads_accepts_the_answer_and_names_mistakes():
    assert ch03.check_split_heads(A.split_heads)
    plain = ch03.check_split_heads(lambda x, h: x.reshape(x.shape[0], h, x.shape[1], -1))
    assert not plain and "plain reshape" in plain.message
    inter = ch03.check_split_heads(
        lambda x, h: x.reshape(x.shape[0], x.shape[1], -1, h).transpose(0, 3, 1, 2))
    assert not inter and "interleaved" in inter.message
