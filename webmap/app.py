"""The live dispatch map: Flask routes and Socket.IO events over one DispatchCenter.

Thin by design: every handler checks the payload's shape, calls the center, and answers
with an acknowledgement ``{"ok": true, ...}``; on an error it emits ``error``
``{"event", "field", "value", "message"}`` to the sender (and acknowledges
``{"ok": false, "error": ...}``), and the state is unchanged. A ``dispatch`` refused because
the proposal shown went stale adds ``"proposal"`` (the fresh one), ``"job_id"`` and
``"truck_id"`` to the error. Changes reach every logged-in
dispatcher through the ``dispatchers`` room.

Client -> server: ``intake``, ``propose``, ``dispatch``, ``reassign``, ``advance``,
``cancel``, ``convert_to_tow``, ``replan`` (``preview``: solve only), ``replan_apply``,
``replan_discard``, ``replan_undo``, ``truck_duty``, ``sync``. Server -> clients: ``state`` (on
connect and ``sync``), ``truck_positions`` (batched, once a second at most), ``job_updated``,
``truck_updated``, ``promise_alert``, ``error``.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_from_directory,
    session,
)
from flask_socketio import ConnectionRefusedError, SocketIO, emit, join_room
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from geo.config import PROJECT_ROOT, load_rules
from geo.errors import InputError
from geo.i18n import (
    DEFAULT_LANGUAGE,
    N_,
    catalogue,
    env_language,
    language,
    translate,
    translate_in,
)
from geo.places import Geo, load_geo
from optimizer.dispatch.labels import page_labels
from optimizer.dispatch.model import JobState
from optimizer.dispatch.rules import load_business_rules
from optimizer.dispatch.shops import Shops
from records.database import WriterRefusedError
from records.store import DEFAULT_DB_PATH, EventStore
from webmap import (
    auth,
    member_routes,
    place_routes,
    records_routes,
    report_routes,
    server,
    work_order_routes,
)
from webmap.center import REPLAN_TIME_LIMIT_S, DispatchCenter, RefusalError, StoreError
from webmap.clock import Clock, SimClock
from webmap.layers import (
    MINOR_ROADS,
    Layer,
    rings_geojson,
    road_labels_geojson,
    roads_geojson,
    shops_geojson,
)
from webmap.payloads import MAX_TRANSPORT_BYTES, SocketJson, check_payload
from webmap.serialize import jsonable
from webmap.sim import SimConfig, Simulation
from webmap.throttle import LoginThrottle

log = logging.getLogger(__name__)

socketio = SocketIO()
csrf = CSRFProtect()
ROOM = "dispatchers"
VENDOR = {
    "leaflet": PROJECT_ROOT / "node_modules" / "leaflet" / "dist",
    "socket.io": PROJECT_ROOT / "node_modules" / "socket.io-client" / "dist",
    "markercluster": PROJECT_ROOT / "node_modules" / "leaflet.markercluster" / "dist",
    "echarts": PROJECT_ROOT / "node_modules" / "echarts" / "dist",
}
# Defence in depth behind the page's textContent-only rendering: scripts only from the app
# itself, OSM tiles as the only outside resource.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https://tile.openstreetmap.org; connect-src 'self' ws: wss:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
DEFAULTS: dict[str, Any] = {
    "RESCUE_DB": None,  # an SQLite file or a postgresql:// URL; default $RESCUE_DB_URL, else
    # data/runtime/dispatch.sqlite (records.database.database_url)
    "RESCUE_FLEET": None,  # fleet file; default data/fleet.json
    "RESCUE_GEO": None,  # a loaded geo.places.Geo (tests share one)
    "RESCUE_CLOCK": None,  # a webmap.clock.Clock (tests use a ManualClock)
    "SIM": False,
    "SIM_SPEED": 1.0,
    "SIM_SEED": None,
    "SIM_CALLS_PER_HOUR": SimConfig.calls_per_hour,
    "TICK_S": 1.0,
    "PROMISE_WATCH_S": 1.0,  # promise checks and alerts (undispatched calls too), every second
    "POSITIONS_FLUSH_S": 5.0,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,  # `rescue serve --secure-cookies` behind TLS
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session: a shift's page
}


@dataclass
class Runtime:
    """What one app instance runs: the center, its store, the map layers, the simulation."""

    center: DispatchCenter
    store: EventStore
    sim: Simulation | None
    layers: dict[str, Layer]
    config: Mapping[str, Any]
    sockets: auth.SessionSockets
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    stop: threading.Event = field(default_factory=threading.Event)
    task: Any = None
    ticks: int = 0

    def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            self.task.join(timeout=5)
        self.center.flush_positions()
        self.store.close()


def runtime() -> Runtime:
    value: Runtime = current_app.extensions["rescue"]
    return value


# ---------------------------------------------------------------------------- factory
def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The Flask app with its DispatchCenter (state rebuilt from the store)."""
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    if config:
        app.config.from_mapping(config)
    store = EventStore(app.config["RESCUE_DB"])
    try:
        # One writer per database: a second server on it would keep its own board.
        store.claim_writer()
    except WriterRefusedError:
        store.close()
        raise
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = store.secret_key()
    geo: Geo = app.config["RESCUE_GEO"] or load_geo()
    rules = load_business_rules()
    clock: Clock = app.config["RESCUE_CLOCK"] or SimClock(
        speed=float(app.config["SIM_SPEED"]), not_before=store.last_at_s()
    )
    shops = Shops.load(geo)
    fleet = app.config["RESCUE_FLEET"]
    center = DispatchCenter.open(
        store=store,
        geo=geo,
        rules=rules,
        clock=clock,
        shops=shops,
        fleet_path=Path(fleet) if fleet else None,
    )
    sim = None
    if app.config["SIM"]:
        sim = Simulation(
            center,
            SimConfig(
                calls_per_hour=float(app.config["SIM_CALLS_PER_HOUR"]), seed=app.config["SIM_SEED"]
            ),
        )
    layers = {
        "roads": Layer(lambda: roads_geojson(geo.network)),
        "rings": Layer(lambda: rings_geojson(load_rules())),
        "minor_roads": Layer(lambda: roads_geojson(geo.network, classes=MINOR_ROADS)),
        "road_labels": Layer(lambda: road_labels_geojson(geo.network, rings_geojson(load_rules()))),
        "shops": Layer(lambda: shops_geojson(shops)),
    }
    sockets = auth.SessionSockets(lambda sid: socketio.server.disconnect(sid, namespace="/"))
    app.extensions["rescue"] = Runtime(center, store, sim, layers, app.config, sockets)
    csrf.init_app(app)
    app.register_error_handler(CSRFError, _csrf_refused)
    center.subscribe(_broadcast)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages)
    app.register_blueprint(place_routes.places)
    app.register_blueprint(records_routes.records)
    app.register_blueprint(member_routes.members)
    app.register_blueprint(report_routes.reports)
    app.register_blueprint(work_order_routes.work_orders)
    app.after_request(_security_headers)
    options: dict[str, Any] = {
        "async_mode": "threading",
        "max_http_buffer_size": MAX_TRANSPORT_BYTES,
        "json": SocketJson,
    }
    socketio.init_app(app, **options)
    app.wsgi_app = _SessionGate(app, app.wsgi_app)  # type: ignore[method-assign]
    return app


