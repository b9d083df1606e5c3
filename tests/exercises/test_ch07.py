"""Tests of the exercise checkers of chapter 7 (xai_tutorial.exercises.ch07): the padding masker,
the predict function shap needs, the efficiency identity and the AUC of random scores.

Each checker accepts a right answer written differently from the book's solution, rejects the
typical wrong answers with a hint that does not print the expected value, and answers unusable
input with "Not yet" instead of raising."""
import numpy as np
import pytest
from known_models import additive_model

from xai_tutorial import agreement, text_shap
from xai_tutorial.exercises import ch07
from checker_asserts import not_yet, rejected

# shap's plotting module, imported with shap, uses matplotlib calls that matplotlib 3.11 marks as pending deprecation
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

# tiny_clf (a small trained text classifier) comes from tests/conftest.py


# --------------------------------------------------------------------------- masker

def test_masker_right_answers():
    assert ch07.check_masker(lambda mask, x: np.where(mask, x, 0).astype(x.dtype)[None])

    def by_multiplication(mask, x):  # written differently: multiply by the mask, reshape to a row
        return (np.asarray(x) * np.asarray(mask, dtype=x.dtype)).reshape(1, -1)
    assert ch07.check_masker(by_multiplication)


def in_place(mask, x):
    x[~mask] = 0
    return x[None]


@pytest.mark.parametrize("fn, words", [
    (lambda mask, x: np.where(mask, x, 0), "leading axis"),
    (lambda mask, x: np.where(~mask, x, 0)[None], "inverted"),
    (lambda mask, x: np.where(mask, x, 0.0)[None], "integers"),
    (in_place, "in place"),
    (lambda mask, x: x[None], "x unchanged"),
    (lambda mask, x: np.where(mask, x, 1)[None], "should be padding, id 0"),
    (lambda mask, x: np.where(mask, x, 0)[None, None], "expected (1, 8)"),
])
def test_masker_typical_mistakes(fn, words):
    rejected(ch07.check_masker(fn), words)


@pytest.mark.parametrize("fn", [None, "mask", lambda mask, x: None, lambda mask: mask, lambda mask, x: "ids",
                                lambda mask, x: 1 / 0])
def test_masker_unusable_answers_say_not_yet(fn):
    not_yet(ch07.check_masker(fn))


# --------------------------------------------------------------------------- predict function

def test_predict_fn_right_answers(tiny_clf):
    good = lambda ids: np.asarray(tiny_clf.model(np.asarray(ids, np.int32), training=False))[:, 0]  # noqa: E731
    assert ch07.check_predict_fn(good, tiny_clf)
    # written differently: the model's predict_proba, reshaped
    assert ch07.check_predict_fn(lambda ids: tiny_clf.predict_proba(np.int32(ids)).reshape(-1), tiny_clf)


def test_predict_fn_typical_mistakes(tiny_clf):
    def probs(ids):
        return np.asarray(tiny_clf.model(np.asarray(ids, np.int32), training=False), dtype=np.float64)[:, 0]

    logit = lambda ids: np.log(probs(ids) / (1 - probs(ids))) - 5.0  # noqa: E731  (logits of a confident model)
    cases = [
        (lambda ids: np.asarray(tiny_clf.model(np.asarray(ids, np.int32))), "[:, 0]"),
        (lambda ids: tiny_clf.model(np.asarray(ids, np.int32))[:, 0], "np.asarray"),
        (lambda ids: 1.0 - probs(ids), "negative"),
        (lambda ids: 1 / (1 + np.exp(-probs(ids))), "sigmoid is applied twice"),
        (logit, "outside [0, 1]"),
        (lambda ids: probs(ids)[:1], "expected"),
        (lambda ids: (probs(ids) > 0.5).astype(int), "dtype"),
        (lambda ids: probs(np.minimum(ids, 3)), "too"),       # changes the ids before predicting
    ]
    for fn, words in cases:
        fb = ch07.check_predict_fn(fn, tiny_clf)
        rejected(fb, words, "expected 0.", "expected 1.")
    with pytest.raises(TypeError, match="TextAttentionClassifier"):
        ch07.check_predict_fn(probs, tiny_clf.model)


@pytest.mark.parametrize("fn", [None, 0.5, lambda ids: None, lambda: 0.5, lambda ids: "p"])
def test_predict_fn_unusable_answers_say_not_yet(fn, tiny_clf):
    not_yet(ch07.check_predict_fn(fn, tiny_clf))


# --------------------------------------------------------------------------- efficiency

IDS = np.array([[1, 3, 4, 0, 0], [2, 7, 5, 9, 0], [8, 1, 10, 0, 0]])


