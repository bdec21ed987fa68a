"""Fee quote before dispatch (SERVICE_RULES §5), with line items and the caller script.

Members: on-site rescue free; towing free for the first 15 road km, 8 yuan per km beyond.
Non-members: call-out 100 yuan inside the 5th ring, 300 outside; towing 15 yuan per km.
Anyone: highway and bridge tolls at cost; a surcharge outside the service area (6th ring).
Non-members are offered membership (380 yuan, applies at once) with the price it would give.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from geo.i18n import N_, both, translate
from geo.zones import Zone
from optimizer.dispatch.rules import Fees, Rules


@dataclass(frozen=True)
class LineItem:
    """A line of the quote: ``label`` in English, ``label_zh`` in Chinese (the catalogue)."""

    code: str
    label: str
    fee_yuan: float
    label_zh: str = ""

    @classmethod
    def of(cls, code: str, fee_yuan: float, msgid: str, /, **params: Any) -> LineItem:
        """The item with its label ``msgid`` (a catalogue text) in both languages."""
        zh, en = both(msgid, **params)
        return cls(code, en, fee_yuan, zh)


@dataclass(frozen=True)
class Quote:
    items: list[LineItem]
    total_yuan: float
    zone: Zone
    tow_km: float | None
    billed_tow_km: int | None
    on_highway: bool
    member: bool
    join_offer: dict[str, float] | None
    notices: list[str] = field(default_factory=list)
    """In English; ``notices_zh`` the same in Chinese."""
    script_zh: str = ""
    script_en: str = ""
    notices_zh: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["tow_km"] = None if self.tow_km is None else round(self.tow_km, 2)
        return out


# SERVICE_RULES §5 bills road km; the road length is first rounded to this precision so that
# map noise (a few metres, let alone 0.04 mm) past a whole km does not start another km.
def rounded_tow_km(tow_m: float, fees: Fees) -> float:
    """The tow's road km rounded (half up) to ``fees.tow_km_precision_km``."""
    precision_km = fees.tow_km_precision_km
    return math.floor(tow_m / 1000.0 / precision_km + 0.5) * precision_km


def billed_km(tow_m: float, fees: Fees) -> int:
    """Road km billed for a tow (SERVICE_RULES §5): the road km, rounded to
    ``fees.tow_km_precision_km`` first, then in whole km started
    (``tow_km_rounding = "ceil"``) or rounded to the nearest km.

    15 000.00004 m rounds to 15.0 km and bills 15; 15 060 m rounds to 15.1 and bills 16.
    """
    km = rounded_tow_km(tow_m, fees)
    # The tolerance absorbs the float error of the rounding (150 x 0.1 = 15.000000000000002).
    return math.ceil(km - 1e-9) if fees.tow_km_rounding == "ceil" else round(km)


def _member_items(fees: Fees, tow_km: int | None) -> list[LineItem]:
    items = [
        LineItem.of(
            "on_site_service",
            fees.member_on_site_yuan,
            N_("On-site rescue and troubleshooting (member)"),
        )
    ]
    if tow_km is not None:
        free_km = min(tow_km, fees.member_free_tow_km)
        items.append(
            LineItem.of(
                "tow_free_km",
                0.0,
                N_("Towing, first {free_km:g} km free ({km:g} km)"),
                free_km=fees.member_free_tow_km,
                km=free_km,
            )
        )
        extra_km = max(0, tow_km - fees.member_free_tow_km)
        if extra_km:
            items.append(
                LineItem.of(
                    "tow_extra_km",
                    extra_km * fees.member_tow_per_km_yuan,
                    N_("Towing beyond {free_km:g} km: {km:g} km x {per_km:g} yuan"),
                    free_km=fees.member_free_tow_km,
                    km=extra_km,
                    per_km=fees.member_tow_per_km_yuan,
                )
            )
    return items


def _non_member_items(fees: Fees, zone: Zone, tow_km: int | None) -> list[LineItem]:
    inside = zone == "inside_5th_ring"
    callout = (
        fees.non_member_callout_inside_5th_yuan
        if inside
        else fees.non_member_callout_outside_5th_yuan
    )
    label = (
        N_("Emergency call-out fee, inside the 5th Ring Road")
        if inside
        else N_("Emergency call-out fee, outside the 5th Ring Road")
    )
    items = [LineItem.of("callout", callout, label)]
    if tow_km is not None:
        items.append(
            LineItem.of(
                "tow_km",
                tow_km * fees.non_member_tow_per_km_yuan,
                N_("Towing: {km:g} km x {per_km:g} yuan"),
                km=tow_km,
                per_km=fees.non_member_tow_per_km_yuan,
            )
        )
    return items


def _common_items(fees: Fees, zone: Zone, on_highway: bool) -> list[LineItem]:
    items = []
    if zone == "outside_6th_ring":
        items.append(
            LineItem.of(
                "suburban_surcharge",
                fees.suburban_surcharge_yuan,
                N_("Suburban service outside the service area"),
            )
        )
    if on_highway:
        items.append(
            LineItem.of(
                "tolls",
                0.0,
                N_("Highway and bridge tolls on the way: paid by the customer at cost"),
            )
        )
    return items


