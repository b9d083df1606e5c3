"""Tests of xai_tutorial.exercises.core: the Feedback, the prologue every checker shares, the generic
checks, and the promise that no checker raises on an unfinished answer."""
import functools
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from xai_tutorial.exercises import (Feedback, NotYet, answer_array, answer_int, answer_number, call, ch02, ch03,
                                    ch04, ch05, ch06, ch07, ch08, ch09, ch10, ch11, check_array, check_function,
                                    check_scalar, check_shape, check_true, checker, describe, describe_exception,
                                    function_name, require, require_callable)


def test_feedback_is_truthy_only_when_passed_and_displays_verdict():
    ok, bad = Feedback(True, "fine"), Feedback(False, "off by one")
    assert ok and not bad
    assert str(ok) == "Correct: fine" and str(bad) == "Not yet: off by one"
    assert "✅" in ok._repr_markdown_() and "❌" in bad._repr_markdown_()


def test_check_array_reports_each_kind_of_mistake():
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert check_array(expected.copy(), expected)
    res = check_array(None, expected)
    assert not res and "forget to `return`" in res.message
    res = check_array(expected.T.reshape(4), expected)
    assert not res and "shape (4,), expected (2, 2)" in res.message and "reshape" in res.message
    res = check_array(np.zeros((3, 2)), np.zeros((2, 3)))
    assert not res and "transposed" in res.message
    res = check_array(np.array([[1.0, np.nan], [3.0, 4.0]]), expected)
    assert not res and "NaN" in res.message
    wrong = expected.copy()
    wrong[1, 0] = 30.0
    res = check_array(wrong, expected, name="weights")
    assert not res and "1 of 4 value(s) of weights differ" in res.message
    assert "index (1, 0), where weights holds 30, which is too large" in res.message and "expected 3" not in res.message
    res = check_array("text", expected)
    assert not res and "must be an array of numbers" in res.message


def test_check_scalar():
    assert check_scalar(0.5000001, 0.5, tol=1e-6)
    res = check_scalar(0.7, 0.5, name="AUC", tol=0.01)
    assert not res and "AUC = 0.7 is too large" in res.message and "0.5" not in res.message
    res = check_scalar([1, 2], 0.5)
    assert not res and "single number" in res.message


def test_check_true():
    assert check_true(True, "yes", "no").message == "yes"
    assert check_true(False, "yes", "no").message == "no"


def test_check_function_compares_with_reference_and_catches_exceptions():
    ref = lambda x: np.asarray(x) ** 2  # noqa: E731
    cases = [(np.arange(3.0),), (np.array([-1.0, 0.5]),)]
    assert check_function(lambda x: np.asarray(x) ** 2, ref, cases)
    res = check_function(lambda x: np.abs(np.asarray(x)) * np.asarray(x), ref, cases, name="square")
    assert not res and "test case 2" in res.message

    def broken(x):
        raise KeyError("boom")

    res = check_function(broken, ref, cases)
    assert not res and "raised KeyError" in res.message and "test case 1" in res.message
    res = check_function(3, ref, cases)
    assert not res and "expected a function" in res.message


# --------------------------------------------------------------------------- the shared prologue

def test_the_doctests_of_core_pass():
    import doctest

    from xai_tutorial.exercises import core

    result = doctest.testmod(core)
    assert result.attempted >= 25 and result.failed == 0


def test_feedback_with_hint_puts_one_separator():
    assert Feedback(False, "off").with_hint("try again").message == "off. try again"
    assert Feedback(False, "off.").with_hint("try again").message == "off. try again"
    assert Feedback(False, "off?").with_hint("try again").message == "off? try again"
    assert Feedback(True, "fine").with_hint("x")  # the verdict is kept


def test_checker_turns_not_yet_into_feedback_and_lets_context_errors_through():
    @checker
    def check(answer, context):
        if not isinstance(context, int):
            raise TypeError("context must be an int")
        require(check_scalar(answer, 2.0, name="answer"))
        raise NotYet("a message")

    res = check(3.0, 1)
    assert isinstance(res, Feedback) and not res and "answer = 3 is too large" in res.message
    assert check(2.0, 1).message == "a message"
    with pytest.raises(TypeError, match="context must be an int"):
        check(2.0, "one")
    assert check.__name__ == "check"  # functools.wraps keeps the name and docstring
    assert require(Feedback(True, "ok")).message == "ok"


@pytest.mark.parametrize("answer, says", [
    (None, "x is None, expected an array of numbers: assign your answer"),
    (..., "x is still `...`, the starter's placeholder"),
    ("1, 2", "x must be an array of numbers, got the text '1, 2'"),
    (["1", "2"], "x must be an array of numbers, got a list"),
    ([[1.0, 2.0], [3.0]], "x must be an array of numbers, got a list"),  # ragged
    ({"a": 1}, "x must be an array of numbers, got a dict"),
    (1 + 2j, "x must be an array of numbers"),
    (np.mean, "got the function mean"),
])
def test_answer_array_rejects_what_is_not_numbers(answer, says):
    with pytest.raises(NotYet, match=re.escape(says)):
        answer_array(answer, "x")
    res = checker(answer_array)(answer, "x")
    assert isinstance(res, Feedback) and not res and says in res.message


