"""End-to-end smoke test: the README example computes what NumPy computes."""
import numpy as np

import netjit as nj


def test_readme_example_matches_numpy():
    rng = np.random.default_rng(0)
    net = nj.Net("mlp")
    x = net.Placeholder("x", np.float32, (None, 8))
    wv = rng.random((8, 3)).astype(np.float32)
    w = net.Const(wv, "w")
    h = net.Relu(net.MatMul([x, w]))
    y = net.Softmax(h, "y")
    xv = rng.random((2, 8)).astype(np.float32)
    with nj.Session(net) as sess:
        out = sess.run({"probs": y, "hidden": [h]}, {x: xv})
    hv = np.maximum(xv @ wv, 0)
    e = np.exp(hv - hv.max(axis=1, keepdims=True))
    np.testing.assert_allclose(out["hidden"][0], hv, rtol=1e-6)
    np.testing.assert_allclose(out["probs"], e / e.sum(axis=1, keepdims=True), rtol=1e-6)
    program = nj.compile(net, y, feeds=[x])
    np.testing.assert_allclose(program(xv), out["probs"], rtol=1e-6)
