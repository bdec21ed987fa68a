"""Dispatcher login: a Flask session over the store's users (werkzeug password hashes).

Pages and layer endpoints need a logged-in dispatcher; Socket.IO connections without one
are refused in the connect handler (:mod:`webmap.app`). On first start with no user, the
server creates ``dispatcher`` with a random password, printed once and written to
``first-login.txt`` beside the database (``data/runtime/``, git-ignored).
"""

from __future__ import annotations

import functools
import os
import secrets
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

from webmap.store import EventStore

FIRST_USER = "dispatcher"
FIRST_LOGIN_FILE = "first-login.txt"

bp = Blueprint("auth", __name__)


def _store() -> EventStore:
    store: EventStore = current_app.extensions["rescue"].store
    return store


def current_user() -> str | None:
    user = session.get("user")
    return user if isinstance(user, str) and _store().has_user(user) else None


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


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        name = request.form.get("name", "")
        if _store().check_user(name, request.form.get("password", "")):
            session.clear()
            session["user"] = name
            return redirect(url_for("pages.index"))
        error = "Unknown user or wrong password."
    status = 401 if error else 200
    return render_template("login.html", error=error), status


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
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
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(
            "First login of the rescue-dispatch live map (created on first start).\n"
            f"user: {FIRST_USER}\npassword: {password}\n"
            "Add dispatchers with: rescue user add NAME   (the password is read from stdin)\n"
        )
    return password
