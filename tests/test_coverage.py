"""Coverage and station siting on the real network."""

from __future__ import annotations

import numpy as np
import pytest

from geo.places import Geo
from geo.router import Snap
from optimizer.coverage import CoverageModel, edge_midpoint_times, travel_budget_s
from optimizer.dispatch.rules import Rules

MADIAN = (116.3772, 39.9713)


@pytest.fixture(scope="module")
def model(geo: Geo) -> CoverageModel:
    return CoverageModel(geo)


def test_edge_midpoint_time_is_the_router_time_to_that_point(geo: Geo) -> None:
    station = geo.router.snap(*MADIAN)
    times = edge_midpoint_times(geo, station, band="daytime", max_s=3600)
    one_way = np.flatnonzero((geo.network.twin_edge < 0) & np.isfinite(times))[:50:5]
    for edge in one_way:
        midpoint = Snap(int(edge), 0.5, -1, np.nan, np.nan, 0.0)
        assert times[edge] == pytest.approx(
            geo.router.travel_times_from(station, [midpoint], band="daytime")[0], rel=1e-9
        )


def test_coverage_shrinks_at_the_peak_and_with_a_smaller_budget(
    model: CoverageModel, geo: Geo, business_rules: Rules
) -> None:
    station = [geo.router.snap(*MADIAN)]
    budget = travel_budget_s(business_rules)
    night = model.coverage(station, band="night", budget_s=budget)
    peak = model.coverage(station, band="evening_peak", budget_s=budget)
    short = model.coverage(station, band="night", budget_s=budget / 2)
    assert 0 < peak.share < night.share <= 1
    assert short.share < night.share
    assert budget == 38 * 60  # the 40-minute promise less 2 minutes of preparation
    assert sum(z["total_km"] for z in night.by_zone.values()) == pytest.approx(night.total_km)


def test_siting_beats_random_sites(model: CoverageModel, geo: Geo, business_rules: Rules) -> None:
    rng = np.random.default_rng(1)
    nodes = rng.choice(geo.network.node_count, size=25, replace=False)
    candidates = [geo.router.snap(geo.network.node_lon[n], geo.network.node_lat[n]) for n in nodes]
    budget = 15 * 60.0
    chosen = model.site(
        candidates, stations=3, band="evening_peak", budget_s=budget, time_limit_s=5
    )
    assert len(chosen) == 3
    sited = model.coverage(
        [candidates[j] for j in chosen], band="evening_peak", budget_s=budget
    ).share
    for _ in range(5):
        picks = rng.choice(len(candidates), 3, replace=False)
        random = model.coverage(
            [candidates[j] for j in picks], band="evening_peak", budget_s=budget
        ).share
        assert sited >= random - 0.01
    with pytest.raises(ValueError, match="stations=0"):
        model.site(candidates, stations=0, band="night", budget_s=budget)
