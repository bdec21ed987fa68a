"""The ``truck_positions`` batch on the wire: one compact JSON event for the whole room.

The batch is encoded once for every client (Flask-SocketIO encodes a room emit once) and
carries no object per truck:

- ``now_s``, ``received_at``, ``sent_at``: the board's clock; when the GPS batch reached
  the server and when it was published (wall clock, epoch seconds);
- ``ids``: the truck ids;
- ``lonlat_e6``: per truck, in the order of ``ids``, longitude then latitude (WGS-84) in
  millionths of a degree as integers (0.1 m, the precision the batch always had).

It stays text: a Socket.IO binary attachment travels as a frame of its own after the
event's header, and python-socketio's client hands each WebSocket message to a thread of
its own, so an attachment can be read before its header (or another event's frame can
come between them when two threads emit to one client): a batch would then be lost or
break the connection.

The page reads it in ``static/app.js`` (the ``truck_positions`` handler); Python clients
(tests, the live benchmark) with :func:`read_positions_batch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from optimizer.dispatch.model import LonLat

LONLAT_SCALE = 1_000_000
"""Millionths of a degree per degree on the wire."""


def positions_batch(
    ids: Sequence[str],
    lonlats: Sequence[LonLat],
    *,
    now_s: float,
    received_at: float,
    sent_at: float,
) -> dict[str, Any]:
    """The ``truck_positions`` event's payload for trucks ``ids`` at ``lonlats``."""
    scaled = np.rint(np.asarray(lonlats, dtype=np.float64).reshape(-1) * LONLAT_SCALE)
    return {
        "now_s": now_s,
        "received_at": received_at,
        "sent_at": sent_at,
        "ids": list(ids),
        "lonlat_e6": scaled.astype(np.int64).tolist(),
    }


def read_positions_batch(batch: Any) -> dict[str, LonLat]:
    """A received batch's positions by truck id (``(lon, lat)`` degrees).

    Raises :class:`ValueError` if the batch does not have the shape above."""
    ids = batch.get("ids") if isinstance(batch, dict) else None
    scaled = batch.get("lonlat_e6") if isinstance(batch, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("a truck_positions batch has its ids as a list of strings")
    if not isinstance(scaled, list) or not all(type(v) is int for v in scaled):
        raise ValueError("a truck_positions batch has lonlat_e6 as a list of integers")
    if len(scaled) != 2 * len(ids):
        raise ValueError(f"{len(scaled)} coordinates for {len(ids)} trucks")
    degrees = np.asarray(scaled, dtype=np.float64).reshape(-1, 2) / LONLAT_SCALE
    return {
        truck_id: (float(lon), float(lat))
        for truck_id, (lon, lat) in zip(ids, degrees.tolist(), strict=True)
    }
