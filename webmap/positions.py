"""The ``truck_positions`` batch on the wire: binary, encoded once for the whole room.

A batch of 500 trucks as JSON (``[["T01", 116.4, 39.9], ...]``) is 16 kB of text, which
every receiver parses and, on a WebSocket, checks as UTF-8 byte by byte (python-socketio's
client does that in pure Python: about 15 ms per batch). So the bulk travels as one
Socket.IO binary attachment (a WebSocket binary frame, which carries no text to check),
and the JSON part is a few numbers:

- ``now_s``, ``received_at``, ``sent_at``: the board's clock; when the GPS batch reached
  the server and when it was published (wall clock, epoch seconds);
- ``count``: how many trucks the batch has;
- ``trucks``: bytes: first, per truck, longitude then latitude (WGS-84) in millionths of
  a degree as little-endian signed 32-bit integers (``8 * count`` bytes; a millionth of
  a degree is 0.1 m, the precision the batch always had); then the truck ids in the
  same order, a UTF-8 JSON array of strings.

One attachment, not two: python-socketio's client hands each WebSocket message to its
own thread, so fewer frames per event leave it less to reorder.

The page reads it in ``static/app.js`` (the ``truck_positions`` handler); Python clients
(tests, the live benchmark) with :func:`read_positions_batch`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from optimizer.dispatch.model import LonLat

LONLAT_SCALE = 1_000_000
"""Millionths of a degree per degree on the wire."""
_WIRE_INT = np.dtype("<i4")


def positions_batch(
    ids: Sequence[str],
    lonlats: Sequence[LonLat],
    *,
    now_s: float,
    received_at: float,
    sent_at: float,
) -> dict[str, Any]:
    """The ``truck_positions`` event's payload for trucks ``ids`` at ``lonlats``."""
    scaled = np.rint(np.asarray(lonlats, dtype=np.float64).reshape(-1, 2) * LONLAT_SCALE)
    names = json.dumps(list(ids), ensure_ascii=False, separators=(",", ":")).encode()
    return {
        "now_s": now_s,
        "received_at": received_at,
        "sent_at": sent_at,
        "count": len(ids),
        "trucks": scaled.astype(_WIRE_INT).tobytes() + names,
    }


def read_positions_batch(batch: Any) -> dict[str, LonLat]:
    """A received batch's positions by truck id (``(lon, lat)`` degrees).

    Raises :class:`ValueError` if the batch does not have the shape above."""
    count = batch.get("count") if isinstance(batch, dict) else None
    raw = batch.get("trucks") if isinstance(batch, dict) else None
    if not isinstance(count, int) or not isinstance(raw, bytes) or count < 0:
        raise ValueError("a truck_positions batch has a count and binary trucks")
    split = count * 2 * _WIRE_INT.itemsize
    ids = json.loads(raw[split:])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("the batch's ids are not a JSON array of strings")
    if len(ids) != count:
        raise ValueError(f"{len(ids)} truck ids in a batch of {count}")
    degrees = np.frombuffer(raw[:split], dtype=_WIRE_INT).reshape(-1, 2) / LONLAT_SCALE
    return {
        truck_id: (float(lon), float(lat))
        for truck_id, (lon, lat) in zip(ids, degrees.tolist(), strict=True)
    }
