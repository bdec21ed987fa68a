"""The records pages' common frame: the navigation between the dispatch map and the records
(jobs, follow-ups, members, reports), the language toggle, and the page's configuration
(user, language, catalogue, labels, CSRF token) for its script."""

from __future__ import annotations

import functools
from typing import Any

from flask import current_app, render_template, session
from flask_wtf.csrf import generate_csrf

from geo.errors import InputError
from geo.i18n import catalogue, translate_in
from optimizer.dispatch.labels import page_labels
from webmap import auth
from webmap.serialize import jsonable


def refused(error: InputError) -> tuple[dict[str, Any], int]:
    """A records API's answer to bad input: 400 with the field, the value and the reason in
    the dispatcher's language."""
    return {
        "ok": False,
        "error": {
            "field": error.field,
            "value": jsonable(error.value),
            "message": error.message(auth.current_language()),
        },
    }, 400


def render_records_page(
    template: str, *, config: dict[str, Any] | None = None, **context: Any
) -> str:
    """``template`` (extending ``records_base.html``) with the common page configuration,
    plus ``config`` for the page's script and ``context`` for the template."""
    lang = auth.current_language()
    page_config = {
        "user": session["user"],
        "lang": lang,
        "catalogue": catalogue(lang),
        "labels": page_labels(lang, current_app.extensions["rescue"].center.rules),
        "csrf_token": generate_csrf(),
        **(config or {}),
    }
    return render_template(
        template,
        page_config=page_config,
        lang=lang,
        _=functools.partial(translate_in, lang),
        **context,
    )
