"""``rescue`` against careless and hostile input: every refusal is one line of JSON naming
the option or field and (a short prefix of) the value, with exit code 2; never a
traceback, never a warning.

Refusals go to stderr as ``{"error": ..., "message": ...}``, except the problem-file errors
of ``rescue solve``, which follow VROOM: ``{"code": 2, "error": ..., "message": ...}`` on
stdout (``message``: the same in the ``--lang`` language).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.places import Geo, load_geo
from optimizer.dispatch.fleet_file import MAX_JSON_BYTES
from optimizer.vrp.problem import Problem
from rescue import geo_commands, optimizer_commands, solve_commands, webmap_commands
from rescue.cli import main

ROOT = Path(__file__).resolve().parents[1]
MAX_LINE_CHARS = 500
"""A refusal, echoed value included, fits in this many characters: the English line, the
same in the --lang language, the field and the value (each value cut to 60 characters)."""
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CENTRE = [116.3975, 39.9087]
JOB: dict[str, Any] = {
    "id": "J1",
    "caller": {"name": "王先生", "phone": "13800138000", "gender": "male"},
    "vehicle": {"plate": "京N12345", "model": "Volkswagen Passat", "colour": "black"},
    "member": True,
    "member_card": "BJ-000123",
    "location": CENTRE,
    "fault_category": "flat_battery",
}
FLEET: dict[str, Any] = {
    "trucks": [
        {
            "id": "T1",
            "kind": "flatbed",
            "plate": "京A·F1074",
            "crew": ["赵刚"],
            "home_base": [116.377198, 39.97133],
            "position": [116.377198, 39.97133],
            "state": "idle",
            "work": [{**JOB, "id": "W1", "state": "en_route", "location": [116.45, 39.95]}],
        },
        {"id": "T2", "kind": "service", "position": [116.458994, 39.90727]},
    ]
}
PROBLEM: dict[str, Any] = {
    "vehicles": [
        {
            "id": 1,
            "start_index": 0,
            "end_index": 0,
            "capacity": [1],
            "skills": [1],
            "time_window": [0, 36_000],
            "steps": [{"type": "job", "id": 1, "pinned": True}],
        },
        {"id": 2, "start_index": 2, "capacity": [1], "max_tasks": 3},
    ],
    "jobs": [
        {"id": 1, "location_index": 1, "service": 300, "skills": [1], "promise": 1200},
        {"id": 2, "location_index": 2, "time_windows": [[0, 5000]], "priority": 5},
    ],
    "shipments": [
        {
            "pickup": {"id": 3, "location_index": 1, "promise": 900},
            "delivery": {"id": 3, "location_index": 3, "service": 600},
            "amount": [1],
            "direct": True,
        }
    ],
    "matrices": {"car": {"durations": [[0, 600, 900, 1200]] * 4}},
    "lateness_cost_per_s": 100,
}


# ---------------------------------------------------------------------------- running
@dataclass(frozen=True)
class Answer:
    code: int | str | None
    out: str
    err: str


def _invoke(argv: list[str]) -> int | str | None:
    """``main(argv)``'s exit code (``rescue solve`` exits by :class:`SystemExit` on a bad
    problem file)."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code


