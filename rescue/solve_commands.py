"""``rescue solve``: batch re-planning of a VROOM-format problem.

Unlike the other subcommands, input errors follow VROOM: ``{"code": 2, "error": ...}``
on stdout and exit code 2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, NoReturn

from optimizer.vrp.problem import ProblemError, parse_problem
from optimizer.vrp.solver import solve
from rescue.args import positive_number

DEFAULT_TIME_LIMIT_S = 5.0
INPUT_ERROR = 2


def _input_error(message: str) -> NoReturn:
    print(json.dumps({"code": INPUT_ERROR, "error": message}, ensure_ascii=False))
    raise SystemExit(INPUT_ERROR)


def _read_problem(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        _input_error(f"cannot read {path}: {error.strerror or error}")
    except UnicodeDecodeError:
        _input_error(f"{path} is not UTF-8 text")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        _input_error(f"{path} is not valid JSON: {error}")


def _solve(args: argparse.Namespace) -> dict[str, Any] | None:
    data = _read_problem(args.problem)
    try:
        problem = parse_problem(data)
    except ProblemError as error:
        _input_error(f"{args.problem}: {error}")
    solution = solve(problem, time_limit_s=args.time_limit)
    if args.output is None:
        return solution
    try:
        args.output.write_text(
            json.dumps(solution, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    except OSError as error:
        raise ValueError(f"cannot write {args.output}: {error.strerror or error}") from None
    return None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "solve",
        help="re-plan all vehicles of a VROOM-format problem (JSON answer, VROOM format)",
        description=(
            "Solve a VROOM-format problem (see optimizer/vrp/problem.py for the supported "
            "keys and the promise / pinned extensions). Input errors print "
            '{"code": 2, "error": ...} and exit with status 2.'
        ),
    )
    parser.add_argument("problem", type=Path, metavar="PROBLEM.json")
    parser.add_argument(
        "--time-limit",
        type=positive_number,
        default=DEFAULT_TIME_LIMIT_S,
        metavar="S",
        help=f"wall-clock budget in seconds (default {DEFAULT_TIME_LIMIT_S:g})",
    )
    parser.add_argument(
        "--output", type=Path, metavar="PATH", help="write the answer here instead of stdout"
    )
    parser.set_defaults(handler=_solve)
