"""Command-line arguments shared by the subcommands, and the one way a subcommand is declared."""
from __future__ import annotations

import argparse

from netjit.config import SessionConfig

NET_HELP = "saved net (file.json, plan.json#NET) or path/to/module.py:function"


def command(sub, name: str, summary: str, description: str, example: str, run, net: bool = True,
            backend: str = ""):
    """Add subcommand ``name`` running ``run(args, out)``: ``--help`` shows ``description`` and
    ``example``; a NET argument unless ``net`` is off; ``--backend`` when ``backend`` says what for."""
    p = sub.add_parser(name, help=summary, description=description, epilog=f"example: {example}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    if net:
        p.add_argument("net", help=NET_HELP)
    if backend:
        default = SessionConfig().backend
        p.add_argument("--backend", default=default, help=f"backend to {backend}: reference or numba "
                                                          f"(default {default}, as SessionConfig)")
    p.set_defaults(run=run)
    return p


def add_signature_args(p) -> None:
    """--feed/--fetch/--opt-level/--disable, for the commands that compile a net."""
    p.add_argument("--feed", action="append", default=[], metavar="BLOB[=FILE.npy]",
                   help="a fed blob (repeatable); default: every placeholder")
    p.add_argument("--fetch", action="append", default=[], metavar="BLOB",
                   help="a fetched blob (repeatable); default: the net's outputs")
    p.add_argument("--opt-level", type=int, default=2, choices=range(4), help="optimisation level (default 2)")
    p.add_argument("--disable", action="append", default=[], metavar="PASS", help="disable a pass (repeatable)")


def config_of(args, **extra) -> SessionConfig:
    """The SessionConfig the options ask for."""
    return SessionConfig(opt_level=args.opt_level, disabled_passes=tuple(args.disable), **extra)
