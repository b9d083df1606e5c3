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


# --------------------------------------------------------------------------- the classroom standard
# Each checker: a right answer written differently from the notebook's solution passes; typical
# wrong answers fail with a hint that does not print the expected answer; None and wrong types get
# "Not yet" and never raise.

def _reveals(message, expected):
    """Whether ``message`` prints one of the ``expected`` numbers (to 3, 4 or 6 significant digits)."""
    values = np.atleast_1d(np.asarray(expected, dtype=float)).ravel()
    shown = {f"{v:.{p}g}" for v in values for p in (3, 4, 6)} | {f"{v:.3f}" for v in values}
    return any(s in message for s in shown if len(s.strip("-0.")) >= 2)


def _not_yet(res):
    return not res and str(res).startswith("Not yet")


WEIGHTS = A.softmax(ch03.Q_EXERCISE @ ch03.K_EXERCISE.T / np.sqrt(2))


def test_check_attention_weights_accepts_the_precision_the_exercise_asks_for():
    # the three decimals the solution prints, and the pen-and-paper values from e^(1/√2) ≈ 2.028
    assert ch03.check_attention_weights(WEIGHTS.round(3))
    assert ch03.check_attention_weights([[0.401, 0.198, 0.401], [0.248, 0.248, 0.503]])
    by_hand = np.array([[2.028, 1, 2.028], [2.028, 2.028, 4.113]])
    assert ch03.check_attention_weights(by_hand / by_hand.sum(axis=1, keepdims=True))
    # two decimals are not enough
    assert not ch03.check_attention_weights(WEIGHTS.round(2))


def test_check_attention_weights_standard():
    q, k = ch03.Q_EXERCISE, ch03.K_EXERCISE
    raw = q @ k.T
    e = np.exp(raw / np.sqrt(2))
    wrong = {
        "unscaled": (A.softmax(raw), "√d_k"),
        "divided by d_k": (A.softmax(raw / 2), "√d_k = √2"),
        "columns": (A.softmax(raw / np.sqrt(2), axis=0), "columns"),
        "not normalised": (e, "divide each row by its sum"),
        "no exp": (raw / raw.sum(axis=1, keepdims=True), "exponentiates"),
        "scores": (raw / np.sqrt(2), "scores, not the weights"),
        "transposed": (WEIGHTS.T, "K Qᵀ"),
        "off": (WEIGHTS + [[0.05, -0.05, 0], [0, 0, 0]], "differ"),
    }
    for name, (answer, words) in wrong.items():
        res = ch03.check_attention_weights(answer)
        assert _not_yet(res) and words in res.message, (name, res.message)
        assert not _reveals(res.message, WEIGHTS), (name, res.message)
    for bad in (None, "weights", 0.5, [[1, 2], [3]], A.softmax, ...):
        assert _not_yet(ch03.check_attention_weights(bad))


def test_check_masked_softmax_standard():
    def right(scores, mask):  # written differently: a huge negative number and scipy's softmax
        from scipy.special import softmax
        w = softmax(np.where(mask, scores, -1e30), axis=-1)
        return np.where(mask, w, 0.0)

    assert ch03.check_masked_softmax(right)

    def zero_after(scores, mask):  # softmax first, then zero the masked weights: rows no longer sum to 1
        return A.softmax(scores) * mask

    def over_rows(scores, mask):  # normalised over the second-to-last axis
        s = np.where(mask, scores, -np.inf)
        e = np.exp(s - s.max(axis=-2, keepdims=True))
        return e / e.sum(axis=-2, keepdims=True)

    def mask_inverted(scores, mask):
        return A.masked_softmax(scores, ~mask | np.eye(*mask.shape[-2:], dtype=bool))

    for wrong, words in ((zero_after, "do not sum to 1"), (over_rows, ""), (mask_inverted, "exactly 0")):
        res = ch03.check_masked_softmax(wrong)
        assert _not_yet(res) and words in res.message, res.message
        expected = np.concatenate([A.masked_softmax(s, m).ravel() for s, m in ch03._masked_cases()])
        assert not _reveals(res.message, expected[(expected > 0) & (expected < 1)]), res.message
    for bad in (None, "softmax", 1.0, lambda s, m: None, lambda s: s, lambda s, m: "w"):
        assert _not_yet(ch03.check_masked_softmax(bad))


def test_check_causal_mask_standard():
    # written differently: np.greater_equal.outer of the indices
    assert ch03.check_causal_mask(lambda n: np.greater_equal.outer(np.arange(n), np.arange(n)))
    for wrong, words in ((lambda n: np.arange(n)[:, None] <= np.arange(n)[None, :], "future"),
                         (lambda n: np.arange(n)[:, None] > np.arange(n)[None, :], "diagonal"),
                         (lambda n: np.arange(n)[:, None] < np.arange(n)[None, :], "inverted"),
                         (lambda n: np.ones((n, n), dtype=bool), "differ")):
        res = ch03.check_causal_mask(wrong)
        assert _not_yet(res) and words in res.message, res.message
    for bad in (None, np.tri(4, dtype=bool), lambda n: None, lambda: 1, lambda n: "mask",
                lambda n: np.ones(n, dtype=bool)):
        assert _not_yet(ch03.check_causal_mask(bad))


def test_check_split_heads_rejects_a_function_that_ignores_n_heads():
    # right for the 2 heads of the old single test case, wrong for any other head count
    res = ch03.check_split_heads(lambda x, h: A.split_heads(x, 2))
    assert _not_yet(res) and "n_heads argument" in res.message
    # a fixed head size d_head = 4 instead of a fixed count
    res = ch03.check_split_heads(lambda x, h: x.reshape(x.shape[0], x.shape[1], -1, 4).transpose(0, 2, 1, 3))
    assert _not_yet(res)


def test_check_split_heads_standard():
    # written differently: stack the contiguous blocks of features
    def right(x, n_heads):
        return np.stack(np.split(x, n_heads, axis=-1), axis=1)

    assert ch03.check_split_heads(right)
    for wrong, words in (
            (lambda x, h: x.reshape(x.shape[0], x.shape[1], h, -1), "swap axes 1 and 2"),
            (lambda x, h: x.reshape(x.shape[0], h, x.shape[1], -1), "plain reshape"),
            (lambda x, h: x.reshape(x.shape[0], x.shape[1], -1, h).transpose(0, 3, 1, 2), "interleaved"),
            (lambda x, h: x.reshape(x.shape[0], x.shape[1], h, -1).transpose(0, 2, 1, 3)[:, ::-1], "differ")):
        res = ch03.check_split_heads(wrong)
        assert _not_yet(res) and words in res.message, res.message
    for bad in (None, "split", np.zeros((2, 2, 3, 4)), lambda x, h: None, lambda x: x,
                lambda x, h: x.reshape(-1, 5)):
        assert _not_yet(ch03.check_split_heads(bad))
