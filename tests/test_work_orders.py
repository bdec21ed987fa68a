"""The rescue work order (救援工作单) and insurance claims (SERVICE_RULES §6-§7) on both
backends: jobs made through the real path (intake, dispatch, states, close) on the live
map's app; numbers per Beijing day, state times, fees equal to the quote, payment and
sign-off, claim paths, bad inputs refused with nothing changed; the page, its JSON forms
(CSRF), the A4 PDF (rendered and looked at) and ``rescue workorder show``."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio.test_client import SocketIOTestClient
from sqlalchemy import select

from geo.i18n import translate
from optimizer.dispatch.clock import epoch_at_clock
from records import schema
from records.claims import record_claim
from records.store import EventStore
from records.work_orders import record_payment, record_sign_off, work_order
from rescue.cli import main
from webmap.app import Runtime
from webmap.clock import ManualClock

MakeCall = Callable[..., dict[str, Any]]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
A4_PT = (595, 842)


def _rt(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions["rescue"]
    return runtime


def _store(app: Flask) -> EventStore:
    return _rt(app).store


def _emit(sio: SocketIOTestClient, event: str, data: dict[str, Any]) -> dict[str, Any]:
    ack: dict[str, Any] = sio.emit(event, data, callback=True)
    assert ack["ok"], ack
    return ack


def _run_job(
    sio: SocketIOTestClient,
    clock: ManualClock,
    call: dict[str, Any],
    states: tuple[str, ...] = ("en_route", "on_scene", "fixed", "closed"),
) -> dict[str, Any]:
    """``call`` taken, dispatched on its best truck, and moved through ``states`` a few
    minutes apart; the job as the last acknowledgement shows it."""
    ack = _emit(sio, "intake", call)
    job, best = ack["job"], ack["proposal"]["best"]["truck"]
    clock.advance(60)
    job = _emit(
        sio, "dispatch", {"job_id": job["id"], "truck_id": best, "version": job["version"]}
    )["job"]
    for state in states:
        clock.advance(300)
        job = _emit(
            sio, "advance", {"job_id": job["id"], "state": state, "version": job["version"]}
        )["job"]
    return job


def _records(app: Flask) -> dict[str, Any]:
    """The rows a refused write must leave as they were."""
    with _store(app).engine.connect() as connection:
        return {
            name: sorted(map(tuple, connection.execute(select(table)).all()), key=repr)
            for name, table in (
                ("work_orders", schema.work_orders),
                ("claims", schema.claims),
                ("record_log", schema.record_log),
            )
        }


def _log_kinds(app: Flask, job_id: str) -> list[str]:
    table = schema.record_log
    with _store(app).engine.connect() as connection:
        return list(
            connection.execute(
                select(table.c.kind).where(table.c.job_id == job_id).order_by(table.c.id)
            ).scalars()
        )


@pytest.fixture
def app(new_app: Callable[..., Flask], db_url: str) -> Flask:
    return new_app(db_url)


# ---------------------------------------------------------------------------- numbers
def test_numbers_run_per_beijing_day(
    new_app: Callable[..., Flask],
    db_url: str,
    day: dt.date,
    make_call: MakeCall,
    connect: Callable[[Flask], SocketIOTestClient],
) -> None:
    # 23:50 and 23:55 Beijing are one day; 00:10 is the next (the same UTC day: 16:10 UTC).
    clock = ManualClock(epoch_at_clock("23:50", day=day))
    app = new_app(db_url, RESCUE_CLOCK=clock)
    sio = connect(app)
    ids = [_emit(sio, "intake", make_call())["job"]["id"]]
    clock.advance(5 * 60)
    ids.append(_emit(sio, "intake", make_call())["job"]["id"])
    clock.advance(15 * 60)
    ids.append(_emit(sio, "intake", make_call())["job"]["id"])
    clock.advance(60)
    ids.append(_emit(sio, "intake", make_call())["job"]["id"])
    today, tomorrow = day.strftime("%Y%m%d"), (day + dt.timedelta(days=1)).strftime("%Y%m%d")
    numbers = [work_order(_store(app).engine, job_id).order_no for job_id in ids]
    assert numbers == [f"{today}-0001", f"{today}-0002", f"{tomorrow}-0001", f"{tomorrow}-0002"]
    assert [work_order(_store(app).engine, i).day for i in ids][1:3] == [
        day.isoformat(),
        (day + dt.timedelta(days=1)).isoformat(),
    ]


# ---------------------------------------------------------------------------- work order
def test_a_closed_job_s_work_order_payment_and_sign_off(
    app: Flask,
    clock: ManualClock,
    day: dt.date,
    make_call: MakeCall,
    connect: Callable[[Flask], SocketIOTestClient],
    user: str,
) -> None:
    sio = connect(app)
    call = make_call(member=False, member_card=None, customer_need="jump start")
    job = _run_job(sio, clock, call)
    order = work_order(_store(app).engine, job["id"])
    assert order.order_no == f"{day.strftime('%Y%m%d')}-0001"
    assert order.state == "closed" and order.finished
    # The times of each state, as the job's history has them.
    assert [(h.state, h.at_s) for h in order.history] == [
        (h["state"], h["at_s"]) for h in job["history"]
    ]
    times = {h["state"]: h["at_s"] for h in job["history"]}
    assert order.assigned_at_s == times["assigned"]
    assert order.arrived_at_s == times["on_scene"]
    assert order.finished_at_s == times["fixed"]
    assert order.closed_at_s == times["closed"]
    # Truck and crew, the road driven to the scene.
    truck = _rt(app).center.board.trucks[job["truck_id"]]
    assert order.truck_id == truck.id and order.crew == "、".join(truck.crew)
    assert order.driven_m is not None and order.driven_m > 0
    assert order.tow_m is None
    # The fees are the quote's (and the job_fees rows).
    quote = job["quote"]
    assert [(f.code, f.fee_yuan) for f in order.fees] == [
        (i["code"], i["fee_yuan"]) for i in quote["items"]
    ]
    assert order.total_yuan == quote["total_yuan"] == 100.0  # call-out inside the 5th ring
    with _store(app).engine.connect() as connection:
        fees = dict(
            connection.execute(
                select(schema.job_fees.c.code, schema.job_fees.c.fee_yuan).where(
                    schema.job_fees.c.job_id == job["id"]
                )
            ).all()
        )
    assert fees == {"callout": 100.0}
    assert order.payment is None and order.sign_off is None and order.claim is None

    paid = record_payment(
        _store(app), job["id"], method="cash", paid_yuan=100, user=user, at_s=clock.now()
    )
    assert paid.payment is not None and paid.payment.method == "cash"
    assert paid.payment.paid_yuan == 100.0
    corrected = record_payment(
        _store(app), job["id"], method="card", paid_yuan="100.50", user=user, at_s=clock.now()
    )
    assert corrected.payment is not None and corrected.payment.paid_yuan == 100.5
    signed = record_sign_off(
        _store(app), job["id"], name="  王先生 ", user=user, at_s=clock.now() + 30
    )
    assert signed.sign_off is not None and signed.sign_off.name == "王先生"
    assert signed.sign_off.at_s == clock.now() + 30
    assert signed.payment == corrected.payment  # the sign-off keeps the payment
    assert _log_kinds(app, job["id"]) == [
        "work_order.payment",
        "work_order.payment",
        "work_order.sign_off",
    ]
    again = work_order(_store(app).engine, job["id"])
    assert again == signed
    assert json.loads(json.dumps(again.to_json()))["sign_off"]["name"] == "王先生"


BAD_PAYMENTS = [
    ({"method": "cheque", "paid_yuan": 100}, "method"),
    ({"method": None, "paid_yuan": 100}, "method"),
    ({"method": "member", "paid_yuan": 0}, "method"),  # not a member's job
    ({"method": "cash", "paid_yuan": -1}, "paid_yuan"),
    ({"method": "cash", "paid_yuan": float("nan")}, "paid_yuan"),
    ({"method": "cash", "paid_yuan": float("inf")}, "paid_yuan"),
    ({"method": "cash", "paid_yuan": True}, "paid_yuan"),
    ({"method": "cash", "paid_yuan": "lots"}, "paid_yuan"),
    ({"method": "cash", "paid_yuan": 100.001}, "paid_yuan"),
    ({"method": "cash", "paid_yuan": 10**9}, "paid_yuan"),
    ({"method": "cash", "paid_yuan": None}, "paid_yuan"),
]
BAD_SIGN_OFFS = ["", "   ", None, 42, "x" * 41, "王\x00先生"]


def test_bad_inputs_are_refused_and_change_nothing(
    app: Flask,
    clock: ManualClock,
    make_call: MakeCall,
    connect: Callable[[Flask], SocketIOTestClient],
    user: str,
) -> None:
    sio = connect(app)
    done = _run_job(
        sio, clock, make_call(member=False, member_card=None, customer_need="jump start")
    )["id"]
    waiting = _emit(sio, "intake", make_call())["job"]["id"]
    store, now = _store(app), clock.now()
    before = _records(app)
    for fields, field in BAD_PAYMENTS:
        with pytest.raises(ValueError) as refused:
            record_payment(store, done, user=user, at_s=now, **fields)
        assert getattr(refused.value, "field", None) == field, (fields, refused.value)
    for name in BAD_SIGN_OFFS:
        with pytest.raises(ValueError) as refused:
            record_sign_off(store, done, name=name, user=user, at_s=now)
        assert getattr(refused.value, "field", None) == "name", name
    for job_id in ("J99999", "", None, ["J00001"], "J" * 500):
        for write in (
            lambda j: record_payment(store, j, method="cash", paid_yuan=1, user=user, at_s=now),
            lambda j: record_sign_off(store, j, name="王", user=user, at_s=now),
        ):
            with pytest.raises(ValueError) as refused:
                write(job_id)
            assert getattr(refused.value, "field", None) == "job_id"
        with pytest.raises(ValueError, match="job_id"):
            work_order(store.engine, job_id)
    # Not reached yet: nothing to pay, nothing to sign.
    with pytest.raises(ValueError, match="nothing to pay yet"):
        record_payment(store, waiting, method="cash", paid_yuan=0, user=user, at_s=now)
    with pytest.raises(ValueError, match="not finished"):
        record_sign_off(store, waiting, name="王先生", user=user, at_s=now)
    with pytest.raises(ValueError, match="at_s"):
        record_sign_off(store, done, name="王先生", user=user, at_s=float("nan"))
    assert _records(app) == before
    # Signed once only.
    record_sign_off(store, done, name="王先生", user=user, at_s=now)
    with pytest.raises(ValueError, match="already signed by 王先生"):
        record_sign_off(store, done, name="李女士", user=user, at_s=now)
    assert work_order(store.engine, done).sign_off.name == "王先生"  # type: ignore[union-attr]


# ---------------------------------------------------------------------------- claims
def _accident_call(make_call: MakeCall, insurer: str = "ping_an") -> dict[str, Any]:
    return make_call(
        fault="accident_damage",
        accident=True,
        insurer=insurer,
        member=False,
        member_card=None,
        customer_need="tow to a garage",
    )


TOW_STATES = ("en_route", "on_scene", "towing", "delivered")


def test_claim_paths_documents_and_invoice(
    app: Flask,
    clock: ManualClock,
    day: dt.date,
    make_call: MakeCall,
    connect: Callable[[Flask], SocketIOTestClient],
    user: str,
) -> None:
    sio = connect(app)
    job = _run_job(sio, clock, _accident_call(make_call), TOW_STATES)
    plain = _run_job(sio, clock, make_call())["id"]
    store, now, job_id = _store(app), clock.now(), job["id"]
    order = work_order(store.engine, job_id)
    assert order.accident and order.insurer == "ping_an"
    assert order.tow_m is not None and order.tow_m > 0  # the tow's road metres
    invoice = {
        "number": "12345678",
        "title": "王先生",
        "amount_yuan": 245.5,
        "date": day.isoformat(),
    }
    before = _records(app)
    refusals: list[tuple[dict[str, Any], str]] = [
        ({"insurer": "acme", "path": "club_tows", "invoice": invoice}, "insurer"),
        ({"insurer": "ping_an", "path": "we_tow", "invoice": invoice}, "path"),
        ({"insurer": "ping_an", "path": "club_tows"}, "invoice"),  # no invoice
        ({"insurer": "ping_an", "path": "club_tows", "invoice": {}}, "invoice"),
        ({"insurer": "ping_an", "path": "insurer_tows", "invoice": invoice}, "invoice"),
        (
            {"insurer": "ping_an", "path": "club_tows", "invoice": {**invoice, "number": ""}},
            "invoice.number",
        ),
        (
            {"insurer": "ping_an", "path": "club_tows", "invoice": {**invoice, "title": " "}},
            "invoice.title",
        ),
        (
            {"insurer": "ping_an", "path": "club_tows", "invoice": {**invoice, "amount_yuan": 0}},
            "invoice.amount_yuan",
        ),
        (
            {
                "insurer": "ping_an",
                "path": "club_tows",
                "invoice": {**invoice, "date": "2026-02-30"},
            },
            "invoice.date",
        ),
        (
            {
                "insurer": "ping_an",
                "path": "club_tows",
                "invoice": {**invoice, "date": "2020-01-01"},
            },
            "invoice.date",
        ),
        ({"insurer": "ping_an", "path": "insurer_tows", "documents": ["passport"]}, "documents"),
        (
            {"insurer": "ping_an", "path": "insurer_tows", "documents": ["driving_licence"] * 2},
            "documents",
        ),
        ({"insurer": "ping_an", "path": "insurer_tows", "note": "x" * 501}, "note"),
    ]
    for fields, field in refusals:
        with pytest.raises(ValueError) as refused:
            record_claim(store, job_id, user=user, at_s=now, **fields)
        assert getattr(refused.value, "field", None) == field, (fields, refused.value)
    with pytest.raises(ValueError, match="not an insurance accident"):
        record_claim(store, plain, insurer="ping_an", path="insurer_tows", user=user, at_s=now)
    with pytest.raises(ValueError, match="unknown job"):
        record_claim(store, "J99999", insurer="ping_an", path="insurer_tows", user=user, at_s=now)
    assert _records(app) == before

    # The insurer tows: documents in hand, the owner signs the work order.
    first = record_claim(
        store,
        job_id,
        insurer="ping_an",
        path="insurer_tows",
        documents=["original_policy", "driving_licence"],
        user=user,
        at_s=now,
    )
    assert first.documents == ("driving_licence", "original_policy")  # the checklist's order
    assert first.invoice is None
    # It was the club that towed after all: the invoice is recorded on the work order.
    record_claim(
        store,
        job_id,
        insurer="picc",
        path="club_tows",
        documents=["liability_ruling", "driving_licence", "vehicle_licence"],
        invoice=invoice,
        note="保险公司无法及时派车",
        user=user,
        at_s=now,
    )
    order = work_order(store.engine, job_id)
    assert order.claim is not None and order.claim.path == "club_tows"
    assert order.claim.insurer == "picc" and order.claim.note == "保险公司无法及时派车"
    assert order.claim.invoice is not None
    assert order.claim.invoice.to_json() == invoice
    assert _log_kinds(app, job_id) == ["claim", "claim"]


# ---------------------------------------------------------------------------- page and PDF
def _csrf(page: str) -> str:
    match = re.search(r'"csrf_token":\s*"([^"]+)"', page)
    assert match, "the page carries its CSRF token"
    return match.group(1)


def _post(client: FlaskClient, url: str, body: Any, token: str | None) -> Any:
    headers = {"X-CSRFToken": token} if token else {}
    return client.post(url, json=body, headers=headers)


def test_page_forms_and_pdf(
    app: Flask,
    clock: ManualClock,
    day: dt.date,
    make_call: MakeCall,
    connect: Callable[[Flask], SocketIOTestClient],
    login: Callable[[Flask], FlaskClient],
    db_url: str,
) -> None:
    client = login(app)
    sio = connect(app)
    job = _run_job(sio, clock, _accident_call(make_call, "cpic"), (*TOW_STATES, "closed"))
    url = f"/records/work_orders/{job['id']}"
    assert app.test_client().get(url).status_code == 302  # login first
    assert client.get("/records/work_orders/J99999").status_code == 404
    response = client.get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    number = f"{day.strftime('%Y%m%d')}-0001"
    assert number in page and translate("Rescue work order", "zh") in page
    assert "太平洋保险" in page and "95500" in page
    assert "@page" in page and "size: A4" in page
    token = _csrf(page)
    api = f"/api/work_orders/{job['id']}"

    # Without the CSRF header the POST is refused; with it, a bad value answers 400 JSON in
    # the dispatcher's language (Chinese) and changes nothing.
    before = _records(app)
    assert (
        _post(client, api + "/payment", {"method": "cash", "paid_yuan": 1}, None).status_code == 400
    )
    bad = _post(client, api + "/payment", {"method": "cheque", "paid_yuan": 1}, token)
    assert bad.status_code == 400
    error = bad.get_json()["error"]
    assert bad.get_json()["ok"] is False and error["field"] == "method"
    assert error["value"] == "cheque"
    assert error["message"] == translate("one of {methods}", "zh", methods="cash, card, member")
    unknown = _post(client, api + "/payment", {"method": "cash", "paid_yuan": 1, "x": 1}, token)
    assert unknown.status_code == 400 and unknown.get_json()["error"]["field"] == "x"
    not_json = client.post(api + "/sign_off", data="name=王", headers={"X-CSRFToken": token})
    assert not_json.status_code == 400 and not_json.get_json()["error"]["field"] == "body"
    club_without_invoice = _post(
        client, api + "/claim", {"insurer": "cpic", "path": "club_tows"}, token
    )
    assert club_without_invoice.get_json()["error"]["field"] == "invoice"
    assert _records(app) == before

    ok = _post(client, api + "/payment", {"method": "cash", "paid_yuan": 245.5}, token)
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["work_order"]["payment"] == {"method": "cash", "paid_yuan": 245.5}
    signed = _post(client, api + "/sign_off", {"name": "王先生"}, token).get_json()
    assert signed["ok"] and signed["work_order"]["sign_off"]["name"] == "王先生"
    claim = {
        "insurer": "cpic",
        "path": "club_tows",
        "documents": ["liability_ruling", "driving_licence"],
        "invoice": {
            "number": "0431-7788",
            "title": "王先生",
            "amount_yuan": 245.5,
            "date": day.isoformat(),
        },
        "note": "",
    }
    claimed = _post(client, api + "/claim", claim, token).get_json()
    assert claimed["ok"], claimed
    assert claimed["work_order"]["claim"]["invoice"]["number"] == "0431-7788"
    assert client.get(api).get_json()["work_order"]["order_no"] == number

    page = client.get(url).get_data(as_text=True)
    assert "王先生" in page and "245.50" in page and "0431-7788" in page

    pdf = client.get(url + ".pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    body = pdf.data
    assert body.startswith(b"%PDF")
    backend = "sqlite" if "://" not in db_url else "postgresql"
    png = _render_first_page(body, f"work_order_{backend}")
    assert png.stat().st_size > 10_000


def _render_first_page(pdf: bytes, name: str) -> Path:
    """Page 1 of ``pdf`` as a PNG in tests/artifacts (to look at); checks A4 and text."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
    document = pdfium.PdfDocument(pdf)
    assert len(document) == 1  # the form fits one sheet
    page = document[0]
    width, height = page.get_size()
    assert (round(width), round(height)) == A4_PT
    text = page.get_textpage().get_text_range()
    assert translate("Rescue work order", "zh") in text and "会员" in text
    path = ARTIFACTS / f"{name}.png"
    page.render(scale=1.5).to_pil().save(path)
    page.close()
    document.close()
    return path


def test_cli_shows_the_work_order_and_writes_the_pdf(
    app: Flask,
    clock: ManualClock,
    make_call: MakeCall,
    connect: Callable[[Flask], SocketIOTestClient],
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sio = connect(app)
    job = _run_job(sio, clock, make_call())
    out = tmp_path / "order.pdf"
    code = main(["workorder", "show", job["id"], "--db", db_url, "--pdf", str(out)])
    shown = json.loads(capsys.readouterr().out)
    assert code == 0
    assert shown["job_id"] == job["id"] and shown["order_no"].endswith("-0001")
    assert shown["pdf"] == str(out) and out.read_bytes().startswith(b"%PDF")
    assert main(["workorder", "show", "J99999", "--db", db_url]) == 2
    error = json.loads(capsys.readouterr().err)
    assert error["field"] == "job_id"
    assert main(["workorder", "show", job["id"], "--db", db_url, "--pdf", "x.txt"]) == 2
    assert json.loads(capsys.readouterr().err)["field"] == "--pdf"