class _SessionGate:
    """WSGI middleware before Socket.IO: an engine.io request (``/socket.io/``: a handshake,
    a poll, a WebSocket) without a live session is answered 401 before engine.io opens
    anything, so anonymous clients cannot hold the server's threads with idle sockets."""

    def __init__(self, app: Flask, inner: Any) -> None:
        self.app = app
        self.inner = inner

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith("/socket.io"):
            with self.app.request_context(environ):
                live = auth.current_user() is not None
            if not live:
                refusal = Response("login required: open /login first", status=401)
                return refusal(environ, start_response)
        return self.inner(environ, start_response)


def _csrf_refused(error: CSRFError) -> Any:
    """A form without its token: the login page again, saying why (the catalogue's text)."""
    return auth._login_page(N_("The form expired or came from another site: submit again."), 400)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _broadcast(event: str, payload: dict[str, Any]) -> None:
    socketio.emit(event, payload, to=ROOM)


# ---------------------------------------------------------------------------- live loop
def start_live(app: Flask) -> None:
    """Start the background task: simulation tick, promise watch, position flush."""
    rt: Runtime = app.extensions["rescue"]
    if rt.task is None:
        rt.task = socketio.start_background_task(_live_loop, rt)


SESSION_SWEEP_S = 5.0
"""How often open sockets of sessions that ended without a logout (expired, user removed)
are closed: a logout closes its own at once."""


