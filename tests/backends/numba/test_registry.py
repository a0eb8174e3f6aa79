"""Every registered op runs on the numba backend and agrees with the reference."""
import numpy as np
import pytest

from netjit.compiler.ops import OP_REGISTRY, Add, Exp, FusedElementwise, Mul, Sample, Tanh

from numba_helpers import assert_same_results, graph_of_samples

#: Ops whose samples cannot run in a stand-alone graph, with the reason.
NO_STANDALONE = {"Placeholder": "a graph input, not a computation",
                 "Recv": "only has a value inside a rendezvous (runtime tests cover it)",
                 "Send": "only has an effect inside a rendezvous (runtime tests cover it)",
                 "PackedMatMul": "its panels are packed for this machine's kernel (gemm.pack), which the "
                                 "samples cannot know; test_prepack.py covers it"}


def _fused_samples():
    prog = ((Mul(), (0, 1)), (Tanh(), (2,)), (Add(), (3, 0)), (Exp(), (1,)))
    op = FusedElementwise(prog, 2, (4, 5))
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((4,)).astype(np.float32)
    return [Sample(op, (a, b), None)]


def samples_of(name):
    cls = OP_REGISTRY[name]
    return _fused_samples() if cls is FusedElementwise else cls.samples()


@pytest.mark.parametrize("name", sorted(OP_REGISTRY))
def test_op_on_numba_matches_reference(name, numba_backend):
    if name in NO_STANDALONE:
        assert OP_REGISTRY[name].host or OP_REGISTRY[name].kind.value in ("communication", "source") \
            or name == "PackedMatMul"
        return
    samples = samples_of(name)
    if not samples and OP_REGISTRY[name].no_samples_reason:
        return      # covered by the op's own tests, which say why it has no samples
    assert samples, f"{name} has no samples"
    graph, feeds = graph_of_samples(f"reg_{name}", samples)
    exe = numba_backend.compile(graph)
    assert_same_results(graph, feeds, exe)
