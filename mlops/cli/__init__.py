"""The command line: ``python -m mlops …`` (or the ``mlops`` console script).

Example:
    >>> main(["--tracking-uri", "sqlite://", "experiments"])
    (none)
    0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mlops.errors import MlopsError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    from mlops.cli import registry_commands, tracking_commands

    parser = argparse.ArgumentParser(
        prog="mlops",
        description="Track experiments, manage the model registry and run the demo, on an embedded store.",
    )
    parser.add_argument("--tracking-uri", help="metadata store (default: MLOPS_TRACKING_URI or ./mlops-data)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    tracking_commands.add(commands)
    registry_commands.add(commands)
    demo = commands.add_parser("demo", help="the credit-default story end to end on the embedded store")
    demo.add_argument(
        "--dir", default="mlops-data", help="where the demo's store goes (default ./mlops-data)"
    )
    demo.set_defaults(handler=_demo)
    return parser


def _demo(args: argparse.Namespace) -> int:
    from mlops.demo import run_demo

    run_demo(args.dir)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit code (0 ok, 1 an mlops error, 2 bad usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except MlopsError as e:
        print(f"mlops: error: {e}", file=sys.stderr)
        return 1
    return code
