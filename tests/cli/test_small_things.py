"""Small things users hit: the version, wrong attribute types, bad feed files, plan#NAME."""
from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

import netjit as nj
from netjit.errors import InvalidArgumentError


def netjit_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-c", "import sys; from netjit.cli import main; sys.exit(main())", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_version():
    out = netjit_cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"netjit {nj.__version__}"


@pytest.mark.parametrize("op, attrs, expected", [
    ("Softmax", {"axis": "one"}, "attribute axis='one' has type str, expected int"),
    ("ReduceSum", {"keepdims": "yes"}, "attribute keepdims='yes' has type str, expected bool"),
    ("Transpose", {"perm": 3}, "attribute perm=3 has type int, expected Optional[tuple]"),
])
def test_a_wrong_attribute_type_names_the_op_and_attribute(op, attrs, expected):
    net = nj.Net("n")
    x = net.Placeholder("x", np.float32, (2, 3))
    with pytest.raises(InvalidArgumentError, match=re.escape(f"{op} 'z' in net {net.name!r}: {expected}")):
        getattr(net, op)(x, "z", **attrs)


def test_a_text_file_given_as_a_feed_is_named_as_not_npy(tmp_path):
    net = nj.Net("n")
    net.Relu(net.Placeholder("x", np.float32, (None,)), "y")
    net.save(tmp_path / "n.json")
    (tmp_path / "bad.npy").write_text("hello\n")
    out = netjit_cli("run", str(tmp_path / "n.json"), "--feed", f"x={tmp_path / 'bad.npy'}", "--fetch", "y")
    assert out.returncode == 1
    assert "is not a .npy file" in out.stderr and "pickled" not in out.stderr


def test_a_missing_net_of_a_plan_file_is_named(tmp_path):
    net = nj.Net("a")
    net.Const(1, "one")
    plan = nj.Plan("p")
    plan.AddStep(nj.execution_step("s", net))
    plan.save(tmp_path / "p.json")
    out = netjit_cli("inspect", f"{tmp_path / 'p.json'}#nope")
    assert out.returncode == 1
    assert "no net 'nope' in plan 'p'; its nets are ['a']" in out.stderr