def run_captured(argv: list[str]) -> Answer:
    """Run in process, capturing both streams (no pytest fixture: usable under Hypothesis)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = _invoke(argv)
    return Answer(code, out.getvalue(), err.getvalue())


def refusal(answer: Answer, *, on_stdout: bool = False) -> tuple[str, str]:
    """Check ``answer`` is a refusal: exit code 2, one line of JSON with an ``error`` on
    its stream (stdout with ``code: 2`` for a VROOM-style one), nothing on the other, no
    traceback, no warning; return the line and the error text."""
    assert answer.code == 2, answer
    stream, other = (answer.out, answer.err) if on_stdout else (answer.err, answer.out)
    assert other == ""
    for text in (answer.out, answer.err):
        assert "Traceback" not in text and "Warning" not in text
    line, end_of_line, rest = stream.partition("\n")
    assert end_of_line and not rest, stream
    error = json.loads(line)
    if on_stdout:
        assert set(error) == {"code", "error", "message"}, error
    else:  # a bad value names its field and the value too
        assert {"error", "message"} <= set(error) <= {"error", "message", "field", "value"}, error
    assert isinstance(error["error"], str) and error["error"]
    assert isinstance(error["message"], str) and error["message"]  # in the --lang language
    return line, error["error"]


def assert_answered(answer: Answer, *, on_stdout: bool = False) -> None:
    """The property of every run: a JSON answer (exit 0) or a refusal (exit 2)."""
    if answer.code == 0:
        assert "Traceback" not in answer.err and "Warning" not in answer.err
        if answer.out:
            json.loads(answer.out)
        return
    line, _ = refusal(answer, on_stdout=on_stdout and bool(answer.out))
    assert len(line) <= 2 * MAX_LINE_CHARS


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module", autouse=True)
def _shared_network(geo: Geo) -> Iterator[None]:
    """Commands on the default network use the session's (loading it is the slow part);
    ``rescue serve`` never starts a server here."""

    def shared(osm_path: Path | None = None, **options: Any) -> Geo:
        return geo if osm_path is None else load_geo(osm_path, **options)

    def no_server(**options: Any) -> None:
        raise AssertionError(f"rescue serve started with {options}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(geo_commands, "load_geo", shared)
        patch.setattr(optimizer_commands, "load_geo", shared)
        patch.setattr(webmap_commands, "serve", no_server)
        yield


def _write_json(path: Path, data: Any) -> str:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _with(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with the item at ``path`` (keys and indices) set."""
    copied = copy.deepcopy(data)
    *parents, last = path
    target: Any = copied
    for key in parents:
        target = target[key]
    target[last] = value
    return copied


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Bad (and a few good) input files, by name."""
    folder = tmp_path_factory.mktemp("fuzz_cli")
    osm = (ROOT / "data" / "osm" / "beijing.osm.bz2").read_bytes()
    raw: dict[str, bytes] = {
        "truncated.osm.bz2": osm[: len(osm) // 3],
        "empty.osm": b"",
        "garbage.osm": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        "footways.osm": (
            b'<osm version="0.6"><node id="1" lat="39.9" lon="116.4"/>'
            b'<node id="2" lat="39.91" lon="116.41"/><way id="5"><nd ref="1"/><nd ref="2"/>'
            b'<tag k="highway" v="footway"/></way></osm>'
        ),
        "deep.json": b"[" * 100_000,
        "latin1.json": '{"trucks": [], "note": "Café"}'.encode("latin-1"),
        "not-json.json": b"{trucks: [}",
        "binary.json": bytes(range(256)) * 8,
        "nan.json": json.dumps({**JOB, "location": [float("nan"), 39.9]}).encode(),
        "infinity.json": json.dumps({**JOB, "location": [116.4, float("inf")]}).encode(),
        "overflow.json": json.dumps({**JOB, "location": "X"}).replace('"X"', "[1e400, 1]").encode(),
        "huge-int.json": json.dumps({**JOB, "location": [10**400, 1]}).encode(),
    }
    paths = {name: str(folder / name) for name in raw}
    for name, content in raw.items():
        (folder / name).write_bytes(content)
    with (folder / "huge.json").open("wb") as huge:  # sparse: a size, not a write
        huge.truncate(MAX_JSON_BYTES + 1)
    (folder / "a-folder").mkdir()
    json_files: dict[str, Any] = {
        "job.json": JOB,
        "fleet.json": FLEET,
        "problem.json": PROBLEM,
        "list.json": [1, 2, 3],
        "job-id-object.json": {**JOB, "id": {"a": 1}},
        "work-int.json": _with(FLEET, ("trucks", 0, "work"), 5),
        "work-item-int.json": _with(FLEET, ("trucks", 0, "work"), [5]),
        "work-location-text.json": _with(FLEET, ("trucks", 0, "work", 0, "location"), "x"),
        "kind-int.json": _with(FLEET, ("trucks", 0, "kind"), 5),
        "position-text.json": _with(FLEET, ("trucks", 1, "position"), "116.4,39.9"),
        "crew-numbers.json": _with(FLEET, ("trucks", 0, "crew"), [1, 2]),
        "id-list.json": _with(FLEET, ("trucks", 1, "id"), [[["T"]]]),
        "state-list.json": _with(FLEET, ("trucks", 0, "state"), ["idle"]),
        "plate-int.json": _with(FLEET, ("trucks", 0, "plate"), 5),
        "no-trucks.json": {"lorries": []},
        "durations-2-62.json": _with(PROBLEM, ("matrices", "car", "durations"), [[0, 2**62]] * 2),
        "durations-2-70.json": _with(PROBLEM, ("matrices", "car", "durations"), [[0, 2**70]] * 2),
        "window-2-70.json": _with(PROBLEM, ("jobs", 1, "time_windows"), [[0, 2**70]]),
        "promise-2-70.json": _with(PROBLEM, ("jobs", 0, "promise"), 2**70),
        "service-2-63.json": _with(PROBLEM, ("jobs", 0, "service"), 2**63),
        "amount-2-64.json": _with(PROBLEM, ("shipments", 0, "amount"), [2**64]),
        "profile-list.json": _with(PROBLEM, ("vehicles", 1, "profile"), ["car"]),
    }
    for name, data in json_files.items():
        paths[name] = _write_json(folder / name, data)
    paths["folder"] = str(folder / "a-folder")
    paths["missing"] = str(folder / "missing.json")
    paths["huge.json"] = str(folder / "huge.json")
    paths["db"] = str(folder / "dispatch.sqlite")
    return paths


# ---------------------------------------------------------------------------- named cases
@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    """With ``{name}`` placeholders for :func:`files`."""
    needle: str
    """What the error must say: the option or field, and the value's start."""
    on_stdout: bool = False


