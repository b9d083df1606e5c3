import numpy as np
import pytest

from xai_tutorial.reproducibility import set_seed


def test_same_seed_same_numbers_across_numpy_and_keras():
    import keras

    def draw():
        set_seed(7)
        layer = keras.layers.Dense(3)
        layer.build((None, 4))
        return np.random.rand(3), np.asarray(layer.kernel)

    (a1, k1), (a2, k2) = draw(), draw()
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(k1, k2)
    set_seed(8)
    assert not np.array_equal(np.random.rand(3), a1)


@pytest.mark.parametrize("bad, err", [(-1, ValueError), (2**32, ValueError), (1.5, TypeError), ("0", TypeError)])
def test_set_seed_rejects_bad_seeds(bad, err):
    with pytest.raises(err, match="seed"):
        set_seed(bad)