def model(ids):
    """The additive model squeezed into [0.05, 0.85]: its empty sentence predicts 0.45, not 0.5."""
    return 0.8 * additive_model(ids) + 0.05


@pytest.fixture(scope="module")
def shap_values():
    return text_shap.token_shap_values(model, IDS, max_evals=60)


def test_efficiency_right_answers(shap_values):
    values = shap_values
    f_x, f_empty = model(IDS[1:2])[0], model(np.zeros((1, 5), int))[0]
    assert ch07.check_efficiency(1, values[1].sum(), f_x, f_empty, values, model, IDS)
    # written differently: np.sum over a slice, predictions of a whole batch
    preds = model(np.vstack([IDS, np.zeros((1, 5), int)]))
    assert ch07.check_efficiency(1, np.sum(values[1:2]), preds[1], preds[-1], values, model, IDS)


def test_efficiency_typical_mistakes(shap_values):
    values = shap_values
    f_x, f_empty = float(model(IDS[1:2])[0]), float(model(np.zeros((1, 5), int))[0])
    total = float(values[1].sum())
    field = {"total": f"{total:.6g}", "f_x": f"{f_x:.6g}", "f_empty": f"{f_empty:.6g}"}
    cases = [
        ((values.sum(), f_x, f_empty), "*all* sentences"),
        ((values[:, 1].sum(), f_x, f_empty), "column 1"),
        ((np.abs(values[1]).sum(), f_x, f_empty), "absolute values"),
        ((total + 0.3, f_x, f_empty), "too large"),
        ((total, 1 - f_x, f_empty), "negative class"),
        ((total, f_x + 0.2, f_empty), "too large"),
        ((total, f_x, 0.0), "not 0"),
        ((total, f_x, 0.5), "not simply 0.5"),
        ((total, f_x, f_empty - 0.2), "too small"),
    ]
    if abs(np.abs(values[1]).sum() - total) < 1e-6:
        cases.pop(2)
    for (t, fx, fe), words in cases:
        wrong = "total" if t != total else ("f_x" if fx != f_x else "f_empty")
        rejected(ch07.check_efficiency(1, t, fx, fe, values, model, IDS), words, field[wrong])
    fake = values.copy()
    fake[1, 0] += 0.1
    rejected(ch07.check_efficiency(1, fake[1].sum(), f_x, f_empty, fake, model, IDS),
             "do not satisfy efficiency")
    with pytest.raises(ValueError, match="same shape"):
        ch07.check_efficiency(0, 0.0, 0.0, 0.0, values[:, :3], model, IDS)


@pytest.mark.parametrize("answers", [(None, 0.1, 0.1), (0.1, None, 0.1), (0.1, 0.1, None), ("x", 0.1, 0.1),
                                     (np.zeros(3), 0.1, 0.1), (0.1, float("nan"), 0.1), (..., ..., ...)])
def test_efficiency_unusable_answers_say_not_yet(shap_values, answers):
    not_yet(ch07.check_efficiency(1, *answers, shap_values, model, IDS))


# --------------------------------------------------------------------------- random AUC

RNG = np.random.default_rng(0)
RATIONALE = RNG.random((100, 20)) < 0.1
VALID = np.ones((100, 20), bool)
VALID[:, 15:] = False


def test_random_auc_right_answers():
    auc = agreement.rationale_auc(np.random.default_rng(1).random((100, 20)), RATIONALE, VALID)
    assert ch07.check_random_auc(auc, RATIONALE, VALID)
    # written differently: normal instead of uniform scores, another seed
    auc2 = agreement.rationale_auc(np.random.default_rng(7).normal(size=(100, 20)), RATIONALE, VALID)
    assert ch07.check_random_auc(np.float32(auc2), RATIONALE, VALID)


@pytest.mark.parametrize("auc, words", [
    (0.98, "too good"),                                    # a real attribution or the rationale itself
    (0.7, "standard deviations from chance"),
    (0.3, "standard deviations from chance"),
    (50.2, "[0, 1]"),                                      # in percent
    (0.5, "exactly 0.5"),                                  # typed, not computed
])
def test_random_auc_typical_mistakes(auc, words):
    rejected(ch07.check_random_auc(auc, RATIONALE, VALID), words, "0.5 ±", "± 0.")


@pytest.mark.parametrize("auc", [None, "0.5", [0.5, 0.5], float("nan"), ...])
def test_random_auc_unusable_answers_say_not_yet(auc):
    not_yet(ch07.check_random_auc(auc, RATIONALE, VALID))


def test_random_auc_bad_context_raises():
    with pytest.raises(ValueError, match="bool arrays"):
        ch07.check_random_auc(0.5, RATIONALE.astype(int), VALID)