ROUTE = ("route", "--from", "116.39,39.90", "--to", "116.31,39.99")
ASSIGN_JOB = ("assign", "--at", "10:00", "--fleet", "{fleet.json}", "--job")
ASSIGN_FLEET = ("assign", "--at", "10:00", "--job", "{job.json}", "--fleet")
QUOTE = ("quote", "--member", "BJ-1", "--location")
SOLVE = ("solve", "--time-limit", "0.2")
SERVE = ("serve", "--db", "{db}")
LONG = "9" * 5000

CASES = [
    # --osm: a folder, a truncated .bz2, an empty file, not OSM, no roads, missing
    Case("osm-folder", ("graph", "info", "--osm", "{folder}"), "--osm='"),
    Case("osm-truncated-bz2", ("graph", "info", "--osm", "{truncated.osm.bz2}"), "--osm='"),
    Case("osm-empty", ("graph", "info", "--osm", "{empty.osm}"), "is empty"),
    Case("osm-empty-route", (*ROUTE, "--osm", "{empty.osm}"), "--osm='"),
    Case("osm-garbage-zone", ("zone", "116.4,39.9", "--osm", "{garbage.osm}"), "--osm='"),
    Case("osm-no-roads", ("graph", "info", "--osm", "{footways.osm}"), "no drivable road"),
    Case("osm-missing", ("graph", "info", "--osm", "{missing}"), "file not found"),
    Case("osm-long-name", ("graph", "info", "--osm", "o" * 5000), "File name too long"),
    # --fleet / --job: folder, deep nesting, not UTF-8, not JSON, binary, huge, missing
    Case("fleet-folder", (*ASSIGN_FLEET, "{folder}"), "--fleet='"),
    Case("job-folder", (*ASSIGN_JOB, "{folder}"), "--job='"),
    Case("fleet-deep", (*ASSIGN_FLEET, "{deep.json}"), "nested too deeply"),
    Case("job-deep", (*ASSIGN_JOB, "{deep.json}"), "--job='"),
    Case("coverage-fleet-deep", ("coverage", "--fleet", "{deep.json}"), "--fleet='"),
    Case("fleet-not-utf8", (*ASSIGN_FLEET, "{latin1.json}"), "not UTF-8"),
    Case("job-not-json", (*ASSIGN_JOB, "{not-json.json}"), "not valid JSON"),
    Case("job-binary", (*ASSIGN_JOB, "{binary.json}"), "--job='"),
    Case("job-huge-file", (*ASSIGN_JOB, "{huge.json}"), "larger than 64 MiB"),
    Case("job-missing", (*ASSIGN_JOB, "{missing}"), "file not found"),
    Case("fleet-long-name", (*ASSIGN_FLEET, "f" * 5000), "--fleet='fff"),
    Case("job-not-object", (*ASSIGN_JOB, "{list.json}"), "--job='"),
    Case("fleet-not-object", (*ASSIGN_FLEET, "{list.json}"), "--fleet='"),
    # wrong types anywhere in a fleet or job file
    Case("fleet-work-int", (*ASSIGN_FLEET, "{work-int.json}"), "--fleet trucks[0].work=5"),
    Case("fleet-work-item-int", (*ASSIGN_FLEET, "{work-item-int.json}"), "trucks[0].work[0]=5"),
    Case(
        "fleet-work-location-text",
        (*ASSIGN_FLEET, "{work-location-text.json}"),
        "--fleet trucks[0].work[0].location='x'",
    ),
    Case("fleet-kind-int", (*ASSIGN_FLEET, "{kind-int.json}"), "trucks[0].kind=5"),
    Case("fleet-position-text", (*ASSIGN_FLEET, "{position-text.json}"), "trucks[1].position="),
    Case("fleet-crew-numbers", (*ASSIGN_FLEET, "{crew-numbers.json}"), "trucks[0].crew="),
    Case("fleet-id-list", (*ASSIGN_FLEET, "{id-list.json}"), "trucks[1].id="),
    Case("fleet-state-list", (*ASSIGN_FLEET, "{state-list.json}"), "trucks[0].state="),
    Case("fleet-plate-int", (*ASSIGN_FLEET, "{plate-int.json}"), "trucks[0].plate=5"),
    Case("fleet-no-trucks", (*ASSIGN_FLEET, "{no-trucks.json}"), "--fleet trucks=None"),
    Case("coverage-work-int", ("coverage", "--fleet", "{work-int.json}"), "trucks[0].work=5"),
    Case("serve-fleet-work-int", (*SERVE, "--fleet", "{work-int.json}"), "trucks[0].work=5"),
    Case("job-id-object", (*ASSIGN_JOB, "{job-id-object.json}"), "--job id="),
    # numbers must be finite (1e400 is inf to json), NaN / Infinity literals refused
    Case("job-location-1e400", (*ASSIGN_JOB, "{overflow.json}"), "holds 1e400"),
    Case("job-nan", (*ASSIGN_JOB, "{nan.json}"), "holds NaN"),
    Case("job-infinity", (*ASSIGN_JOB, "{infinity.json}"), "holds Infinity"),
    Case("job-huge-int", (*ASSIGN_JOB, "{huge-int.json}"), "integers must be at most"),
    # rescue solve: every integer bounded (VROOM's uint32), the field named
    *(
        Case(f"solve-{name.removesuffix('.json')}", (*SOLVE, f"{{{name}}}"), needle, on_stdout=True)
        for name, needle in [
            ("durations-2-62.json", "matrices.car.durations must hold"),
            ("durations-2-70.json", "matrices.car.durations must hold"),
            ("window-2-70.json", "time window of job 2"),
            ("promise-2-70.json", "promise of job 1"),
            ("service-2-63.json", "service of job 1"),
            ("amount-2-64.json", "amount of shipment"),
            ("profile-list.json", "vehicle 2 uses profile ['car']"),
            ("deep.json", "nested too deeply"),
            ("binary.json", "is not UTF-8"),
            ("folder", "cannot read: is a folder"),
            ("missing", "cannot read: file not found"),
            ("nan.json", "holds NaN"),
        ]
    ),
    *(
        Case(f"time-limit-{text}", ("solve", "{problem.json}", "--time-limit", text), needle)
        for text, needle in [
            ("inf", "--time-limit='inf': must be a positive finite number"),
            ("1e309", "--time-limit='1e309'"),
            ("nan", "--time-limit='nan'"),
            ("-1", "--time-limit='-1'"),
            ("0", "--time-limit='0'"),
            ("1e5", "must be at most 3600"),
            ("soon", "--time-limit='soon': expected a number"),
        ]
    ),
    Case("solve-output-folder", (*SOLVE, "{problem.json}", "--output", "{folder}"), "--output="),
    Case("solve-output-long", (*SOLVE, "{problem.json}", "--output", "o" * 5000), "--output='o"),
    Case("solve-long-name", (*SOLVE, "p" * 5000), "ppp…: cannot read: File name", on_stdout=True),
    # places: checked (finite, in range) before any projection, the text given echoed
    Case("tow-to-1e308", (*QUOTE, "116.39,39.90", "--tow-to", "1e308,1e308"), "--tow-to='1e308"),
    Case(
        "tow-to-1e308-gcj02",
        (*QUOTE, "116.39,39.90", "--tow-to", "1e308,1e308", "--crs", "gcj02"),
        "--tow-to='1e308,1e308': longitude must be in -180..180",
    ),
    Case("location-nan", (*QUOTE, "nan,39.9"), "--location='nan,39.9': coordinates must be"),
    Case("location-three", (*QUOTE, "1,2,3"), "--location='1,2,3': expected LON,LAT"),
    Case("location-long", (*QUOTE, LONG + ",1"), "--location='999"),
    Case("from-text", ("route", "--from", "here", "--to", "116.31,39.99"), "--from='here'"),
    Case("zone-lat-lon", ("zone", "39.9087,116.3975"), "point='39.9087,116.3975': looks like"),
    Case("zone-north-pole-gcj02", ("zone", "0,90", "--crs", "gcj02"), "point='[0.0, 90.0]'"),
    Case(
        "tow-to-north-pole-gcj02",
        (*QUOTE, "116.39,39.90", "--tow-to", "180,90", "--crs", "gcj02"),
        "--tow-to='[180.0, 90.0]': ",
    ),
    # --at, --crs, unknown options
    Case("at-99-99", (*QUOTE, "116.39,39.90", "--at", "99:99"), "--at='99:99'"),
    Case("route-at-99-99", (*ROUTE, "--at", "99:99"), "--at='99:99'"),
    Case("coverage-at-long", ("coverage", "--at", LONG), "--at='999"),
    Case("crs-junk", ("zone", "116.4,39.9", "--crs", "x" * 5000), "argument --crs: invalid"),
    Case("unknown-option", ("zone", "116.4,39.9", "--" + "y" * 5000), "unrecognized arguments"),
    # rescue serve and rescue user add: checked before any server or store
    Case("port-0", (*SERVE, "--port", "0"), "--port='0'"),
    Case("port-99999", (*SERVE, "--port", "99999"), "--port='99999'"),
    Case("port-text", (*SERVE, "--port", "http"), "--port='http'"),
    Case("port-long", (*SERVE, "--port", LONG), "--port='999"),
    Case("speed-inf", (*SERVE, "--speed", "inf"), "--speed='inf'"),
    Case("calls-nan", (*SERVE, "--calls-per-hour", "nan"), "--calls-per-hour='nan'"),
    Case("seed-negative", (*SERVE, "--seed", "-1"), "--seed='-1'"),
    Case("seed-long", (*SERVE, "--seed", LONG), "--seed='999"),
    Case("serve-db-folder", ("serve", "--db", "{folder}"), "--db='"),
    Case("serve-db-not-sqlite", ("serve", "--db", "{job.json}"), "not a database"),
    Case("user-name", ("user", "add", "a/b", "--db", "{db}"), "name='a/b'"),
    Case("user-db-folder", ("user", "add", "anna", "--db", "{folder}"), "--db='"),
]


