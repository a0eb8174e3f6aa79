"""Entry point of the ``netjit`` console script."""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    """Parse ``argv`` and run one subcommand; returns the exit status."""
    parser = argparse.ArgumentParser(prog="netjit", description="netjit graph compiler tools")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="build, optimise, compile and run a default net",
                   description="Example: netjit demo")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo
        run_demo()
    return 0


if __name__ == "__main__":
    sys.exit(main())
