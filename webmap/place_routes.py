"""``GET /api/places?q=&limit=``: the intake panel's place search (:mod:`geo.place_search`).

Answers ``{"query", "results": [{"kind", "name", "lonlat", "highway", "bbox", "zone"}]}``
(points WGS-84, the map's datum); a bad ``q`` or ``limit`` answers 400
``{"ok": false, "error": {"field", "value", "message"}}`` in the dispatcher's language.
The index is built when the blueprint is registered, so the first search is not slow.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Blueprint, current_app, request
from flask.blueprints import BlueprintSetupState

from geo.errors import InputError
from geo.place_search import DEFAULT_LIMIT, place_index, search_json
from geo.places import Geo
from webmap import auth

places = Blueprint("places", __name__)


def _geo() -> Geo:
    geo: Geo = current_app.extensions["rescue"].center.geo
    return geo


@places.record_once
def _warm_index(state: BlueprintSetupState) -> None:
    """Build the place index beside the start-up (seconds), so the server answers at once
    (a restart after a crash included); the first search waits for it if it must."""
    network = state.app.extensions["rescue"].center.geo.network
    threading.Thread(target=place_index, args=(network,), name="place-index", daemon=True).start()


@places.route("/api/places")
@auth.login_required
def api_places() -> Any:
    geo = _geo()
    try:
        return search_json(
            geo.network,
            geo.zones,
            request.args.get("q"),
            limit=request.args.get("limit", DEFAULT_LIMIT),
        )
    except InputError as error:
        message = error.message(auth.current_language())
        return {
            "ok": False,
            "error": {"field": error.field, "value": error.value, "message": message},
        }, 400
