"""The ``rescue`` command: subcommands from each layer, JSON on stdout.

Each ``*_commands`` module of this package exposes ``register(subparsers)``, adding its
subcommands with a ``handler`` default that takes the parsed arguments and returns a
JSON-serialisable result. Errors a user can fix (``ValueError`` and its subclasses, an
``OSError`` on a file or address the user gave) are printed as one line
``{"error": ...}`` on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib import import_module
from typing import NoReturn

# An argparse message echoes the words typed whole: each is cut to this many characters...
USAGE_WORD_CHARS = 60
# ... and any error message to this many, so a pasted blob is never sent back.
ERROR_MESSAGE_CHARS = 300

COMMAND_MODULES = (
    "rescue.geo_commands",
    "rescue.optimizer_commands",
    "rescue.planning_commands",
    "rescue.solve_commands",
    "rescue.simulate_commands",
    "rescue.webmap_commands",
)


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that reports usage errors as JSON like every other error."""

    def error(self, message: str) -> NoReturn:
        words = message.split(" ")
        raise _UsageError(" ".join(_cut(word, USAGE_WORD_CHARS) for word in words))


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog="rescue", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)
    for module_name in COMMAND_MODULES:
        import_module(module_name).register(subparsers)
    return parser


def _cut(text: str, length: int) -> str:
    return text if len(text) <= length else text[:length] + "…"


def _fail(message: str) -> int:
    print(
        json.dumps({"error": _cut(message, ERROR_MESSAGE_CHARS)}, ensure_ascii=False),
        file=sys.stderr,
    )
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        result = args.handler(args)
    except _UsageError as error:
        return _fail(str(error))
    except ValueError as error:
        return _fail(str(error))
    except OSError as error:  # last line: a file or address the user gave, not checked before
        where = f" ({error.filename})" if error.filename else ""
        return _fail(f"{error.strerror or error}{where}")
    if result is not None:
        try:
            json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        except BrokenPipeError:  # the reader (say `head`) stopped early
            sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
