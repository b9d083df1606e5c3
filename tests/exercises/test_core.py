import numpy as np

from xai_tutorial.exercises import Feedback, check_array, check_function, check_scalar, check_true


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
    assert "index (1, 0): got 30, expected 3" in res.message
    res = check_array("text", expected)
    assert not res and "must be numeric" in res.message


def test_check_scalar():
    assert check_scalar(0.5000001, 0.5, tol=1e-6)
    res = check_scalar(0.7, 0.5, name="AUC", tol=0.01)
    assert not res and "AUC = 0.7 is too large; expected 0.5" in res.message
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
