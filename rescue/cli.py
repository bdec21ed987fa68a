"""The ``rescue`` command: subcommands from each layer, JSON on stdout.

Each ``*_commands`` module of this package exposes ``register(subparsers)``, adding its
subcommands with a ``handler`` default that takes the parsed arguments and returns a
JSON-serialisable result. Errors a user can fix (``ValueError`` and its subclasses, an
``OSError`` on a file or address the user gave) are printed as one line of JSON on stderr
with exit code 2: ``error`` (the English line scripts match), ``message`` (the same in the
``--lang`` language) and, for a bad value, its ``field`` and ``value``.

``--lang zh|en`` (anywhere on the line; default ``$RESCUE_LANG``, else Chinese) chooses the
language of the messages and of the help.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib import import_module
from typing import Any, NoReturn

from geo.errors import InputError
from geo.i18n import LANGUAGES, N_, env_language, language, translate

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
    "rescue.records_commands",
    "rescue.member_commands",
    "rescue.workorder_commands",
    "rescue.report_commands",
)


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that reports usage errors as JSON like every other error."""

    def error(self, message: str) -> NoReturn:
        words = message.split(" ")
        raise _UsageError(" ".join(_cut(word, USAGE_WORD_CHARS) for word in words))


class _UsageError(Exception):
    pass


DESCRIPTION = N_("The rescue command: subcommands from each layer, JSON on stdout.")
LANG_HELP = N_("language of the messages and of the help: zh or en (default $RESCUE_LANG, else zh)")


def build_parser(lang: str | None = None) -> argparse.ArgumentParser:
    """The parser, its help in ``lang`` (default: :func:`geo.i18n.env_language`)."""
    lang = language(lang, env_language())
    parser = _ArgumentParser(prog="rescue", description=translate(DESCRIPTION, lang))
    parser.add_argument("--lang", choices=LANGUAGES, default=lang, help=translate(LANG_HELP, lang))
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)
    for module_name in COMMAND_MODULES:
        import_module(module_name).register(subparsers)
    _translate_help(parser, lang)
    return parser


def _translate_help(parser: argparse.ArgumentParser, lang: str) -> None:
    """The help texts (marked with ``N_`` where the commands add them) in ``lang``, through
    every subcommand; argparse's own words (usage, options) stay its own."""
    if parser.description:
        parser.description = translate(parser.description, lang)
    for action in parser._actions:
        if action.help and action.help != argparse.SUPPRESS:
            action.help = translate(action.help, lang)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if choice.help:
                    choice.help = translate(choice.help, lang)
            for sub in {id(p): p for p in action.choices.values()}.values():
                _translate_help(sub, lang)


def split_lang(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """``--lang X`` / ``--lang=X`` taken out of ``argv`` wherever it is (before or after the
    subcommand): the last one given, and the other words."""
    chosen, rest = None, []
    words = iter(argv)
    for word in words:
        if word == "--lang":
            chosen = next(words, "")
        elif word.startswith("--lang="):
            chosen = word.removeprefix("--lang=")
        else:
            rest.append(word)
    return chosen, rest


def _cut(text: str, length: int) -> str:
    return text if len(text) <= length else text[:length] + "…"


def _fail(english: str, /, **fields: Any) -> int:
    line = {"error": _cut(english, ERROR_MESSAGE_CHARS)}
    for key, value in fields.items():
        line[key] = _cut(value, ERROR_MESSAGE_CHARS) if isinstance(value, str) else value
    print(json.dumps(line, ensure_ascii=False), file=sys.stderr)
    return 2


def _fail_input(error: InputError, lang: str) -> int:
    """A bad value: the English line, and the same in ``lang``, naming field and value."""
    message = translate(
        N_("{field}={value}: {reason}"),
        lang,
        field=error.field,
        value=repr(error.value),
        reason=error.message(lang),
    )
    return _fail(str(error), field=error.field, value=error.value, message=message)


def main(argv: Sequence[str] | None = None) -> int:
    chosen, words = split_lang(sys.argv[1:] if argv is None else argv)
    lang = env_language()
    if chosen is not None:
        if language(chosen, default="") != chosen:
            names = ", ".join(LANGUAGES)
            return _fail_input(InputError("--lang", chosen, "one of {names}", names=names), lang)
        lang = chosen
    parser = build_parser(lang)
    try:
        args = parser.parse_args(words)
        args.lang = lang
        result = args.handler(args)
    except _UsageError as error:
        detail = str(error)
        return _fail(detail, message=translate(N_("usage: {detail}"), lang, detail=detail))
    except InputError as error:
        return _fail_input(error, lang)
    except ValueError as error:
        return _fail(str(error), message=str(error))
    except OSError as error:  # last line: a file or address the user gave, not checked before
        detail = str(error.strerror or error)
        if error.filename:
            return _fail(
                f"{detail} ({error.filename})",
                message=translate(
                    N_("cannot use {file}: {detail}"), lang, file=error.filename, detail=detail
                ),
            )
        return _fail(detail, message=translate(N_("system error: {detail}"), lang, detail=detail))
    if result is not None:
        try:
            json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        except BrokenPipeError:  # the reader (say `head`) stopped early
            sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
