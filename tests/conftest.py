"""Shared fixtures: the real Beijing network, loaded once per test session."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest

from geo.config import load_rules
from geo.graph import build_drive_graph
from geo.network import default_osm_path
from geo.places import Geo, load_geo
from geo.speeds import SpeedModel
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.shops import Shops


@pytest.fixture(scope="session")
def rules() -> dict[str, Any]:
    return load_rules()


@pytest.fixture(scope="session")
def geo(rules: dict[str, Any]) -> Geo:
    return load_geo(rules=rules)


@pytest.fixture(scope="session")
def drive_graph(rules: dict[str, Any]) -> nx.MultiDiGraph:
    """The osmnx graph the network was compiled from (for comparisons with networkx)."""
    graph, _ = build_drive_graph(
        default_osm_path(),
        speeds=SpeedModel.from_rules(rules),
        drivable_highways=rules["network"]["drivable_highways"],
    )
    return graph


@pytest.fixture(scope="session")
def business_rules(rules: dict[str, Any]) -> Rules:
    return Rules.from_toml(rules)


@pytest.fixture(scope="session")
def shops(geo: Geo) -> Shops:
    return Shops.load(geo)
