"""One quote path: what a call costs, from the fields intake records (SERVICE_RULES §2-§5).

The dispatch board (the page's intake, the simulator, ``rescue assign``) and
``rescue quote`` both price a call here: place it on the network, triage it (§3), choose
where a tow goes (§4), find the tolled roads on the way and quote the fees (§5).

Tolls (§5, at cost) are flagged when the truck's route to the scene or the tow route drives
on a tolled road (:mod:`optimizer.dispatch.tolls`). Before dispatch the truck is not chosen
yet: its route ends on the scene's road, so a scene on a tolled road counts, unless the
caller says the car is not on a highway (a place snapped onto an expressway from the
service road beside it); a caller who says it is on a highway gets the notice too.
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.places import Geo, Placement
from optimizer.dispatch.intake import QuoteRequest
from optimizer.dispatch.model import Intake
from optimizer.dispatch.quote import Quote, make_quote
from optimizer.dispatch.rules import Rules, TruckKind
from optimizer.dispatch.shops import Shops, TowDestination, choose_tow_destination
from optimizer.dispatch.tolls import leg_tolls, place_tolls
from optimizer.dispatch.triage import required_kind

PricedCall = Intake | QuoteRequest
"""A parsed intake, or only its pricing fields (:func:`intake.parse_quote_request`)."""


@dataclass(frozen=True)
class Pricing:
    """A call placed, triaged and quoted."""

    placement: Placement
    required_kind: TruckKind
    tow: TowDestination | None
    """Where the car is towed, with the road metres billed; None without a tow."""
    toll_roads: tuple[str, ...]
    """The tolled roads on the way (scene and tow), as named in ``[tolls]``."""
    quote: Quote


def call_kind(call: PricedCall, rules: Rules) -> TruckKind:
    """The truck the call needs (§3); a requested tow needs a flatbed whatever the fault."""
    tow_requested = call.tow_destination is not None
    if call.fault_category is None:
        return "flatbed" if tow_requested else "service"
    return required_kind(call.fault_category, rules, tow_requested=tow_requested)


def price_call(call: PricedCall, *, geo: Geo, rules: Rules, shops: Shops, band: str) -> Pricing:
    """Place, triage and quote a call, routing in the time-of-day ``band`` of the call.

    Raises :class:`geo.errors.InputError` for a place off the network (field ``location``
    or ``tow_destination``) or an unknown fault category.
    """
    placement = geo.locate(*call.location, field="location")
    kind = call_kind(call, rules)
    tow = None
    if kind == "flatbed":
        tow = choose_tow_destination(
            geo,
            shops,
            placement,
            chosen=call.tow_destination,
            name=call.tow_destination_name,
            band=band,
        )
    roads = call_tolls(call, placement, tow, geo=geo, rules=rules, band=band)
    return Pricing(placement, kind, tow, roads, _quote(call, placement, tow, roads, rules))


def quote_call(
    call: PricedCall,
    placement: Placement,
    tow: TowDestination | None,
    *,
    geo: Geo,
    rules: Rules,
    band: str,
) -> Quote:
    """The quote of a call already placed, its tow (if any) already chosen: at intake, and
    again when a job on scene converts to a tow."""
    roads = call_tolls(call, placement, tow, geo=geo, rules=rules, band=band)
    return _quote(call, placement, tow, roads, rules)


def call_tolls(
    call: PricedCall,
    placement: Placement,
    tow: TowDestination | None,
    *,
    geo: Geo,
    rules: Rules,
    band: str,
) -> tuple[str, ...]:
    """The tolled roads on the way: the scene's road (unless the caller says the car is not
    on a highway), then those of the tow route."""
    tolled = rules.tolls
    on_scene = call.on_highway_reported is not False
    roads = place_tolls(geo, tolled, placement.snap) if on_scene else []
    if tow is not None:
        roads += leg_tolls(geo, tolled, placement.snap, tow.snap, band=band)
    return tuple(dict.fromkeys(roads))


def _quote(
    call: PricedCall,
    placement: Placement,
    tow: TowDestination | None,
    roads: tuple[str, ...],
    rules: Rules,
) -> Quote:
    return make_quote(
        member=call.member,
        zone=placement.zone,
        on_highway=bool(roads) or call.on_highway_reported is True,
        tow_m=None if tow is None else tow.tow_m,
        rules=rules,
        accident=call.accident,
        insurer=call.insurer,
        toll_roads=roads,
    )