def _argv(argv: tuple[str, ...] | list[str], files: dict[str, str]) -> list[str]:
    """``argv`` with its ``{name}`` parts replaced by the paths of :func:`files`."""
    return [files[part[1:-1]] if part.startswith("{") else part for part in argv]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_one_json_line_naming_the_field(
    case: Case, files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = _invoke(_argv(case.argv, files))
    out, err = capsys.readouterr()
    line, error = refusal(Answer(code, out, err), on_stdout=case.on_stdout)
    assert case.needle in error
    assert len(line) <= MAX_LINE_CHARS, line


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_refused(
    files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "fleet.json"
    secret.write_text(json.dumps(FLEET), encoding="utf-8")
    secret.chmod(0)
    code = _invoke(["assign", "--fleet", str(secret), "--job", files["job.json"]])
    out, err = capsys.readouterr()
    _, error = refusal(Answer(code, out, err))
    assert "--fleet=" in error and "Permission denied" in error


def test_the_sample_files_are_accepted(files: dict[str, str]) -> None:
    """The fuzzing below starts from these files: each is a valid input."""
    assign = run_captured(["assign", "--fleet", files["fleet.json"], "--job", files["job.json"]])
    assert assign.code == 0, assign
    solve = run_captured([*SOLVE, files["problem.json"]])
    assert solve.code == 0 and json.loads(solve.out)["unassigned"] == [], solve


# ---------------------------------------------------------------------------- subprocess
@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        ((*QUOTE, "116.39,39.90", "--tow-to", "1e308,1e308", "--crs", "gcj02"), "--tow-to="),
        (("coverage", "--fleet", "{deep.json}"), "nested too deeply"),
        (("graph", "info", "--osm", "{truncated.osm.bz2}"), "--osm="),
        (("zone", "0,90", "--crs", "gcj02"), "outside the service area"),
    ],
    ids=["tow-to-1e308", "fleet-deep", "osm-truncated-bz2", "north-pole-gcj02"],
)
def test_a_real_process_prints_only_the_json_line(
    argv: tuple[str, ...], needle: str, files: dict[str, str]
) -> None:
    """Nothing else reaches the terminal: no traceback, no warning (default filters)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONWARNINGS"}
    command = [sys.executable, "-m", "rescue.cli", *_argv(argv, files)]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    _, error = refusal(Answer(done.returncode, done.stdout, done.stderr))
    assert needle in error


# ---------------------------------------------------------------------------- Hypothesis
NUMBER_TEXTS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    st.integers(min_value=-(10**400), max_value=10**400).map(str),
    st.sampled_from(["nan", "-inf", "1e309", "1e308", "-0", "0", "1_0", "0x10", "１１６.４"]),
    st.sampled_from(["90", "-90", "180", "-180", "89.99999999", "72.004", "55.8271"]),
)
TEXTS = st.one_of(
    NUMBER_TEXTS,
    st.text(max_size=30),
    st.integers(0, 20_000).map(lambda n: "長" * n),
    st.sampled_from(["", " ", "-", "--", "99:99", "24:00", "7:5", "12:00:00", "116.4,39.9"]),
)


def mostly(
    valid: st.SearchStrategy[str], hostile: st.SearchStrategy[str]
) -> st.SearchStrategy[str]:
    """A valid value two times in three, so the options after it are reached too."""
    return st.integers(0, 2).flatmap(lambda dice: hostile if dice == 0 else valid)


PLACES = mostly(  # valid: on the road data; hostile: any text, any numbers, near Beijing
    st.tuples(st.floats(116.2, 116.6), st.floats(39.8, 40.08)).map("{0[0]},{0[1]}".format),
    st.one_of(
        TEXTS,
        st.tuples(NUMBER_TEXTS, NUMBER_TEXTS).map(",".join),
        st.tuples(st.floats(110.0, 125.0), st.floats(35.0, 45.0)).map("{0[0]},{0[1]}".format),
    ),
)
CLOCKS = mostly(
    st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda t: f"{t[0]:02}:{t[1]:02}"),
    st.one_of(
        TEXTS, st.tuples(st.integers(-3, 99), st.integers(-3, 99)).map("{0[0]}:{0[1]}".format)
    ),
)


def _numbers(low: float, high: float) -> st.SearchStrategy[str]:
    return mostly(st.floats(low, high).map(repr), TEXTS)


def _integers(low: int, high: int) -> st.SearchStrategy[str]:
    return mostly(st.integers(low, high).map(str), TEXTS)


@st.composite
def hostile_argv(draw: st.DrawFn) -> list[str]:
    """One command with hostile values in its options (its files are good ones)."""
    command = draw(st.sampled_from(["zone", "route", "quote", "solve", "coverage", "serve"]))
    crs = draw(st.sampled_from(["wgs84", "gcj02"]))
    if command == "zone":
        return ["zone", draw(PLACES), "--crs", crs]
    if command == "route":
        at, origin, dest = draw(CLOCKS), draw(PLACES), draw(PLACES)
        return ["route", "--at", at, "--from", origin, "--to", dest, "--crs", crs]
    if command == "quote":
        at, place, tow_to = draw(CLOCKS), draw(PLACES), draw(PLACES)
        return [*QUOTE, place, "--tow-to", tow_to, "--at", at, "--crs", crs, "--fault", "stuck"]
    if command == "solve":
        return ["solve", "{problem.json}", "--time-limit", draw(_numbers(0.001, 3600.0))]
    if command == "coverage":
        return ["coverage", "--fleet", "{fleet.json}", "--at", draw(CLOCKS)]
    return [
        *SERVE,
        *("--port", draw(_integers(1, 65535)), "--speed", draw(_numbers(0.01, 3600.0))),
        *("--seed", draw(_integers(0, 2**32 - 1))),
        *("--calls-per-hour", draw(_numbers(0.01, 3600.0))),
    ]


def _solved_at_once(problem: Problem, *, time_limit_s: float) -> dict[str, Any]:
    return {"code": 0, "time_limit_s": time_limit_s}


def _served(**options: Any) -> None:
    return None


@FUZZ
@given(argv=hostile_argv())
def test_hostile_options_are_answered_or_refused(argv: list[str], files: dict[str, str]) -> None:
    # Whatever --time-limit is accepted (up to an hour), ``solve`` answers at once; the
    # options ``serve`` accepts start no server.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(solve_commands, "solve", _solved_at_once)
        patch.setattr(webmap_commands, "serve", _served)
        assert_answered(run_captured(_argv(argv, files)))


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([-1, 0, 2**31, 2**32 - 1, 2**32, 2**62, 2**63, 2**64, 2**70, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.integers(0, 20_000).map(lambda n: "x" * n),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in ``data``, the root (``()``) first."""
    found = [prefix]
    if isinstance(data, dict | list):
        for key, value in data.items() if isinstance(data, dict) else enumerate(data):
            found.extend(_paths(value, (*prefix, key)))
    return found


