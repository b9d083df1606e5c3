"""Tests of the exercise checkers of chapter 7 (xai_tutorial.exercises.ch07): the padding masker,
the predict function shap needs, the efficiency identity and the AUC of random scores."""
import numpy as np
import pytest
from known_models import additive_model

from xai_tutorial import agreement, text_shap
from xai_tutorial.exercises import ch07

# shap's plotting module, imported with shap, uses matplotlib calls that matplotlib 3.11 marks as pending deprecation
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

# tiny_clf (a small trained text classifier) comes from tests/conftest.py


def test_check_masker():
    assert ch07.check_masker(lambda mask, x: np.where(mask, x, 0).astype(x.dtype)[None])
    fb = ch07.check_masker(lambda mask, x: np.where(mask, x, 0))
    assert not fb and "leading axis" in fb.message
    fb = ch07.check_masker(lambda mask, x: np.where(~mask, x, 0)[None])
    assert not fb and "inverted" in fb.message
    fb = ch07.check_masker(lambda mask, x: np.where(mask, x, 0.0)[None])
    assert not fb and "integers" in fb.message
    fb = ch07.check_masker(lambda mask, x: None)
    assert not fb and "return" in fb.message

    def in_place(mask, x):
        x[~mask] = 0
        return x[None]
    fb = ch07.check_masker(in_place)
    assert not fb and "in place" in fb.message


def test_check_predict_fn(tiny_clf):
    good = lambda ids: np.asarray(tiny_clf.model(np.asarray(ids, np.int32), training=False))[:, 0]  # noqa: E731
    assert ch07.check_predict_fn(good, tiny_clf)
    fb = ch07.check_predict_fn(lambda ids: np.asarray(tiny_clf.model(np.asarray(ids, np.int32))), tiny_clf)
    assert not fb and "[:, 0]" in fb.message
    fb = ch07.check_predict_fn(lambda ids: tiny_clf.model(np.asarray(ids, np.int32))[:, 0], tiny_clf)
    assert not fb and "np.asarray" in fb.message
    fb = ch07.check_predict_fn(lambda ids: 1.0 - good(ids), tiny_clf)
    assert not fb and "negative" in fb.message
    with pytest.raises(TypeError, match="TextAttentionClassifier"):
        ch07.check_predict_fn(good, tiny_clf.model)


def test_check_efficiency():
    ids = np.array([[1, 3, 4, 0, 0], [2, 7, 5, 9, 0], [8, 1, 10, 0, 0]])
    values = text_shap.token_shap_values(additive_model, ids, max_evals=60)
    f_x, f_empty = additive_model(ids[1:2])[0], additive_model(np.zeros((1, 5), int))[0]
    assert ch07.check_efficiency(1, values[1].sum(), f_x, f_empty, values, additive_model, ids)
    fb = ch07.check_efficiency(1, values.sum(), f_x, f_empty, values, additive_model, ids)
    assert not fb and "*all* sentences" in fb.message
    fb = ch07.check_efficiency(1, values[1].sum(), f_x, 0.0, values, additive_model, ids)
    assert not fb and "not 0" in fb.message
    fb = ch07.check_efficiency(1, values[1].sum(), "x", f_empty, values, additive_model, ids)
    assert not fb and "f_x must be one finite number" in fb.message
    fake = values.copy()
    fake[1, 0] += 0.1
    fb = ch07.check_efficiency(1, fake[1].sum(), f_x, f_empty, fake, additive_model, ids)
    assert not fb and "do not satisfy efficiency" in fb.message
    with pytest.raises(ValueError, match="same shape"):
        ch07.check_efficiency(0, 0.0, 0.0, 0.0, values[:, :3], additive_model, ids)


def test_check_random_auc():
    rng = np.random.default_rng(0)
    rationale = rng.random((100, 20)) < 0.1
    valid = np.ones((100, 20), bool)
    auc = agreement.rationale_auc(rng.random((100, 20)), rationale, valid)
    assert ch07.check_random_auc(auc, rationale, valid)
    fb = ch07.check_random_auc(0.98, rationale, valid)
    assert not fb and "too good" in fb.message
    fb = ch07.check_random_auc(0.7, rationale, valid)
    assert not fb and "standard deviations" in fb.message
    fb = ch07.check_random_auc(1.3, rationale, valid)
    assert not fb and "[0, 1]" in fb.message
    with pytest.raises(ValueError, match="bool arrays"):
        ch07.check_random_auc(0.5, rationale.astype(int), valid)