def _live_loop(rt: Runtime) -> None:
    tick_s = float(rt.config["TICK_S"])
    watch_s = float(rt.config["PROMISE_WATCH_S"])
    flush_s = float(rt.config["POSITIONS_FLUSH_S"])
    last_watch = last_flush = last_sweep = time.monotonic()
    while not rt.stop.is_set():
        started = time.monotonic()
        try:
            if rt.sim is not None:
                rt.sim.step()
            if started - last_watch >= watch_s:
                rt.center.watch_promises()
                last_watch = started
            if started - last_flush >= flush_s:
                rt.center.flush_positions()
                last_flush = started
            if started - last_sweep >= SESSION_SWEEP_S:
                rt.sockets.close_ended(lambda token: rt.store.session_user(token) is not None)
                last_sweep = started
        except Exception:
            log.exception("live loop tick failed")
        rt.ticks += 1
        socketio.sleep(max(0.0, tick_s - (time.monotonic() - started)))


# ---------------------------------------------------------------------------- pages
pages = Blueprint("pages", __name__)


@pages.route("/")
@auth.login_required
def index() -> Any:
    rt = runtime()
    rules = rt.center.rules
    lang = auth.current_language()
    page_config = {
        "user": session["user"],
        "lang": lang,
        "catalogue": catalogue(lang),
        "labels": page_labels(lang, rules),
        "csrf_token": generate_csrf(),
        "sim": rt.sim is not None,
        "speed": rt.center.clock.speed,
        "promise_min": rules.promise_s / 60.0,
        "faults": [{"id": f, "kind": k} for f, k in rules.fault_kinds.items()],
        "insurers": [
            {"id": i.key, "name_zh": i.name_zh, "name_en": i.name_en, "phone": i.phone}
            for i in rules.insurers.values()
        ],
        "job_states": [s.value for s in JobState],
        "attribution": "© OpenStreetMap contributors",
    }
    return render_template(
        "index.html",
        page_config=page_config,
        lang=lang,
        _=functools.partial(translate_in, lang),
    )


@pages.route("/api/language", methods=["POST"])
@auth.login_required
def api_language() -> Any:
    """Remember the dispatcher's page language (``{"lang": "zh" | "en"}``)."""
    body = request.get_json(silent=True)
    lang = body.get("lang") if isinstance(body, dict) else None
    try:
        chosen = runtime().store.set_user_language(session["user"], lang)
    except InputError as error:
        message = error.message(auth.current_language())
        return {
            "ok": False,
            "error": {"field": error.field, "value": error.value, "message": message},
        }, 400
    response = current_app.make_response({"ok": True, "lang": chosen})
    response.set_cookie(auth.LANGUAGE_COOKIE, chosen, max_age=365 * 86400, samesite="Lax")
    return response


@pages.route("/favicon.ico")
def favicon() -> Any:
    return Response(status=204)


@pages.route("/healthz")
def healthz() -> Any:
    return {"ok": True}


@pages.route("/api/state")
@auth.login_required
def api_state() -> Any:
    return jsonable(runtime().center.snapshot())


@pages.route("/api/<name>.geojson")
@auth.login_required
def api_layer(name: str) -> Any:
    layer = runtime().layers.get(name)
    if layer is None:
        abort(404)
    if request.if_none_match.contains(layer.etag):
        return Response(status=304)
    response = Response(layer.body, mimetype="application/geo+json")
    response.set_etag(layer.etag)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@pages.route("/vendor/<lib>/<path:filename>")
def vendor(lib: str, filename: str) -> Any:
    """Leaflet and the Socket.IO client from node_modules (``npm ci``): no CDN needed."""
    folder = VENDOR.get(lib)
    if folder is None:
        abort(404)
    if not folder.is_dir():
        abort(404, description=f"{folder} is missing: run `make install` (npm ci)")
    return send_from_directory(folder, filename, max_age=86400)


# ---------------------------------------------------------------------------- socket.io
def _user() -> str:
    """The sender's dispatcher; refused once the session has ended (logout, expiry)."""
    user = auth.current_user()
    if user is None:
        raise InputError("session", None, "login required: the session has ended")
    return user


