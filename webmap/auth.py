"""Dispatcher login: server-side sessions over the store's users (werkzeug password hashes).

- A login opens a session in the store (:meth:`EventStore.open_session`); the signed Flask
  cookie carries only its token. Logging out ends it on the server: the old cookie is
  refused (401 on ``/api/``) and the session's open sockets are disconnected
  (:class:`SessionSockets`); a session also ends after ``SESSION_LIFETIME_S``.
- Wrong passwords are throttled per name and per address (:mod:`webmap.throttle`, 429
  with ``Retry-After``); an unknown name takes as long as a known one.
- Both forms carry a CSRF token (Flask-WTF's ``CSRFProtect``, set up by the app).

Pages and layer endpoints need a logged-in dispatcher; Socket.IO connections without one
are refused in the connect handler (:mod:`webmap.app`). On first start with no user, the
server creates ``dispatcher`` with a random password, printed once and written to
``first-login.txt`` beside the database (``data/runtime/``, git-ignored, mode 0600).
"""

from __future__ import annotations

import functools
import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from geo.i18n import DEFAULT_LANGUAGE, N_, language, translate, translate_in
from records.store import SECRET_FILE_MODE, EventStore
from webmap.throttle import LoginThrottle

FIRST_USER = "dispatcher"
FIRST_LOGIN_FILE = "first-login.txt"
LANGUAGE_COOKIE = "rescue_lang"
"""Remembers the language chosen last in this browser for the login page."""

bp = Blueprint("auth", __name__)


def _store() -> EventStore:
    store: EventStore = current_app.extensions["rescue"].store
    return store


class SessionSockets:
    """The open Socket.IO connections of each login session, to close them at logout."""

    def __init__(self, disconnect: Callable[[str], None]) -> None:
        self._disconnect = disconnect
        self._lock = threading.Lock()
        self._by_token: dict[str, set[str]] = {}

    def opened(self, token: str, sid: str) -> None:
        with self._lock:
            self._by_token.setdefault(token, set()).add(sid)

    def closed(self, token: str, sid: str) -> None:
        with self._lock:
            sids = self._by_token.get(token)
            if sids is not None:
                sids.discard(sid)
                if not sids:
                    del self._by_token[token]

    def close_ended(self, is_live: Callable[[str], bool]) -> int:
        """Disconnect the sockets of every session no longer live (expired, its user
        removed); how many sessions ended."""
        with self._lock:
            tokens = list(self._by_token)
        ended = [token for token in tokens if not is_live(token)]
        for token in ended:
            self.close_all(token)
        return len(ended)

    def close_all(self, token: str) -> int:
        """Disconnect every socket of the session ``token``; how many there were."""
        with self._lock:
            sids = self._by_token.pop(token, set())
        for sid in sids:
            self._disconnect(sid)
        return len(sids)


def _rescue() -> Any:
    return current_app.extensions["rescue"]


def session_token() -> str | None:
    token = session.get("token")
    return token if isinstance(token, str) else None


def current_user() -> str | None:
    """The dispatcher of this request's session, if the session is live on the server."""
    return _store().session_user(session_token())


def current_language() -> str:
    """The page language of this request's dispatcher (Chinese unless they chose English)."""
    user = current_user()
    return _store().user_language(user) if user else DEFAULT_LANGUAGE


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Pages redirect to the login form; ``/api/`` answers 401 JSON."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            if request.path.startswith("/api/"):
                return jsonify(error="login required"), 401
            return redirect(url_for("auth.login"))
        return view(*args, **kwargs)

    return wrapped


def login_language() -> str:
    """The login page's language: ``?lang=``, else the one last chosen in this browser."""
    return language(request.args.get("lang") or request.cookies.get(LANGUAGE_COOKIE))


def _login_page(error: str | None = None, status: int = 200, **params: Any) -> Any:
    lang = login_language()
    page = render_template(
        "login.html",
        error=translate(error, lang, **params) if error else None,
        lang=lang,
        _=functools.partial(translate_in, lang),
    )
    return current_app.make_response((page, status))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return _login_page()
    name = request.form.get("name", "")
    address = request.remote_addr or "unknown"
    throttle: LoginThrottle = _rescue().throttle
    wait_s = throttle.begin(name, address)
    if wait_s is not None:
        response = _login_page(
            N_("Too many failed logins: try again in {seconds} s."), 429, seconds=wait_s
        )
        response.headers["Retry-After"] = str(wait_s)
        return response
    if not _store().check_user(name, request.form.get("password", "")):
        return _login_page(N_("Unknown user or wrong password."), 401)
    throttle.succeeded(name, address)
    session.clear()
    session["token"] = _store().open_session(name)
    session["user"] = name
    return redirect(url_for("pages.index"))


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    """End the session on the server and close its sockets; the cookie is worthless after."""
    token = session_token()
    if token is not None:
        _store().end_session(token)
        _rescue().sockets.close_all(token)
    session.clear()
    return redirect(url_for("auth.login"))


def ensure_first_user(store: EventStore, *, folder: Path) -> str | None:
    """With no user yet, create ``dispatcher`` with a random password; return it (once).

    The password is also written to ``folder/first-login.txt`` (mode 600).
    """
    if store.user_count() > 0:
        return None
    password = secrets.token_urlsafe(12)
    store.add_user(FIRST_USER, password)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FIRST_LOGIN_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, SECRET_FILE_MODE)
    os.fchmod(fd, SECRET_FILE_MODE)  # a file that existed before keeps its mode otherwise
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(
            "First login of the rescue-dispatch live map (created on first start).\n"
            f"user: {FIRST_USER}\npassword: {password}\n"
            "Add dispatchers with: rescue user add NAME   (the password is read from stdin)\n"
        )
    return password
