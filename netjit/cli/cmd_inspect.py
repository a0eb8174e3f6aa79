"""``netjit inspect`` (a net's IR at any stage, in any format) and ``netjit passes``."""
from __future__ import annotations

import json
from pathlib import Path

from netjit.compiler.ir.serialize import load_graph
from netjit.errors import InvalidArgumentError

from .args import add_signature_args, command, config_of
from .console import Out
from .inputs import is_ir_json, load_net, signature
from .render import FORMATS, render
from .stages import STAGES, compile_stages, graph_after_pass, passes_api


def graph_for(args):
    """The graph ``inspect`` shows, per --stage / --after / --partition (an IR .json file: itself)."""
    if is_ir_json(args.net):
        return load_graph(args.net)
    net = load_net(args.net)
    sig = signature(net, args.feed, args.fetch)
    config = config_of(args)
    if args.after:
        return graph_after_pass(net, sig, args.after, config)
    stage = "partitioned" if args.partition is not None else args.stage
    compiled = compile_stages(net, sig, stage, config, do_prune=not args.no_prune)
    if stage != "partitioned":
        return compiled.stages[stage]
    if args.partition is None:
        if len(compiled.partitions) == 1 or args.format == "text":
            return compiled.partitions
        raise InvalidArgumentError(f"net {net.name!r} has {len(compiled.partitions)} partitions; "
                                   f"choose one with --partition N for --format {args.format}")
    if not 0 <= args.partition < len(compiled.partitions):
        raise InvalidArgumentError(f"--partition {args.partition}: net {net.name!r} has "
                                   f"{len(compiled.partitions)} partitions (0..{len(compiled.partitions) - 1})")
    return compiled.partitions[args.partition]


def run_inspect(args, out: Out) -> int:
    graph = graph_for(args)
    if isinstance(graph, list):  # every partition, as text
        text = "\n".join(render(g, "text") for g in graph)
        graph = graph[0]
    else:
        text = render(graph, args.format)
    if args.output:
        Path(args.output).write_text(text if text.endswith("\n") else text + "\n")
        out.line(f"wrote {args.format} of graph {graph.name!r} ({len(graph)} nodes) to {args.output}")
    elif args.format == "text":
        out.ir(text)
    else:
        out.line(text.rstrip("\n"))
    return 0


def add_inspect(sub) -> None:
    p = command(sub, "inspect", "show a net's IR at any compile stage (text, json, dot, svg, html)",
                "Show the IR of NET as the compile pipeline had it after lowering, after optimisation "
                "(or after one pass of any phase), after placement or per partition. NET may also be an IR graph saved as JSON "
                "(`inspect --format json`), shown as it is.",
                "netjit inspect demo.json --stage optimized --format svg -o demo.svg", run_inspect)
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
    p.add_argument("--stage", choices=STAGES, default="lowered", help="compile stage to show (default lowered)")
    p.add_argument("--after", metavar="PASS", help="show the IR right after the first application of PASS")
    p.add_argument("--partition", type=int, metavar="N", help="show partition N (implies --stage partitioned)")
    p.add_argument("--no-prune", action="store_true", help="keep nodes the fetches do not need")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    add_signature_args(p)



def pass_rows() -> list[dict]:
    """Every registered pass, by phase and run order."""
    return [{"phase": r.phase.name, "order": r.order, "name": r.name, "opt_level": r.opt_level,
             "origin": r.origin, "required": r.required, "backends": list(r.backends), "doc": r.doc}
            for r in passes_api().list_passes()]


def run_passes(args, out: Out) -> int:
    rows = pass_rows()
    if args.format == "json":
        out.line(json.dumps(rows, indent=1))
        return 0
    by_phase: dict = {}
    for r in rows:
        by_phase.setdefault(r["phase"], []).append(r)
    for phase, items in by_phase.items():
        out.table(["#", "pass", "runs at", "backends", "origin", "what it does"],
                  [(r["order"] + 1, r["name"], "always" if r["required"] else f"-O{r['opt_level']} and up",
                    ", ".join(r["backends"]) or "all", r["origin"], r["doc"]) for r in items], title=phase)
    return 0


def add_passes(sub) -> None:
    p = command(sub, "passes", "list every registered pass by phase and order",
                "List the registered passes (built-in and plugins) in the order each phase runs them, "
                "with the lowest opt level that runs each and the backends it is for.", "netjit passes --format json", run_passes, net=False)
    p.add_argument("--format", choices=("text", "json"), default="text")