def _event(name: str) -> Callable[[Callable[[Any, str], dict[str, Any]]], Any]:
    """Register a thin handler: ``fn(data, user) -> answer``; errors become ``error``."""

    def decorator(fn: Callable[[Any, str], dict[str, Any]]) -> Any:
        @functools.wraps(fn)
        def handler(*args: Any) -> dict[str, Any]:
            data = args[0] if len(args) == 1 else ({} if not args else list(args))
            try:
                user = _user()
                answer = fn(check_payload(name, data), user)
            except RefusalError as error:
                return _refuse(
                    name, error.field, error.value, error.reason_id, error.params, error.details
                )
            except InputError as error:
                return _refuse(name, error.field, error.value, error.reason_id, error.params)
            except StoreError as error:
                return _refuse(
                    name,
                    "store",
                    None,
                    N_("the store refused the command: {error}"),
                    {"error": str(error)},
                )
            except Exception:
                log.exception("event %s failed", name)
                return _refuse(name, None, None, N_("internal error: the command was not applied"))
            return {"ok": True, **jsonable(answer)}

        socketio.on(name)(handler)
        return handler

    return decorator


def _language() -> str:
    """The sender's page language; the default when it cannot be known (no session)."""
    try:
        return auth.current_language()
    except Exception:  # a refusal must still go out, in the default language
        return DEFAULT_LANGUAGE


