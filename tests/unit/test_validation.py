import numpy as np
import pytest

from xai_tutorial import _validation as v


def test_as_float_array_converts_and_checks_ndim():
    out = v.as_float_array([[1, 2], [3, 4]], "x", ndim=2)
    assert out.dtype == np.float64 and out.shape == (2, 2)
    with pytest.raises(ValueError, match=r"x must be 1-D, got a 2-D array of shape \(2, 2\)"):
        v.as_float_array([[1, 2], [3, 4]], "x", ndim=1)
    with pytest.raises(ValueError, match="x must be 1-D or 3-D"):
        v.as_float_array([[1.0]], "x", ndim=(1, 3))


@pytest.mark.parametrize("bad", ["abc", None, np.array(["a", "b"]), np.array([object(), 1], dtype=object)])
def test_as_float_array_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match="x must"):
        v.as_float_array(bad, "x")


def test_as_float_array_nan_policy():
    with pytest.raises(ValueError, match=r"x must be finite, got 2 NaN or infinite"):
        v.as_float_array([1.0, np.nan, np.inf], "x")
    assert np.isnan(v.as_float_array([np.nan], "x", allow_nan=True)).all()


def test_as_int_array():
    assert v.as_int_array([1.0, 2.0], "ids").dtype == np.int64
    with pytest.raises(TypeError, match="ids must hold integers, got non-integer floats"):
        v.as_int_array([1.5], "ids")
    with pytest.raises(TypeError, match="ids must hold integers, got dtype"):
        v.as_int_array(np.array(["1"]), "ids")
    with pytest.raises(ValueError, match="ids must be 2-D"):
        v.as_int_array([1, 2], "ids", ndim=2)


def test_check_int_and_fraction_and_choice():
    assert v.check_int(np.int64(3), "n", 1, 5) == 3
    with pytest.raises(TypeError, match="n must be an int, got float"):
        v.check_int(3.0, "n")
    with pytest.raises(TypeError, match="n must be an int, got bool"):
        v.check_int(True, "n")
    with pytest.raises(ValueError, match=r"n must be in \[1, 5\], got 6"):
        v.check_int(6, "n", 1, 5)
    assert v.check_fraction(0.25, "f") == 0.25
    with pytest.raises(ValueError, match=r"f must be in \(0, 1\), got 1.0"):
        v.check_fraction(1.0, "f")
    assert v.check_fraction(1.0, "f", inclusive=True) == 1.0
    with pytest.raises(TypeError, match="f must be a number"):
        v.check_fraction("0.5", "f")
    with pytest.raises(ValueError, match=r"mode must be one of \('a', 'b'\), got 'c'"):
        v.check_choice("c", "mode", ("a", "b"))


def test_check_same_shape():
    v.check_same_shape(np.zeros(2), np.ones(2), "a", "b")
    with pytest.raises(ValueError, match=r"a and b must have the same shape, got \(2,\) and \(3,\)"):
        v.check_same_shape(np.zeros(2), np.ones(3), "a", "b")
