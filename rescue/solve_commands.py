"""``rescue solve``: batch re-planning of a VROOM-format problem.

Unlike the other subcommands, errors in the problem file follow VROOM:
``{"code": 2, "error": ...}`` on stdout and exit code 2. Errors in the options
(``--time-limit``, ``--output``) are reported like every other command's.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, NoReturn

from geo.errors import InputError
from geo.i18n import N_, translate
from optimizer.dispatch.fleet_file import read_json
from optimizer.vrp.problem import ProblemError, parse_problem
from optimizer.vrp.solver import solve
from rescue.args import positive_number

DEFAULT_TIME_LIMIT_S = 5.0
MAX_TIME_LIMIT_S = 3600.0
"""A re-plan that may search for more than an hour is a typo: the dispatch situation it
plans for is long gone by then."""
INPUT_ERROR = 2
# A problem file's path is echoed whole up to this length (a real path, so the user sees
# which file), a longer text is cut.
_PATH_ECHO_CHARS = 120


def _input_error(path: Path, english: str, message: str) -> NoReturn:
    """VROOM's refusal (``code``, ``error``: English) and ``message``: the same in the
    ``--lang`` language."""
    shown = str(path)
    if len(shown) > _PATH_ECHO_CHARS:
        shown = shown[:_PATH_ECHO_CHARS] + "…"
    line = {"code": INPUT_ERROR, "error": f"{shown}: {english}", "message": f"{shown}: {message}"}
    print(json.dumps(line, ensure_ascii=False))
    raise SystemExit(INPUT_ERROR)


def _check_output(output: Path | None) -> None:
    """Refuse an ``--output`` that cannot be written before the search spends its time."""
    if output is None:
        return
    try:
        is_folder, folder_exists = output.is_dir(), output.parent.is_dir()
    except OSError as error:  # a name too long, a loop of links
        raise InputError(
            "--output", str(output), "cannot write: {error}", error=error.strerror
        ) from None
    if is_folder:
        raise InputError("--output", str(output), "is a folder")
    if not folder_exists:
        raise InputError("--output", str(output), "its folder does not exist")


def _solve(args: argparse.Namespace) -> dict[str, Any] | None:
    time_limit_s = positive_number(args.time_limit, field="--time-limit", maximum=MAX_TIME_LIMIT_S)
    _check_output(args.output)
    try:
        data = read_json(args.problem, field="PROBLEM.json", bound_integers=False)
        problem = parse_problem(data)
    except InputError as error:
        _input_error(args.problem, error.reason, error.message(args.lang))
    except ProblemError as error:  # VROOM's format: the detail stays in English
        detail = str(error)
        message = translate(N_("not a valid problem: {detail}"), args.lang, detail=detail)
        _input_error(args.problem, detail, message)
    solution = solve(problem, time_limit_s=time_limit_s)
    if args.output is None:
        return solution
    try:
        args.output.write_text(
            json.dumps(solution, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    except OSError as error:
        raise InputError(
            "--output",
            str(args.output),
            "cannot write: {error}",
            error=error.strerror or str(error),
        ) from None
    return None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "solve",
        help=N_("re-plan all vehicles of a VROOM-format problem (JSON answer, VROOM format)"),
        description=(
            N_(
                "Solve a VROOM-format problem (see optimizer/vrp/problem.py for the supported "
                "keys and the promise / pinned extensions). Input errors print "
                'a JSON object with "code": 2 and "error", and exit with status 2.'
            )
        ),
    )
    parser.add_argument("problem", type=Path, metavar="PROBLEM.json")
    parser.add_argument(
        "--time-limit",
        default=f"{DEFAULT_TIME_LIMIT_S:g}",
        metavar="S",
        help=(
            f"wall-clock budget in seconds (default {DEFAULT_TIME_LIMIT_S:g}, "
            f"at most {MAX_TIME_LIMIT_S:g})"
        ),
    )
    parser.add_argument(
        "--output", type=Path, metavar="PATH", help=N_("write the answer here instead of stdout")
    )
    parser.set_defaults(handler=_solve)