def _refuse(
    event: str,
    field_name: str | None,
    value: Any,
    message_id: str,
    params: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``error`` event and answer: ``message`` in the sender's language, with the
    catalogue's English text (``message_id``) and its ``params`` for the page."""
    params = dict(params or {})
    error = {
        "event": event,
        "field": field_name,
        "value": jsonable(value),
        "message": translate(message_id, _language(), **params),
        "message_id": message_id,
        "params": jsonable(params),
    }
    error.update(jsonable(details or {}))
    emit("error", error)
    return {"ok": False, "error": error}


def _login_first() -> str:
    """Why a connection without a session is refused, in the browser's last language."""
    try:
        lang = auth.login_language()
    except Exception:  # no request to read it from
        lang = DEFAULT_LANGUAGE
    return translate(N_("login required: open /login first"), lang)


@socketio.on("connect")
def on_connect(auth_data: Any = None) -> None:
    token = auth.session_token()
    if token is None:
        raise ConnectionRefusedError(_login_first())
    # Registered before the check, so a logout in between still finds and closes it.
    sid = request.sid  # type: ignore[attr-defined]
    runtime().sockets.opened(token, sid)
    if auth.current_user() is None:
        runtime().sockets.closed(token, sid)
        raise ConnectionRefusedError(_login_first())
    join_room(ROOM)
    emit("state", jsonable(runtime().center.snapshot()))


@socketio.on("disconnect")
def on_disconnect(reason: Any = None) -> None:
    token = auth.session_token()
    if token is not None:
        runtime().sockets.closed(token, request.sid)  # type: ignore[attr-defined]


@_event("sync")
def on_sync(data: Any, user: str) -> dict[str, Any]:
    state = jsonable(runtime().center.snapshot())
    emit("state", state)
    return {"now_s": state["now_s"]}


@_event("intake")
def on_intake(data: Any, user: str) -> dict[str, Any]:
    return runtime().center.intake(data, user=user)


@_event("propose")
def on_propose(data: Any, user: str) -> dict[str, Any]:
    return {"proposal": runtime().center.propose(data["job_id"])}


@_event("dispatch")
def on_dispatch(data: Any, user: str) -> dict[str, Any]:
    """Confirm a job on a truck; with what the dispatcher was shown for it (``eta_at_s`` or
    ``eta_s``, ``status``) a proposal gone stale is refused with the fresh one
    (the error's ``proposal``)."""
    return runtime().center.dispatch(
        data["job_id"],
        data["truck_id"],
        version=data.get("version"),
        eta_at_s=data.get("eta_at_s"),
        eta_s=data.get("eta_s"),
        status=data.get("status"),
        user=user,
    )


@_event("reassign")
def on_reassign(data: Any, user: str) -> dict[str, Any]:
    return runtime().center.reassign(
        data["job_id"], data["truck_id"], version=data.get("version"), user=user
    )


@_event("advance")
def on_advance(data: Any, user: str) -> dict[str, Any]:
    return runtime().center.advance(
        data["job_id"], data["state"], version=data.get("version"), user=user
    )


@_event("convert_to_tow")
def on_convert_to_tow(data: Any, user: str) -> dict[str, Any]:
    return runtime().center.convert_to_tow(
        data["job_id"],
        destination=data.get("destination"),
        destination_name=data.get("destination_name") or "",
        crs=data.get("crs") or "wgs84",
        version=data.get("version"),
        user=user,
    )


@_event("cancel")
def on_cancel(data: Any, user: str) -> dict[str, Any]:
    return runtime().center.cancel(
        data["job_id"],
        data["reason"],
        note=data.get("note"),
        version=data.get("version"),
        user=user,
    )


@_event("replan")
def on_replan(data: Any, user: str) -> dict[str, Any]:
    limit = data.get("time_limit_s")
    return runtime().center.replan(
        time_limit_s=REPLAN_TIME_LIMIT_S if limit is None else limit,
        preview=bool(data.get("preview")),
        user=user,
    )


@_event("replan_apply")
def on_replan_apply(data: Any, user: str) -> dict[str, Any]:
    return runtime().center.replan_apply(data["plan_id"], user=user)


@_event("replan_discard")
def on_replan_discard(data: Any, user: str) -> dict[str, Any]:
    return runtime().center.replan_discard(data["plan_id"], user=user)


@_event("replan_undo")
def on_replan_undo(data: Any, user: str) -> dict[str, Any]:
    return runtime().center.replan_undo(user=user)


@_event("truck_duty")
def on_truck_duty(data: Any, user: str) -> dict[str, Any]:
    return runtime().center.set_duty(data["truck_id"], data["on_duty"], user=user)


# ---------------------------------------------------------------------------- serving
def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    db: str | None = None,
    sim: bool = False,
    speed: float = 1.0,
    fleet: Path | None = None,
    seed: int | None = None,
    calls_per_hour: float | None = None,
    secure_cookies: bool = False,
    lang: str | None = None,
) -> None:
    """Run the live map on the production server (:mod:`webmap.server`) until stopped;
    what it prints is in ``lang`` (default: the command line's, :func:`env_language`)."""
    lang = language(lang, env_language())
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config: dict[str, Any] = {
        "RESCUE_DB": db,
        "SIM": sim,
        "SIM_SPEED": speed,
        "RESCUE_FLEET": str(fleet) if fleet else None,
        "SIM_SEED": seed,
        "SESSION_COOKIE_SECURE": secure_cookies,
    }
    if calls_per_hour is not None:
        config["SIM_CALLS_PER_HOUR"] = calls_per_hour
    _first_login(db, lang)

    def load_app() -> Flask:
        app = create_app(config)
        report = app.extensions["rescue"].center.replay_report
        events, skipped = report["events"], len(report["skipped"])
        if skipped:
            rebuilt = translate(
                "State rebuilt from {events} stored events ({skipped} skipped)",
                lang,
                events=events,
                skipped=skipped,
            )
        else:
            rebuilt = translate("State rebuilt from {events} stored events", lang, events=events)
        if sim:
            rebuilt += translate("; simulation at {speed:g}x", lang, speed=speed)
        print(rebuilt, flush=True)
        start_live(app)
        url = f"http://{host}:{port}/"
        print(translate("Live dispatch map: {url}", lang, url=url), flush=True)
        return app

    server.run(load_app, host=host, port=port)


def _first_login(db: str | None, lang: str) -> None:
    """With no dispatcher yet, create the first login and say (in ``lang``) where it is
    (beside the SQLite file; on PostgreSQL in the default runtime folder)."""
    store = EventStore(db)
    folder = (store.path or DEFAULT_DB_PATH).parent
    try:
        password = auth.ensure_first_user(store, folder=folder)
    finally:
        store.close()
    first_file = folder / auth.FIRST_LOGIN_FILE
    if password:
        print(
            translate(
                "First start: log in as user '{user}' with password {password}\n"
                "(also written to {file}; add users with `rescue user add NAME`)",
                lang,
                user=auth.FIRST_USER,
                password=password,
                file=first_file,
            ),
            flush=True,
        )
    elif first_file.exists():
        print(
            translate(
                "Log in as a dispatcher (the first login is in {file})", lang, file=first_file
            ),
            flush=True,
        )
