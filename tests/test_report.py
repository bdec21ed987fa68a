"""The rescue statistics (SERVICE_RULES §8, records/report.py) on both backends: a handful of
hand-made jobs with known times and fees, every figure worked out by hand; an empty range;
the CSV; bad dates refused naming --from / --to (library, CLI and HTTP)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, insert

from geo.errors import InputError
from records import schema
from records.days import day_start_s
from records.report import (
    MAX_RANGE_DAYS,
    build_report,
    load_report_rules,
    parse_range,
    report_csv,
)
from records.store import EventStore
from rescue.cli import main

D1, D2 = date(2026, 12, 1), date(2026, 12, 2)
BEFORE = date(2026, 11, 30)
RULES = load_report_rules()
MIN = 60.0


def _job(
    job_id: str,
    day: date,
    clock: str,
    *,
    state: str = "closed",
    zone: str | None = "inside_5th_ring",
    kind: str = "service",
    converted: bool = False,
    member: bool = True,
    truck: str | None = "T01",
    assigned: float | None = None,
    arrived: float | None = None,
    finished: float | None = None,
    closed: float | None = None,
    total: float = 0.0,
) -> dict[str, Any]:
    """A ``jobs`` row; the times are minutes after the call."""
    hour, minute = (int(part) for part in clock.split(":"))
    created = day_start_s(day) + hour * 3600 + minute * MIN

    def at(minutes: float | None) -> float | None:
        return None if minutes is None else created + minutes * MIN

    return {
        "job_id": job_id,
        "order_no": f"{day.strftime('%Y%m%d')}-{job_id}",
        "day": day.isoformat(),
        "hour": hour,
        "created_at_s": created,
        "deadline_s": created + 40 * MIN,
        "state": state,
        "zone": zone,
        "required_kind": kind,
        "converted": converted,
        "member": member,
        "member_card": "BJ00000001" if member else None,
        "caller_name": "王先生",
        "phone": "13800000000",
        "plate": "京A12345",
        "truck_id": truck,
        "crew": "",
        "assigned_at_s": at(assigned),
        "arrived_at_s": at(arrived),
        "finished_at_s": at(finished),
        "closed_at_s": at(closed),
        "driven_m": None,
        "tow_m": None,
        "total_yuan": total,
        "accident": False,
        "insurer": None,
        "last_seq": 1,
    }


JOBS = [
    # 10:00 daytime, inside, member, service: arrives at 30 min (kept).
    _job("J1", D1, "10:00", assigned=2, arrived=30, finished=50, closed=55),
    # 08:00 morning peak, between the rings, non-member, converted to a tow: 41 min (broken).
    _job(
        "J2",
        D1,
        "08:00",
        zone="between_5th_and_6th_ring",
        kind="flatbed",
        converted=True,
        member=False,
        truck="T02",
        assigned=5,
        arrived=41,
        finished=101,
        closed=110,
        total=450.0,
    ),
    # 18:30 evening peak, inside, non-member: 40 min exactly (kept).
    _job(
        "J3", D1, "18:30", member=False, assigned=1, arrived=40, finished=60, closed=70, total=100
    ),
    # 11:00 cancelled after T01 set off: only in the cancelled figures (and T01's busy time).
    _job("J4", D1, "11:00", state="cancelled", assigned=3, closed=10),
    # 23:00 next day, night, outside the 6th ring, on its way: awaiting its arrival.
    _job(
        "J5",
        D2,
        "23:00",
        state="en_route",
        zone="outside_6th_ring",
        kind="flatbed",
        truck="T03",
        assigned=4,
    ),
    # The day before the range: never counted.
    _job("J6", BEFORE, "12:00", assigned=1, arrived=20, finished=30, closed=35, total=999),
]
FEES = [
    ("J1", "on_site_service", 0.0),
    ("J2", "callout", 300.0),
    ("J2", "tow_km", 150.0),
    ("J3", "callout", 100.0),
    ("J4", "on_site_service", 0.0),
    ("J6", "callout", 999.0),
]
FOLLOWUPS = [("J1", "satisfied"), ("J2", "complaint"), ("J3", None), ("J6", "satisfied")]


def insert_jobs(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(insert(schema.jobs), JOBS)
        connection.execute(
            insert(schema.job_fees),
            [{"job_id": j, "code": c, "fee_yuan": y} for j, c, y in FEES],
        )
        closed_at = {job["job_id"]: job["closed_at_s"] for job in JOBS}
        connection.execute(
            insert(schema.followups),
            [
                {
                    "job_id": j,
                    "opened_at_s": closed_at[j],
                    "due_at_s": closed_at[j] + 86400,
                    "outcome": outcome,
                    "complaint": "太慢" if outcome == "complaint" else "",
                }
                for j, outcome in FOLLOWUPS
            ],
        )


@pytest.fixture
def store(db_url: str) -> Iterator[EventStore]:
    opened = EventStore(db_url)
    insert_jobs(opened.engine)
    yield opened
    opened.close()


def test_every_figure_of_a_handful_of_jobs(store: EventStore) -> None:
    report = build_report(store.engine, D1, D2, rules=RULES)
    assert report["from"] == "2026-12-01"
    assert report["to"] == "2026-12-02"
    assert report["promise_min"] == 40
    assert report["calls"] == {"total": 5, "cancelled": 1, "jobs": 4}
    assert report["per_day"] == [
        {"day": "2026-12-01", "calls": 4, "cancelled": 1},
        {"day": "2026-12-02", "calls": 1, "cancelled": 0},
    ]
    per_hour = {row["hour"]: row["calls"] for row in report["per_hour"]}
    assert len(per_hour) == 24
    assert {h: n for h, n in per_hour.items() if n} == {8: 1, 10: 1, 11: 1, 18: 1, 23: 1}
    # Arrivals at 30, 41 and 40 min: the promise (40 min) kept 2 of 3; J5 still on its way.
    assert report["promise"] == {"arrived": 3, "kept": 2, "kept_share": 2 / 3, "awaiting": 1}
    assert report["promise_by_zone"] == [
        {"zone": "between_5th_and_6th_ring", "arrived": 1, "kept": 0, "kept_share": 0.0},
        {"zone": "inside_5th_ring", "arrived": 2, "kept": 2, "kept_share": 1.0},
    ]
    assert report["promise_by_band"] == [
        {"band": "night", "arrived": 0, "kept": 0, "kept_share": None},
        {"band": "morning_peak", "arrived": 1, "kept": 0, "kept_share": 0.0},
        {"band": "daytime", "arrived": 1, "kept": 1, "kept_share": 1.0},
        {"band": "evening_peak", "arrived": 1, "kept": 1, "kept_share": 1.0},
        {"band": "evening", "arrived": 0, "kept": 0, "kept_share": None},
    ]
    # p50 of 30, 40, 41 is 40; p90 = 40 + 0.8 x (41 - 40).
    assert report["arrival_min"]["count"] == 3
    assert report["arrival_min"]["p50"] == pytest.approx(40.0)
    assert report["arrival_min"]["p90"] == pytest.approx(40.8)
    assert report["kinds"] == {"service": 2, "flatbed": 2, "converted": 1}
    assert report["revenue"] == {
        "closed_jobs": 3,
        "total_yuan": 550.0,
        "by_item": [
            {"code": "callout", "jobs": 2, "yuan": 400.0},
            {"code": "tow_km", "jobs": 1, "yuan": 150.0},
            {"code": "on_site_service", "jobs": 1, "yuan": 0.0},
        ],
    }
    assert report["members"] == [
        {"member": True, "jobs": 2, "closed": 1, "revenue_yuan": 0.0},
        {"member": False, "jobs": 2, "closed": 2, "revenue_yuan": 550.0},
    ]
    # T01: J1 2->50 min (48) + J3 1->60 (59) + cancelled J4 3->10 (7) = 114 min; T02 96 min;
    # T03 not finished yet: no busy time counted.
    trucks = {row["truck_id"]: row for row in report["trucks"]}
    assert list(trucks) == ["T01", "T02", "T03"]
    assert trucks["T01"]["jobs"] == 2
    assert trucks["T01"]["busy_h"] == pytest.approx(114 / 60)
    assert trucks["T02"]["jobs"] == 1
    assert trucks["T02"]["busy_h"] == pytest.approx(96 / 60)
    assert trucks["T03"] == {"truck_id": "T03", "jobs": 1, "busy_h": 0.0}
    assert report["followups"] == {
        "satisfied": 1,
        "not_satisfied": 0,
        "complaint": 1,
        "pending": 1,
        "total": 3,
    }
    json.dumps(report, allow_nan=False)  # plain JSON


def test_one_day(store: EventStore) -> None:
    report = build_report(store.engine, D2, D2, rules=RULES)
    assert report["calls"] == {"total": 1, "cancelled": 0, "jobs": 1}
    assert report["promise"] == {"arrived": 0, "kept": 0, "kept_share": None, "awaiting": 1}
    assert report["trucks"] == [{"truck_id": "T03", "jobs": 1, "busy_h": 0.0}]


def test_an_empty_range_is_an_empty_report(store: EventStore) -> None:
    report = build_report(store.engine, date(2025, 1, 1), date(2025, 1, 2), rules=RULES)
    assert report["calls"] == {"total": 0, "cancelled": 0, "jobs": 0}
    assert report["per_day"] == [
        {"day": "2025-01-01", "calls": 0, "cancelled": 0},
        {"day": "2025-01-02", "calls": 0, "cancelled": 0},
    ]
    assert all(row["calls"] == 0 for row in report["per_hour"])
    assert report["promise"] == {"arrived": 0, "kept": 0, "kept_share": None, "awaiting": 0}
    assert report["promise_by_zone"] == []
    assert all(row["arrived"] == 0 for row in report["promise_by_band"])
    assert report["arrival_min"] == {"count": 0, "p50": None, "p90": None}
    assert report["kinds"] == {"service": 0, "flatbed": 0, "converted": 0}
    assert report["revenue"] == {"closed_jobs": 0, "total_yuan": 0.0, "by_item": []}
    assert [m["jobs"] for m in report["members"]] == [0, 0]
    assert report["trucks"] == []
    assert report["followups"]["total"] == 0
    assert "calls_per_day" in report_csv(report)


def _sections(text: str) -> dict[str, list[list[str]]]:
    sections: dict[str, list[list[str]]] = {}
    rows: list[list[str]] = []
    for row in csv.reader(io.StringIO(text)):
        if not row:
            continue
        if len(row) == 1:  # a section's title
            rows = sections.setdefault(row[0], [])
            continue
        rows.append(row)
    return sections


def test_csv_has_every_section(store: EventStore) -> None:
    text = report_csv(build_report(store.engine, D1, D2, rules=RULES))
    sections = _sections(text)
    assert list(sections) == [
        "summary",
        "calls_per_day",
        "calls_per_hour",
        "promise_by_zone",
        "promise_by_band",
        "revenue_by_item",
        "members",
        "trucks",
        "followups",
    ]
    summary = dict(sections["summary"][1:])
    assert summary["calls"] == "5"
    assert summary["promise_kept"] == "2"
    assert summary["promise_kept_share"] == "0.6667"
    assert summary["arrival_min_p50"] == "40"
    assert summary["revenue_yuan"] == "550"
    assert sections["calls_per_day"] == [
        ["day", "calls", "cancelled"],
        ["2026-12-01", "4", "1"],
        ["2026-12-02", "1", "0"],
    ]
    assert sections["revenue_by_item"][1] == ["callout", "2", "400"]
    assert sections["trucks"][1] == ["T01", "2", "1.9"]
    assert ["complaint", "1"] in sections["followups"]
    assert sections["promise_by_band"][1] == ["night", "0", "0", ""]


@pytest.mark.parametrize(
    ("day_from", "day_to", "field"),
    [
        ("2026-13-01", "2026-12-02", "--from"),
        ("", "2026-12-02", "--from"),
        (None, "2026-12-02", "--from"),
        ("2026-12-01", "yesterday", "--to"),
        ("2026-12-01", "20261202", "--to"),
        ("2026-12-02", "2026-12-01", "--to"),
        ("2000-01-01", "2026-12-01", "--to"),
    ],
)
def test_bad_dates_are_refused_naming_the_field(day_from: Any, day_to: Any, field: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_range(day_from, day_to)
    assert refused.value.field == field


def test_day_to_before_day_from_is_refused(store: EventStore) -> None:
    with pytest.raises(InputError) as refused:
        build_report(store.engine, D2, D1, rules=RULES)
    assert refused.value.field == "--to"
    assert MAX_RANGE_DAYS >= 366


# ---------------------------------------------------------------------------- CLI
def test_cli_report_json_and_csv(
    store: EventStore, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["report", "--from", "2026-12-01", "--to", "2026-12-02", "--db", db_url]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["calls"]["total"] == 5
    assert report["promise"]["kept"] == 2
    assert main([*args, "--format", "csv"]) == 0
    assert _sections(capsys.readouterr().out)["summary"][3] == ["calls", "5"]


@pytest.mark.parametrize(
    ("words", "field"),
    [
        (["--from", "2026-02-30", "--to", "2026-12-02"], "--from"),
        (["--from", "2026-12-02", "--to", "2026-12-01"], "--to"),
        (["--from", "2026-12-01", "--to", "2026-12-02", "--format", "xml"], "--format"),
    ],
)
def test_cli_refuses_bad_options(
    tmp_path: Path, words: list[str], field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "never.sqlite"
    assert main(["--lang", "en", "report", *words, "--db", str(db)]) == 2
    error = json.loads(capsys.readouterr().err)
    assert error["field"] == field
    assert not db.exists()  # refused before the store was opened


# ---------------------------------------------------------------------------- HTTP
@pytest.fixture
def client(
    tmp_path: Path,
    new_app: Callable[..., Flask],
    login: Callable[[Flask], FlaskClient],
) -> FlaskClient:
    app = new_app(tmp_path / "app.sqlite")
    insert_jobs(app.extensions["rescue"].store.engine)
    return login(app)


def test_http_report_json_csv_and_page(client: FlaskClient) -> None:
    answer = client.get("/api/reports?from=2026-12-01&to=2026-12-02")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["ok"] is True
    assert body["promise"]["kept_share"] == pytest.approx(2 / 3)
    file = client.get("/reports.csv?from=2026-12-01&to=2026-12-02")
    assert file.status_code == 200
    assert file.mimetype == "text/csv"
    assert "rescue-report-2026-12-01-2026-12-02.csv" in file.headers["Content-Disposition"]
    assert _sections(file.get_data(as_text=True))["summary"][3] == ["calls", "5"]
    page = client.get("/reports")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/vendor/echarts/echarts.min.js" in html
    assert 'id="chart-days"' in html
    script = client.get("/vendor/echarts/echarts.min.js")
    assert script.status_code == 200
    script.close()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-12-01", "to"),
        ("from=1.12.2026&to=2026-12-02", "from"),
        ("from=2026-12-02&to=2026-12-01", "to"),
    ],
)
def test_http_refuses_bad_dates(client: FlaskClient, query: str, field: str) -> None:
    for path in ("/api/reports", "/reports.csv"):
        answer = client.get(f"{path}?{query}")
        assert answer.status_code == 400
        body = answer.get_json()
        assert body["ok"] is False
        assert body["error"]["field"] == field


def test_http_needs_a_login(tmp_path: Path, new_app: Callable[..., Flask]) -> None:
    anonymous = new_app(tmp_path / "app.sqlite").test_client()
    assert anonymous.get("/api/reports?from=2026-12-01&to=2026-12-02").status_code == 401
    assert anonymous.get("/reports").status_code == 302
    assert anonymous.get("/reports.csv?from=2026-12-01&to=2026-12-02").status_code == 302
