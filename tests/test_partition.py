import numpy as np
import pytest

from rum_core.partition import random_forget_set


def test_random_forget_set_size_sorted_unique():
    f = random_forget_set(100, fraction=0.1, seed=0)
    assert len(f) == 10 and np.all(np.diff(f) > 0) and f.dtype == np.int64
    assert len(random_forget_set(100, size=7, seed=0)) == 7


@pytest.mark.parametrize("kwargs", [{}, {"size": 3, "fraction": 0.1}, {"fraction": 1.0}, {"size": 0},
                                    {"size": 100}])
def test_random_forget_set_errors(kwargs):
    with pytest.raises(ValueError):
        random_forget_set(100, **kwargs)
