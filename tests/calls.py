"""Test data: a valid call intake (SERVICE_RULES §2)."""

from __future__ import annotations

from typing import Any


def make_call(where: Any, fault: str = "flat_battery", **fields: Any) -> dict[str, Any]:
    """A valid intake at ``where`` ([lon, lat]); ``fields`` override or add fields."""
    call = {
        "caller": {"name": "王先生", "phone": "13800138000", "gender": "male"},
        "vehicle": {"plate": "京N12345", "model": "Volkswagen Passat", "colour": "black"},
        "member": True,
        "member_card": "BJ-000123",
        "location": list(where),
        "landmarks": "near the north gate",
        "fault_symptoms": "won't start",
        "fault_category": fault,
    }
    call.update(fields)
    return call