@st.composite
def hostile_file(draw: st.DrawFn, base: dict[str, Any]) -> bytes:
    """A file for a command reading ``base``: it with one item replaced, or any JSON, or
    any bytes, or deep nesting."""
    kind = draw(st.sampled_from(["mutated", "mutated", "mutated", "json", "bytes", "deep"]))
    if kind == "mutated":
        path = draw(st.sampled_from(_paths(base)[1:]))
        data: Any = _with(base, path, draw(JSON_VALUES))
    elif kind == "json":
        data = draw(JSON_VALUES)
    elif kind == "bytes":
        return draw(st.binary(max_size=300))
    else:
        depth = draw(st.integers(1, 50_000))
        return ("[" * depth + "]" * draw(st.sampled_from([0, depth]))).encode()
    return json.dumps(data, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


@FUZZ
@given(which=st.sampled_from(["--job", "--fleet", "coverage", "PROBLEM.json"]), data=st.data())
def test_hostile_files_are_answered_or_refused(
    which: str, data: st.DataObject, files: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    base = {"--job": JOB, "--fleet": FLEET, "coverage": FLEET, "PROBLEM.json": PROBLEM}[which]
    path = tmp_path_factory.getbasetemp() / "hostile.json"
    path.write_bytes(data.draw(hostile_file(base)))
    argv = {
        "--job": [*ASSIGN_JOB, str(path)],
        "--fleet": [*ASSIGN_FLEET, str(path)],
        "coverage": ["coverage", "--fleet", str(path)],
        "PROBLEM.json": ["solve", str(path), "--time-limit", "0.05"],
    }[which]
    assert_answered(run_captured(_argv(argv, files)), on_stdout=which == "PROBLEM.json")