def _total(items: list[LineItem]) -> float:
    return float(sum(item.fee_yuan for item in items))


def _scripts(
    quote_total: float,
    *,
    member: bool,
    tow_km: int | None,
    fees: Fees,
    on_highway: bool,
    join_offer: dict[str, float] | None,
) -> tuple[str, str]:
    """What the dispatcher tells the caller about the price: clauses of the catalogue,
    joined in each language's way."""
    clauses: list[tuple[str, str]] = []
    if member:
        clauses.append(both(N_("As a member, on-site rescue and troubleshooting are free")))
        if tow_km is not None:
            clauses.append(
                both(
                    N_(
                        "towing is free for the first {free_km:g} km and {per_km:g} yuan per km "
                        "beyond; this tow is about {km} km"
                    ),
                    free_km=fees.member_free_tow_km,
                    per_km=fees.member_tow_per_km_yuan,
                    km=tow_km,
                )
            )
    else:
        clauses.append(both(N_("We also serve non-members")))
        if tow_km is not None:
            clauses.append(both(N_("this tow is about {km} km"), km=tow_km))
    clauses.append(both(N_("the total is {total:g} yuan"), total=quote_total))
    if on_highway:
        clauses.append(both(N_("highway and bridge tolls are paid by you at cost")))
    if join_offer:
        clauses.append(
            both(
                N_(
                    "you can join now for {membership:g} yuan a year, effective at once, "
                    "and this service would then cost {member_total:g} yuan"
                ),
                membership=fees.membership_yuan,
                member_total=join_offer["member_total_yuan"],
            )
        )
    zh = "，".join(c[0] for c in clauses) + "。"
    en = "; ".join(c[1] for c in clauses) + "."
    return zh, en


def make_quote(
    *,
    member: bool,
    zone: Zone,
    on_highway: bool,
    tow_m: float | None,
    rules: Rules,
    accident: bool = False,
    insurer: str | None = None,
    toll_roads: tuple[str, ...] = (),
) -> Quote:
    """The fee quote for a call.

    Parameters
    ----------
    member
        Member card holder (or joining now).
    zone, on_highway
        Where the car is (:class:`geo.places.Placement`).
    tow_m
        Shortest road metres from the breakdown to the tow destination (the same at any
        time of day: :meth:`geo.router.Router.shortest_length_m`), or None when no tow.
        Billed by :func:`billed_km`.
    accident, insurer
        An insurance accident adds the insurer's claim line as a notice (§6).
    toll_roads
        The tolled roads on the way (:mod:`optimizer.dispatch.tolls`), named in the tolls
        notice when ``on_highway`` flags tolls.
    """
    fees = rules.fees
    tow_km = None if tow_m is None else billed_km(tow_m, fees)
    own = _member_items(fees, tow_km) if member else _non_member_items(fees, zone, tow_km)
    items = own + _common_items(fees, zone, on_highway)
    total = _total(items)
    join_offer = None
    if not member:
        member_total = _total(_member_items(fees, tow_km) + _common_items(fees, zone, on_highway))
        join_offer = {
            "membership_yuan": fees.membership_yuan,
            "member_total_yuan": member_total,
            "total_if_joining_yuan": fees.membership_yuan + member_total,
            "saving_today_yuan": total - (fees.membership_yuan + member_total),
        }
    notices: list[tuple[str, str]] = []
    if on_highway:
        if toll_roads:
            notices.append(
                both(
                    N_(
                        "Tolled road on the way ({roads}): tolls are the customer's, at cost "
                        "(SERVICE_RULES §5)."
                    ),
                    roads=", ".join(toll_roads),
                )
            )
        else:
            notices.append(
                both(N_("On a highway: tolls are the customer's, at cost (SERVICE_RULES §5)."))
            )
    if accident:
        zh, en = both(
            N_(
                "Accident: report to the traffic police and the insurer; the insurer must "
                "tow a car that cannot be driven, some free of charge (§6)."
            )
        )
        line = rules.insurers.get(insurer or "")
        if line:
            claim = N_("{insurer} claims line {phone}.")
            zh += translate(claim, "zh", insurer=line.name_zh, phone=line.phone)
            en += " " + translate(claim, "en", insurer=line.name_en, phone=line.phone)
        notices.append((zh, en))
    script_zh, script_en = _scripts(
        total, member=member, tow_km=tow_km, fees=fees, on_highway=on_highway, join_offer=join_offer
    )
    return Quote(
        items=items,
        total_yuan=total,
        zone=zone,
        tow_km=None if tow_m is None else tow_m / 1000.0,
        billed_tow_km=tow_km,
        on_highway=on_highway,
        member=member,
        join_offer=join_offer,
        notices=[en for _, en in notices],
        script_zh=script_zh,
        script_en=script_en,
        notices_zh=[zh for zh, _ in notices],
    )
