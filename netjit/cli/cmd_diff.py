"""``netjit diff`` (two IR dumps, or a net before/after a pass) and ``netjit bisect``."""
from __future__ import annotations

import difflib

from netjit.compiler.bisect import bisect
from netjit.compiler.ir.serialize import load_graph
from netjit.errors import InvalidArgumentError, NotFoundError

from .args import add_signature_args, command, config_of
from .console import Out
from .inputs import is_ir_json, is_net_spec, load_net, read_ir_text, signature
from .stages import STAGES, compile_stages


def side_text(spec: str, args) -> str:
    """The IR text one side of a diff stands for: a dump, an IR .json, or a net at --stage."""
    if is_ir_json(spec):
        return str(load_graph(spec)) + "\n"
    if is_net_spec(spec):
        net = load_net(spec)
        compiled = compile_stages(net, signature(net, args.feed, args.fetch), args.stage, config_of(args))
        return str(compiled.stages[args.stage]) + "\n"
    return read_ir_text(spec)


def around_pass(args) -> tuple[str, str, str, str]:
    """(before, after, label before, label after) for NET and --pass, or --stages A B without it."""
    net = load_net(args.a)
    sig = signature(net, args.feed, args.fetch)
    if not args.pass_name:
        first, second = args.stages
        compiled = compile_stages(net, sig, max(first, second, key=STAGES.index), config_of(args))
        return (str(compiled.stages[first]) + "\n", str(compiled.stages[second]) + "\n", first, second)
    compiled = compile_stages(net, sig, "segments", config_of(args), snapshot=lambda n: True)
    snaps = compiled.after_pass
    hits = [i for i, (_, name, _) in enumerate(snaps) if name == args.pass_name]
    if not hits:
        ran = ", ".join(n for _, n, _ in snaps) or "(none)"
        raise NotFoundError(f"pass {args.pass_name!r} did not run on net {net.name!r}; passes that ran: {ran}")
    i = hits[0]
    before = snaps[i - 1][2] if i else compiled.stages["lowered"]
    label = f"before {args.pass_name}" + (f" (after {snaps[i - 1][1]})" if i else " (lowered)")
    return str(before) + "\n", str(snaps[i][2]) + "\n", label, f"after {args.pass_name}"


def print_unified(a: str, b: str, la: str, lb: str, out: Out) -> None:
    styles = {"+": "diff.add", "-": "diff.del", "@": "diff.hunk"}
    for line in difflib.unified_diff(a.splitlines(), b.splitlines(), la, lb, lineterm="", n=3):
        out.line(line, style=None if line[:3] in ("+++", "---") else styles.get(line[:1]))


def print_side_by_side(a: str, b: str, la: str, lb: str, out: Out) -> None:
    left, right = a.splitlines(), b.splitlines()
    rows = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, left, right, autojunk=False).get_opcodes():
        mark = {"equal": " ", "replace": "|", "delete": "<", "insert": ">"}[tag]
        for k in range(max(i2 - i1, j2 - j1)):
            li = left[i1 + k] if i1 + k < i2 else ""
            ri = right[j1 + k] if j1 + k < j2 else ""
            rows.append((li, mark, ri))
    out.table([la, "", lb], rows)


def run_diff(args, out: Out) -> int:
    if args.b is None:
        if not is_net_spec(args.a):
            raise InvalidArgumentError(f"diff {args.a}: give two IR dumps, or a net (file.json or "
                                       "module.py:function) to compare stages or before/after --pass")
        a, b, la, lb = around_pass(args)
    else:
        a, b, la, lb = side_text(args.a, args), side_text(args.b, args), args.a, args.b
    if a == b:
        out.line(f"no differences between {la} and {lb}")
    elif args.side_by_side:
        print_side_by_side(a, b, la, lb, out)
    else:
        print_unified(a, b, la, lb, out)
    return 0


def add_diff(sub) -> None:
    p = command(sub, "diff", "compare two IR dumps, or a net before and after a pass",
                "Compare A and B (IR text dumps from `compile --dump-dir`, IR .json files, or nets at "
                "--stage). With only a NET: the net before and after --pass, or at the two --stages "
                "(default: lowered vs optimized).",
                "netjit diff demo.json --stages lowered optimized --side-by-side", run_diff, net=False)
    p.add_argument("a", help="IR dump, IR .json, or net")
    p.add_argument("b", nargs="?", help="IR dump, IR .json, or net (omit to compare one net with itself)")
    p.add_argument("--pass", dest="pass_name", metavar="PASS", help="with one NET: before vs after PASS")
    p.add_argument("--stages", nargs=2, choices=STAGES, default=["lowered", "optimized"], metavar="STAGE",
                   help="with one NET and no --pass: the two stages to compare")
    p.add_argument("--stage", choices=STAGES, default="optimized", help="stage of nets given as A and B")
    p.add_argument("--side-by-side", action="store_true", help="two columns instead of a unified diff")
    add_signature_args(p)



def run_bisect(args, out: Out) -> int:
    net = load_net(args.net)
    sig = signature(net, args.feed, args.fetch, need_values=True)
    result = bisect(net, sig.values, sig.fetches, config=config_of(args))
    out.line(str(result))
    if result.trials:
        out.table(["pass applications run", "result"], [(limit if limit is not None else "all", verdict)
                                                         for limit, verdict in result.trials],
                  title="trials", justify="rl")
    return 0


def add_bisect(sub) -> None:
    p = command(sub, "bisect", "find the first pass application that changes a net's results",
                "Run NET with the first N pass applications only, for a bisected N, comparing the "
                "fetched values with the unoptimised run; reports the first application that changes them.",
                "netjit bisect demo.json --feed x=x.npy --fetch y", run_bisect)
    add_signature_args(p)