def test_answer_array_converts_and_checks_the_shape():
    out = answer_array([[1, 2], [3, 4]], "x")
    assert out.dtype == np.float64 and out.shape == (2, 2)
    assert answer_array([True, False], "m", dtype=None).dtype == bool  # dtype=None keeps the dtype
    assert answer_array(np.arange(3, dtype=np.int32), "i", dtype=None).dtype == np.int32
    tensor = tf.constant([[1.0, 2.0]])  # anything NumPy can read works
    np.testing.assert_array_equal(answer_array(tensor, "t", shape=(1, 2)), [[1.0, 2.0]])
    with pytest.raises(NotYet, match=re.escape("W has shape (3, 2), expected (2, 3) (transposed?)")):
        answer_array(np.zeros((3, 2)), "W", shape=(2, 3))
    with pytest.raises(NotYet, match="same number of entries: a transpose or reshape may be missing"):
        answer_array(np.zeros(6), "W", shape=(2, 3))
    with pytest.raises(NotYet, match=re.escape("W has shape (4,), expected (2, 3)") + "$"):
        check_shape(np.zeros(4), (2, 3), "W")
    assert check_shape(np.zeros((2, 3)), [2, 3]).shape == (2, 3)


def test_answer_number():
    assert answer_number(np.float32(0.25)) == 0.25 and answer_number([[3]]) == 3.0
    assert isinstance(answer_number(np.int64(2)), float)
    for bad, says in [(None, "is None, expected a single number"), (True, "got the bool True"),
                      ("0.5", "got the text '0.5'"), ([1, 2], "got a list of shape (2,)"),
                      (float("nan"), "is nan, not a finite number"), (np.inf, "is inf, not a finite number"),
                      (..., "still `...`")]:
        with pytest.raises(NotYet, match=re.escape(says)):
            answer_number(bad, "the AUC")
    with pytest.raises(NotYet, match="the AUC must be a probability, got"):
        answer_number("x", "the AUC", what="a probability")


def test_answer_int_strict_for_indices_and_whole_floats_for_counts():
    assert answer_int(3) == 3 and answer_int(np.int64(3)) == 3 and answer_int(np.array([3])) == 3
    assert answer_int(np.argmax([0.1, 0.9])) == 1
    assert answer_int(641.0, whole_floats=True) == 641
    for bad in (3.0, np.float64(3.0), True, np.bool_(False), "3", [1, 2], None):
        with pytest.raises(NotYet, match="index"):
            answer_int(bad, "the index", what="an int index")
    for bad in (640.5, np.inf, np.nan):
        with pytest.raises(NotYet, match="the count must be a whole number"):
            answer_int(bad, "the count", whole_floats=True)


def test_require_callable():
    assert require_callable(len) is len
    with pytest.raises(NotYet, match=re.escape("expected a function f(x), got None") + "$"):
        require_callable(None, "a function f(x)")
    with pytest.raises(NotYet, match=re.escape("got an array of shape (3,) and dtype float64 (pass the "
                                               "function itself, without calling it)")):
        require_callable(np.zeros(3), "a function f(x)")


def test_call_returns_the_result_or_names_the_problem():
    assert call(lambda a, b: a + b, 1, 2) == 3
    with pytest.raises(NotYet, match=re.escape("f raised KeyError: 'boom' on test case 2")):
        call(lambda: {}["boom"], name="f", case="on test case 2")
    with pytest.raises(NotYet, match=re.escape("f returned None: did it forget to `return` its result?")):
        call(lambda: None, name="f")
    with pytest.raises(NotYet, match="returned `...`"):
        call(lambda: ..., name="f")

    class KerasLikeError(ValueError):
        pass

    keras_text = ("\x1b[1mshapes do not match\x1b[0m\n\nArguments received by Attention.call():\n"
                  "  • query=tf.Tensor(shape=(3, 5, 4))")
    with pytest.raises(NotYet, match=re.escape("raised KerasLikeError: shapes do not match") + "$"):
        call(lambda: (_ for _ in ()).throw(KerasLikeError(keras_text)), name="layer")


def test_call_protects_the_test_case_and_keeps_aliasing():
    x = np.arange(3.0)

    def in_place(a, b):
        a += 1
        return a is b

    assert call(in_place, x, x) is True  # the two copies are one object, as the two arguments were
    np.testing.assert_array_equal(x, [0.0, 1.0, 2.0])  # the caller's array is untouched
    call(in_place, x, x, copy_args=False)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])  # unless copies are switched off


def test_call_silences_numpy_floating_point_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = call(lambda s: np.exp(s) / np.exp(s).sum(), np.array([1000.0, 1.0]))
    assert np.isnan(out[0])


