"""The offline base map's own data: road labels (``/api/road_labels.geojson``) and minor roads
(``/api/minor_roads.geojson``) built from the real Beijing network, served like the other
layers (login, ETag, 304)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from geo.places import Geo
from webmap.app import CONTENT_SECURITY_POLICY
from webmap.layers import (
    MAIN_ROADS,
    MINOR_ROADS,
    _label_name,
    rings_geojson,
    road_labels_geojson,
    roads_geojson,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def labels(geo: Geo, rules: dict[str, Any]) -> dict[str, Any]:
    return road_labels_geojson(geo.network, rings_geojson(rules))


def _names(labels: dict[str, Any], rank: int) -> Counter[str]:
    return Counter(
        f["properties"]["name"] for f in labels["features"] if f["properties"]["rank"] == rank
    )


def test_label_names_from_edge_names() -> None:
    assert _label_name("三元桥 / 东三环北路") == ("东三环北路", 3)
    assert _label_name("厢白旗桥 / 北五环 / 北五环路上清桥") == ("北五环", 5)
    assert _label_name("五环 (huán 5) / 仰山桥") == ("五环", 5)
    assert _label_name("5th Ring road") == ("", 5)  # the ring's own name is used there
    assert _label_name("首都机场公道 Capital Airport Expwy") == ("首都机场公道", None)
    assert _label_name("Xiangquan Bridge / 香泉环岛") == ("", None)
    assert _label_name("Jingcheng Expressway") == ("Jingcheng Expressway", None)


def test_every_ring_from_the_2nd_to_the_5th_is_labelled(labels: dict[str, Any]) -> None:
    rings = _names(labels, 0)
    for numeral in "二三四五":
        on_ring = {name: n for name, n in rings.items() if f"{numeral}环" in name}
        assert sum(on_ring.values()) >= 4, numeral  # around the ring, not at one place
    # the 2nd ring is unnamed in the data: the ring polygon's name; sections elsewhere
    assert rings["二环路"] >= 4
    assert {"北三环中路", "东三环北路", "西四环北路", "南四环西路", "北五环"} <= set(rings)
    assert all(CJK.search(name) and "环" in name for name in rings)
    assert not any("桥" in name for name in rings)  # bridges are not roads


def test_expressways_and_arterials_have_chinese_names(labels: dict[str, Any]) -> None:
    expressways, arterials, secondary = _names(labels, 1), _names(labels, 2), _names(labels, 3)
    assert {"八达岭高速", "京石高速公路", "机场高速"} <= set(expressways)
    assert {"中关村大街", "复兴路", "西长安街", "东长安街", "阜成路"} <= set(arterials)
    assert {"学院南路", "朝阳路", "三里河路"} <= set(secondary)
    for names in (expressways, arterials, secondary):
        chinese = sum(n for name, n in names.items() if CJK.search(name))
        assert chinese >= 0.75 * sum(names.values())
    for names in (expressways, arterials, secondary):
        assert not any("环" in name and re.search("[二三四五]环", name) for name in names)
        assert not any(name.endswith("桥") for name in names)


def test_label_features_shape_and_counts(labels: dict[str, Any]) -> None:
    features = labels["features"]
    ranks = Counter(f["properties"]["rank"] for f in features)
    assert set(ranks) == {0, 1, 2, 3}
    assert 40 <= ranks[0] <= 200 and 30 <= ranks[1] <= 300
    assert 50 <= ranks[2] <= 600 and 100 <= ranks[3] <= 1500
    assert [f["properties"]["rank"] for f in features] == sorted(ranks.elements())  # in order
    for f in features:
        props, (lon, lat) = f["properties"], f["geometry"]["coordinates"]
        assert set(props) == {"name", "rank", "angle_deg"} and props["name"]
        assert -90 < props["angle_deg"] <= 90
        assert 116.0 < lon < 116.8 and 39.6 < lat < 40.2
    assert labels["attribution"] == "© OpenStreetMap contributors"


def test_labels_lie_on_their_roads_and_along_them(geo: Geo, labels: dict[str, Any]) -> None:
    """A ring section's label sits on a road of that name, turned along it."""
    network = geo.network
    ring = [f for f in labels["features"] if f["properties"]["name"] == "北三环中路"]
    assert ring
    for f in ring:
        lon, lat = f["geometry"]["coordinates"]
        assert abs(f["properties"]["angle_deg"]) < 20  # the north 3rd ring runs east-west
        best = min(
            math.hypot((network.geom_lon[i] - lon) * 85_000, (network.geom_lat[i] - lat) * 111_000)
            for e in range(network.edge_count)
            if "北三环中路" in network.edge_name[e]
            for i in range(network.geom_offsets[e], network.geom_offsets[e + 1])
        )
        assert best < 1500  # metres to a shape point of the road (edges are straight)


def test_minor_roads_are_their_own_layer(geo: Geo) -> None:
    minor = roads_geojson(geo.network, classes=MINOR_ROADS)
    classes = {f["properties"]["highway"] for f in minor["features"]}
    assert {"residential", "unclassified", "service"} <= classes <= set(MINOR_ROADS)
    assert not classes & set(MAIN_ROADS)


def _get(client: FlaskClient, url: str, etag: str | None = None) -> Any:
    return client.get(url, headers={"If-None-Match": etag} if etag else {})


def test_layers_served_with_etag(
    new_app: Callable[..., Flask], login: Callable[..., FlaskClient], tmp_path: Path
) -> None:
    app = new_app(tmp_path / "events.db")
    assert app.test_client().get("/api/road_labels.geojson").status_code == 401
    client = login(app)
    sizes = {}
    for name in ("road_labels", "minor_roads", "roads"):
        url = f"/api/{name}.geojson"
        first = _get(client, url)
        assert first.status_code == 200 and first.mimetype == "application/geo+json"
        etag = first.get_etag()[0]
        assert etag and _get(client, url, etag).status_code == 304
        assert _get(client, url, "other").status_code == 200
        sizes[name] = len(first.data)
        assert first.json["features"]
    assert sizes["road_labels"] < 300_000  # the brief's budget
    assert sizes["minor_roads"] < 1_500_000 and sizes["roads"] < 1_500_000
    labels = _get(client, "/api/road_labels.geojson").json
    assert {f["properties"]["rank"] for f in labels["features"]} == {0, 1, 2, 3}


def test_page_asks_no_other_host_by_default() -> None:
    """The base map's script names one outside host, OpenStreetMap's tiles, and adds that
    layer to the layer menu only (the browser test checks the requests)."""
    script = (Path(__file__).resolve().parents[1] / "webmap" / "static" / "basemap.js").read_text(
        encoding="utf-8"
    )
    hosts = set(re.findall(r"https?://([\w.-]+)", script))
    assert hosts == {"tile.openstreetmap.org"}
    assert "tiles.addTo(" not in script and "innerHTML" not in script
    for text in ("Project roads (offline)", "OpenStreetMap tiles (online)", "Ring roads"):
        assert f"t('{text}')" in script
    # chosen in the menu, the tiles may load: the page's policy allows their images
    img_src = next(d for d in CONTENT_SECURITY_POLICY.split(";") if d.strip().startswith("img-src"))
    assert "https://tile.openstreetmap.org" in img_src.split()
