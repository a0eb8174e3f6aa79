"""A numeric placeholder takes numbers only: no value that NumPy would convert by guessing."""
from __future__ import annotations

import numpy as np
import pytest

import netjit as nj
from netjit.errors import InvalidArgumentError


@pytest.fixture
def relu():
    net = nj.Net("p")
    x = net.Placeholder("x", np.float32, None)      # unknown rank: nothing else checks the value
    return net, x, net.Relu(x, "y")


@pytest.mark.parametrize("value", [None, [None, 1.0], "1e3", ["a", 1], b"12"])
def test_values_numpy_would_guess_at_are_refused(relu, value):
    net, x, y = relu
    with nj.Session(net, nj.SessionConfig(backend="reference")) as sess:
        with pytest.raises(InvalidArgumentError, match="cannot feed 'x': expected f32"):
            sess.run(y, {x: value})
        assert sess.run(y, {x: [1, -2.5]}).tolist() == [1.0, 0.0]     # the session stays usable


@pytest.mark.parametrize("value, expected", [(3, 3.0), (True, 1.0), ([1, 2.5], [1.0, 2.5])])
def test_numbers_take_the_placeholder_dtype(relu, value, expected):
    net, x, y = relu
    with nj.Session(net, nj.SessionConfig(backend="reference")) as sess:
        out = sess.run(y, {x: value})
    assert out.dtype == np.float32 and out.tolist() == expected
