"""The audit of record changes (``record_log``): who changed which record, when, and how."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert

from records import schema


def log_change(
    connection: Connection,
    *,
    kind: str,
    at_s: float,
    user: str,
    payload: Mapping[str, Any],
    job_id: str | None = None,
    card_no: str | None = None,
) -> None:
    """One ``record_log`` row, in the caller's transaction (with the change it records)."""
    connection.execute(
        insert(schema.record_log),
        {
            "at_s": at_s,
            "user": user,
            "kind": kind,
            "job_id": job_id,
            "card_no": card_no,
            "payload": json.dumps(payload, ensure_ascii=False, allow_nan=False),
        },
    )
