"""The business rules of config/rules.toml as typed values (SERVICE_RULES.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from geo.config import load_rules
from optimizer.dispatch.identifiers import IntakeRules

TruckKind = Literal["service", "flatbed"]
TRUCK_KINDS: tuple[TruckKind, ...] = ("service", "flatbed")


@dataclass(frozen=True)
class Fees:
    """SERVICE_RULES §5, in yuan."""

    membership_yuan: float
    member_on_site_yuan: float
    member_free_tow_km: float
    member_tow_per_km_yuan: float
    non_member_callout_inside_5th_yuan: float
    non_member_callout_outside_5th_yuan: float
    non_member_tow_per_km_yuan: float
    suburban_surcharge_yuan: float
    tow_km_rounding: str
    tow_km_precision_km: float

    @classmethod
    def from_toml(cls, raw: dict[str, Any]) -> Fees:
        """The ``[fees]`` table: every amount a number, the rounding rule a name."""
        amounts = {k: float(v) for k, v in raw.items() if k != "tow_km_rounding"}
        return cls(**amounts, tow_km_rounding=str(raw["tow_km_rounding"]))


@dataclass(frozen=True)
class Insurer:
    key: str
    name_zh: str
    name_en: str
    phone: str


@dataclass(frozen=True)
class PromiseRules:
    """The rules of the promise checks: ``[dispatch] stale_proposal_margin_s`` and
    ``[promise] undispatched_alert_min`` (the caller's sentences are in the message
    catalogue: :data:`optimizer.dispatch.assign.SCRIPTS`)."""

    stale_proposal_margin_s: float
    undispatched_alert_s: float

    @classmethod
    def from_toml(cls, raw: Mapping[str, Any]) -> PromiseRules:
        promise, dispatch = raw["promise"], raw["dispatch"]
        return cls(
            stale_proposal_margin_s=float(dispatch["stale_proposal_margin_s"]),
            undispatched_alert_s=float(promise["undispatched_alert_min"]) * 60.0,
        )


@dataclass(frozen=True, eq=False)
class TollRoads:
    """The ``[tolls]`` table: OSM road name -> the tolled road it belongs to, for roads
    tolled everywhere and for roads tolled only beyond the 5th ring (SERVICE_RULES §5).
    Compared and hashed by identity: one table per rule file loaded."""

    everywhere: dict[str, str]
    beyond_5th_ring: dict[str, str]

    @classmethod
    def from_toml(cls, raw: Mapping[str, Any]) -> TollRoads:
        section = raw.get("tolls")
        if not isinstance(section, dict):
            raise KeyError("the rule file has no [tolls] table (SERVICE_RULES §5)")
        tables = {}
        for key in ("roads", "roads_beyond_5th_ring"):
            table = section.get(key, {})
            if not isinstance(table, dict) or not all(
                isinstance(k, str) and k and isinstance(v, str) and v for k, v in table.items()
            ):
                raise ValueError(f"tolls.{key} must map OSM names to road names, got {table!r}")
            tables[key] = dict(table)
        return cls(tables["roads"], tables["roads_beyond_5th_ring"])

    def road(self, osm_name: str) -> str | None:
        """The tolled road an OSM name part belongs to (anywhere on it), or None."""
        return self.everywhere.get(osm_name) or self.beyond_5th_ring.get(osm_name)


@dataclass(frozen=True)
class Rules:
    """Everything :mod:`optimizer` needs from the rule file."""

    promise_s: float
    at_risk_margin_s: float
    prep_s: float
    on_site_service_s: float
    tow_load_s: float
    tow_unload_s: float
    fault_kinds: dict[str, TruckKind]
    flatbed_can_service: bool
    fees: Fees
    insurers: dict[str, Insurer]
    promise: PromiseRules
    tolls: TollRoads
    intake: IntakeRules

    @classmethod
    def from_toml(cls, raw: dict[str, Any]) -> Rules:
        triage = raw["triage"]
        fault_kinds: dict[str, TruckKind] = {
            **{fault: "service" for fault in triage["service"]},
            **{fault: "flatbed" for fault in triage["flatbed"]},
        }
        dispatch = raw["dispatch"]
        return cls(
            promise_s=float(raw["promise"]["arrival_min"]) * 60.0,
            at_risk_margin_s=float(raw["promise"]["at_risk_margin_min"]) * 60.0,
            prep_s=float(dispatch["prep_s"]),
            on_site_service_s=float(dispatch["on_site_service_s"]),
            tow_load_s=float(dispatch["tow_load_s"]),
            tow_unload_s=float(dispatch["tow_unload_s"]),
            fault_kinds=fault_kinds,
            flatbed_can_service=bool(triage["flatbed_can_service"]),
            fees=Fees.from_toml(raw["fees"]),
            insurers={
                key: Insurer(key, v["name_zh"], v["name_en"], v["phone"])
                for key, v in raw["insurers"].items()
            },
            promise=PromiseRules.from_toml(raw),
            tolls=TollRoads.from_toml(raw),
            intake=IntakeRules.from_toml(raw),
        )

    @property
    def fault_categories(self) -> tuple[str, ...]:
        return tuple(self.fault_kinds)


def load_business_rules(raw: dict[str, Any] | None = None) -> Rules:
    """The rules in force (``config/rules.toml`` or ``$RESCUE_RULES``)."""
    return Rules.from_toml(raw or load_rules())
