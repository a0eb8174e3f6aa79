"""Golden IR cases: name -> (pass, options, IR text before).

The text after the pass is in ``golden/<name>.txt`` (``/`` becomes ``__``);
a case whose name contains ``/not-`` must leave the graph unchanged.
"""

HDR = "graph g(%x, %y) {\n  %x:f32[?,4] = Placeholder(shape=(None, 4))\n  %y:f32[4] = Placeholder(shape=(4,))\n"


def g(body: str, ret: str) -> str:
    """A graph over placeholders x: f32[?,4], y: f32[4] with ``body`` lines."""
    lines = "".join(f"  {line.strip()}\n" for line in body.strip().splitlines())
    return f"{HDR}{lines}  return {ret}\n}}"


CASES = {
    # -- prune -----------------------------------------------------------
    "prune/unused": ("prune", {}, g("""
        %a:f32[?,4] = Exp(%x)
        %b:f32[?,4] = Log(%x)
        """, "%a")),
    # -- dce ---------------------------------------------------------------
    "dce/unused-chain": ("dce", {}, g("""
        %a:f32[?,4] = Exp(%x)
        %b:f32[?,4] = Log(%a)
        %c:f32[?,4] = Neg(%x)
        """, "%c")),
    # -- fold_constants --------------------------------------------------
    "fold/chain": ("fold_constants", {}, g("""
        %c:f32[2] = Const(value=f32[2][1.0, 2.0])
        %d:f32[2] = Mul(%c, %c)
        %e:f32[2] = Add(%d, %c)
        %f:f32[?,2] = Add(%x, %e)
        """, "%f").replace("%x:f32[?,4]", "%x:f32[?,2]").replace("(None, 4)", "(None, 2)", 1)),
    "fold/shape-ops": ("fold_constants", {}, g("""
        %c:f32[2,2] = Const(value=f32[2,2][[1.0, 2.0], [3.0, 4.0]])
        %t:f32[2,2] = Transpose(%c)
        %r:f32[4] = Reshape(%t, shape=(-1,))
        %s:f32[?,4] = Add(%x, %r)
        """, "%s")),
    "fold/not-placeholder": ("fold_constants", {}, g("""
        %c:f32[] = Const(value=f32[]2.0)
        %d:f32[?,4] = Mul(%x, %c)
        """, "%d")),
    "fold/size-cap": ("fold_constants", {"pass_options": {"fold_constants": {"max_elements": 4}}}, g("""
        %c:f32[] = Const(value=f32[]2.0)
        %r:f32[1] = Reshape(%c, shape=(1,))
        %s:f32[8] = Concat(%r, %r, %r, %r, %r, %r, %r, %r)
        """, "%s")),
    # -- cse -------------------------------------------------------------
    "cse/commutative": ("cse", {}, g("""
        %a:f32[?,4] = Mul(%x, %y)
        %b:f32[?,4] = Mul(%y, %x)
        %c:f32[?,4] = Add(%a, %b)
        """, "%c")),
    "cse/not-sub-swapped": ("cse", {}, g("""
        %a:f32[?,4] = Sub(%x, %y)
        %b:f32[?,4] = Sub(%y, %x)
        %c:f32[?,4] = Add(%a, %b)
        """, "%c")),
    "cse/not-across-devices": ("cse", {}, g("""
        %a:f32[?,4] = Exp(%x) @cpu:0
        %b:f32[?,4] = Exp(%x) @cpu:1
        %c:f32[?,4] = Add(%a, %b)
        """, "%c")),
    # -- simplify --------------------------------------------------------
    "simplify/identities": ("simplify", {}, g("""
        %z:f32[] = Const(value=f32[]0.0)
        %o:f32[] = Const(value=f32[]1.0)
        %a:f32[?,4] = Add(%x, %z)
        %b:f32[?,4] = Mul(%o, %a)
        %c:f32[?,4] = Sub(%b, %z)
        %d:f32[?,4] = Div(%c, %o)
        %e:f32[?,4] = Neg(%d)
        %f:f32[?,4] = Neg(%e)
        %h:f32[?,4] = Cast(%f, dtype=f32)
        """, "%h")),
    "simplify/not-broadcasting": ("simplify", {}, g("""
        %z:f32[2,4] = Const(value=f32[2,4][[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
        %a:f32[2,4] = Add(%y, %z)
        %o:f64[] = Const(value=f64[]1.0)
        %b:f64[4] = Mul(%y, %o)
        %c:f32[2,4] = Sub(%z, %x)
        """, "%a, %b, %c")),
    "simplify/transpose-reshape": ("simplify", {}, g("""
        %t:f32[4,?] = Transpose(%x)
        %u:f32[?,4] = Transpose(%t)
        %v:f32[4] = Transpose(%y, perm=(0,))
        %r:f32[2,2] = Reshape(%y, shape=(2, 2))
        %s:f32[1,4] = Reshape(%r, shape=(1, 4))
        """, "%u, %v, %s")),
    "simplify/mul-zero-int": ("simplify", {}, g("""
        %i:i32[4] = Cast(%y, dtype=i32)
        %z:i32[] = Const(value=i32[]0)
        %m:i32[4] = Mul(%i, %z)
        """, "%m")),
    "simplify/not-mul-zero-float": ("simplify", {}, g("""
        %z:f32[] = Const(value=f32[]0.0)
        %m:f32[4] = Mul(%y, %z)
        """, "%m")),
    "simplify/mul-zero-float-fast-math": ("simplify", {"fast_math": True}, g("""
        %z:f32[] = Const(value=f32[]0.0)
        %m:f32[4] = Mul(%y, %z)
        """, "%m")),
    # -- fuse_elementwise ------------------------------------------------
    "fuse/chain-broadcast-extra-output": ("fuse_elementwise", {}, g("""
        %a:f32[?,4] = Mul(%x, %y)
        %b:f32[?,4] = Tanh(%a)
        %c:f32[?,4] = Add(%b, %y)
        %s:f32[?,1] = ReduceSum(%a, axes=(1,))
        """, "%c, %s")),
    "fuse/not-across-reduction-or-devices": ("fuse_elementwise", {}, g("""
        %a:f32[?,4] = Exp(%x) @cpu:0
        %s:f32[?,1] = ReduceSum(%a, axes=(1,)) @cpu:0
        %b:f32[?,4] = Sub(%x, %s) @cpu:0
        %c:f32[?,4] = Relu(%b) @cpu:1
        """, "%c")),
    "fuse/not-nonconvex": ("fuse_elementwise", {}, g("""
        %a:f32[?,4] = Exp(%x)
        %m:f32[?,?] = MatMul(%a, %a, trans_b=True)
        %r:f32[?,4] = Reshape(%a, shape=(-1, 4))
        %b:f32[?,4] = Add(%a, %r)
        """, "%b, %m")),
    "fuse/groups-that-would-depend-on-each-other": ("fuse_elementwise", {}, g("""
        %a:f32[4] = Add(%y, %y)
        %n:f32[4] = Neg(%a) @cpu:0
        %k:i64[] = Const(value=i64[]0)
        %c:f32[] = Cast(%k)
        %p:f32[4] = Add(%n, %c)
        %q:f32[4] = Add(%a, %c)
        """, "%p, %q")),
}
