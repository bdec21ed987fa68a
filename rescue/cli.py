"""The ``rescue`` command: subcommands from each layer, JSON on stdout.

Each ``*_commands`` module of this package exposes ``register(subparsers)``, adding its
subcommands with a ``handler`` default that takes the parsed arguments and returns a
JSON-serialisable result. Errors a user can fix (``ValueError`` and its subclasses,
``FileNotFoundError``) are printed as ``{"error": ...}`` on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib import import_module
from typing import NoReturn

COMMAND_MODULES = (
    "rescue.geo_commands",
    "rescue.optimizer_commands",
    "rescue.solve_commands",
    "rescue.webmap_commands",
)


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that reports usage errors as JSON like every other error."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog="rescue", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)
    for module_name in COMMAND_MODULES:
        import_module(module_name).register(subparsers)
    return parser


def _fail(message: str) -> int:
    print(json.dumps({"error": message}, ensure_ascii=False), file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        result = args.handler(args)
    except _UsageError as error:
        return _fail(str(error))
    except (ValueError, FileNotFoundError) as error:
        return _fail(str(error))
    if result is not None:
        try:
            json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        except BrokenPipeError:  # the reader (say `head`) stopped early
            sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