def test_describe_and_function_name():
    assert describe(None) == "None" and describe(...).startswith("`...`")
    assert describe(True) == "the bool True" and describe(np.float64(0.5)) == "the number 0.5"
    assert describe("x" * 60) == f"the text {'x' * 37 + '...'!r}"
    assert describe(Feedback) == "the class Feedback" and describe(lambda: 0) == "a function"
    assert describe((np.zeros(2), np.zeros(3))) == "a tuple"  # ragged: NumPy cannot read it
    assert describe(np.zeros((2, 3), np.float32)) == "an array of shape (2, 3) and dtype float32"
    assert function_name(np.mean) == "mean" and function_name(lambda: 0) == "your function"
    assert function_name(functools.partial(np.mean), "f") == "f"
    assert describe_exception(KeyError("k")) == "KeyError: 'k'" and describe_exception(ValueError()) == "ValueError"


# --------------------------------------------------------------------------- every checker, unanswered

_A, _V = np.array([0.7, 0.1, 0.1, 0.1]), np.ones((4, 2))
_SANITY = pd.DataFrame({"+ output": [1.0, 0.5], "+ embedding": [0.9, 0.1]}, index=["random", "attention"])

#: every checker whose context the test can build without a trained model, with the answer in first place
CHECKERS = {
    "ch02.check_attend": ch02.check_attend,
    "ch02.check_families": ch02.check_families,
    "ch03.check_attention_weights": ch03.check_attention_weights,
    "ch03.check_masked_softmax": ch03.check_masked_softmax,
    "ch03.check_causal_mask": ch03.check_causal_mask,
    "ch03.check_split_heads": ch03.check_split_heads,
    "ch04.check_toy_permutation_importance": lambda a: ch04.check_toy_permutation_importance(a, 0.0),
    "ch04.check_three_player_shapley": ch04.check_three_player_shapley,
    "ch04.check_linear_shapley": ch04.check_linear_shapley,
    "ch05.check_ig_product": ch05.check_ig_product,
    "ch05.check_weighted_r2": ch05.check_weighted_r2,
    "ch06.check_fixed_attention": ch06.check_fixed_attention,
    "ch07.check_masker": ch07.check_masker,
    "ch08.check_image_to_patches": ch08.check_image_to_patches,
    "ch08.check_rollout": ch08.check_rollout,
    "ch08.check_most_important_patch": lambda a: ch08.check_most_important_patch(
        a, lambda x: np.stack([x.sum(axis=(1, 2)), -x.sum(axis=(1, 2))], 1), np.ones((16, 4))),
    "ch09.check_jsd": ch09.check_jsd,
    "ch09.check_shortcut_rule": lambda a: ch09.check_shortcut_rule(a, {"a": np.array([[7, 1], [2, 3]])},
                                                                   np.array([1, 0]), 7),
    "ch10.check_deletion_curve": ch10.check_deletion_curve,
    "ch10.check_comprehensiveness": lambda a: ch10.check_comprehensiveness(a, a),
    "ch10.check_randomization": lambda a: ch10.check_randomization(a, a, _SANITY),
    "ch10.check_surrogate_depth": lambda a: ch10.check_surrogate_depth(
        a, pd.DataFrame({"depth": [1, 2], "fidelity (test)": [0.9, 0.97]})),
    "ch11.check_contribution": lambda a: ch11.check_contribution(a, a, _A, _V),
    "ch11.check_attention_kind": lambda a: ch11.check_attention_kind(a, a),
    "ch11.check_efficiency": lambda a: ch11.check_efficiency(a, a, lambda z: z.sum(axis=1), np.ones((1, 3)),
                                                             np.zeros((4, 3))),
}


def _raises(*args):
    raise RuntimeError("not implemented yet")


#: the checkers whose answer is a function (or, in chapter 6, a class)
TAKE_A_FUNCTION = {"ch02.check_attend", "ch03.check_masked_softmax", "ch03.check_causal_mask",
                   "ch03.check_split_heads", "ch04.check_linear_shapley", "ch05.check_ig_product",
                   "ch05.check_weighted_r2", "ch07.check_masker", "ch08.check_image_to_patches", "ch09.check_jsd",
                   "ch09.check_shortcut_rule", "ch11.check_attention_kind"}


@pytest.mark.parametrize("name", sorted(CHECKERS))
@pytest.mark.parametrize("kind", ["None", "...", "text", "a function that raises", "a function without return"])
def test_every_checker_answers_an_unfinished_answer_with_feedback(name, kind):
    answer = {"None": None, "...": ..., "text": "my answer", "a function that raises": _raises,
              "a function without return": lambda *args: None}[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and prints no warning
        res = CHECKERS[name](answer)
    assert isinstance(res, Feedback) and not res, (name, kind)
    says = {"None": "None", "...": "`...`", "text": "'my answer'"}.get(kind)
    if says is None and name in TAKE_A_FUNCTION:
        says = "raised RuntimeError: not implemented yet" if answer is _raises else "returned None"
    elif says is None:
        says = "function"  # a value (or a class) was expected, and the message says what came
    assert says is None or says in res.message, (name, kind, res.message)
