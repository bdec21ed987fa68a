"""Which kind of truck a fault needs (SERVICE_RULES §3)."""

from __future__ import annotations

from geo.errors import InputError
from optimizer.dispatch.rules import Rules, TruckKind


def required_kind(fault_category: str, rules: Rules, *, tow_requested: bool = False) -> TruckKind:
    """``service`` for faults fixed on the spot, ``flatbed`` for the rest or any tow.

    Raises :class:`InputError` naming ``fault_category`` when the category is unknown.
    """
    kind = rules.fault_kinds.get(fault_category)
    if kind is None:
        raise InputError(
            "fault_category",
            fault_category,
            "unknown; one of {names}",
            names=", ".join(rules.fault_categories),
        )
    return "flatbed" if tow_requested else kind
