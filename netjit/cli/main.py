"""Entry point of the ``netjit`` console script.

Every subcommand module adds its parser (``add_<name>``) and sets ``run``;
this module only dispatches and turns netjit errors into one clean line on
stderr with exit status 1 (a traceback means a bug in netjit, not in the input).
"""
from __future__ import annotations

import argparse
import os
import sys

from netjit.errors import NetjitError
from netjit.version import __version__

from .console import Out

EPILOG = """examples:
  netjit demo --save demo.json          the whole pipeline on a default net (and save it)
  netjit inspect demo.json --stage optimized
  netjit passes
  netjit compile demo.json --dump-dir dump/
  netjit run demo.json --feed x=x.npy --fetch y
  netjit bisect demo.json --feed x=x.npy --fetch y
  netjit diff demo.json --stages lowered optimized

NET is a saved net (file.json, see Net.save) or path/to/module.py:function returning a Net."""


def build_parser() -> argparse.ArgumentParser:
    # deferred: the subcommands import the compiler, which --version and --help do without
    from . import cmd_compile, cmd_diff, cmd_inspect, cmd_run, demo
    parser = argparse.ArgumentParser(prog="netjit", description="netjit graph compiler tools",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"netjit {__version__}")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour and tables for a terminal (default: when stdout is one)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (demo.add_demo, cmd_inspect.add_inspect, cmd_inspect.add_passes, cmd_compile.add_compile,
                cmd_run.add_run, cmd_diff.add_bisect, cmd_diff.add_diff):
        add(sub)
    return parser


def main(argv=None) -> int:
    """Parse ``argv`` and run one subcommand; returns the exit status."""
    args = build_parser().parse_args(argv)
    out = Out(force_terminal={"auto": None, "always": True, "never": False}[args.color])
    try:
        return args.run(args, out)
    except NetjitError as exc:
        print(f"netjit {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `netjit ... | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        print(f"netjit {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
