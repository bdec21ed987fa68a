"""The club group's branch repair shops (分公司维修店): where a tow goes when the customer
names no destination (SERVICE_RULES §4). Read from ``data/shops.geojson``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geo.config import data_dir
from geo.places import Geo, Placement
from geo.router import Snap, SnapSet

DEFAULT_SHOPS_FILE = "shops.geojson"


@dataclass(frozen=True)
class Shop:
    id: str
    name: str
    name_en: str
    lon: float
    lat: float


@dataclass(frozen=True)
class ShopChoice:
    shop: Shop
    travel_s: float


class Shops:
    """Shops snapped once to the network; nearest by road travel time."""

    def __init__(self, shops: list[Shop], geo: Geo) -> None:
        if not shops:
            raise ValueError("the shops file lists no shop")
        self.shops = shops
        self._geo = geo
        self._snaps = SnapSet.of(
            geo.router.snap_many([s.lon for s in shops], [s.lat for s in shops], field="shop")
        )

    @classmethod
    def load(cls, geo: Geo, path: Path | None = None) -> Shops:
        path = path or data_dir() / DEFAULT_SHOPS_FILE
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        return cls(
            [
                Shop(
                    id=str(f["properties"]["id"]),
                    name=f["properties"]["name"],
                    name_en=f["properties"].get("name_en", f["properties"]["name"]),
                    lon=float(f["geometry"]["coordinates"][0]),
                    lat=float(f["geometry"]["coordinates"][1]),
                )
                for f in features
            ],
            geo,
        )

    def nearest(self, origin: Snap, *, band: str) -> ShopChoice:
        """The shop with the shortest road travel time from ``origin``."""
        times = self._geo.router.travel_times_from(origin, self._snaps, band=band)
        best = int(np.argmin(times))
        return ShopChoice(self.shops[best], float(times[best]))


@dataclass(frozen=True)
class TowDestination:
    lonlat: tuple[float, float]
    name: str
    snap: Snap
    tow_m: float
    """Shortest road metres from the breakdown (what is billed; the same at any hour)."""


def choose_tow_destination(
    geo: Geo,
    shops: Shops,
    origin: Placement,
    *,
    chosen: tuple[float, float] | None,
    name: str,
    band: str,
) -> TowDestination:
    """The customer's destination, or else the nearest group shop by road time in ``band``
    (§4), with the road distance of the tow (what is billed, SERVICE_RULES §5): the shortest
    road distance, not the fastest route's length, so the bill does not depend on the hour;
    from a place beyond the road data, plus the estimated road metres to the road."""
    if chosen is None:
        shop = shops.nearest(origin.snap, band=band).shop
        chosen, name = (shop.lon, shop.lat), shop.name
        snap = geo.router.snap(*chosen, field="shop")
    else:
        snap = geo.router.snap(*chosen, field="tow_destination")
    tow_m = geo.router.shortest_length_m(origin.snap, snap)
    if origin.estimated:
        tow_m += geo.off_network.road_m(origin.off_network_m)
    return TowDestination(chosen, name, snap, tow_m)
