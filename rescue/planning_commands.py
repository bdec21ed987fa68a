"""``rescue coverage`` and ``rescue site``: for fleet planners, what the stations cover
within the promise and where ``K`` trucks of a kind should wait."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from geo.errors import InputError
from geo.i18n import N_
from geo.places import Geo, load_geo
from geo.router import Snap
from optimizer.coverage import CoverageModel, travel_budget_s
from optimizer.coverage_maps import draw_coverage_map
from optimizer.demand import expected_call_share
from optimizer.demand_cells import DemandCells, default_candidates
from optimizer.dispatch.fleet_file import read_json
from optimizer.dispatch.model import Truck
from optimizer.dispatch.rules import Rules, load_business_rules
from optimizer.fonts import cjk_font
from optimizer.siting import Siting, greedy_siting, solve_siting
from rescue.args import clock, fleet_file, lonlat, positive_number, whole_number, within

FloatArray = npt.NDArray[np.float64]

MAX_CANDIDATES = 5000  # a --candidates file may list at most this many places
MAX_TIME_LIMIT_S = 3600.0
MAX_TRUCKS = 1000


def _stations(geo: Geo, trucks: list[Truck], kind: str | None = None) -> list[Snap]:
    """The distinct home bases of ``trucks`` (of ``kind`` when given), snapped."""
    first_at_base = {
        truck.home_base: i
        for i, truck in reversed(list(enumerate(trucks)))
        if kind is None or truck.kind == kind
    }
    with within("--fleet"):
        return [
            geo.router.snap(*base, field=f"trucks[{i}].home_base")
            for base, i in sorted(first_at_base.items())
        ]


def _coverage(args: argparse.Namespace) -> dict[str, Any]:
    at = clock(args.at, field="--at")
    _, trucks = fleet_file(args.fleet)
    out = None if args.out is None else Path(args.out)
    if out is not None:
        cjk_font()  # refuse before the slow work when the maps cannot be labelled
    rules = load_business_rules()
    geo = load_geo()
    stations = _stations(geo, trucks)
    budget_s = travel_budget_s(rules)
    model = CoverageModel(geo)
    band = geo.band_at(at)
    result: dict[str, Any] = {"stations": len(stations), "band": band, "budget_s": budget_s}
    maps = []
    for each in geo.network.bands if out is not None else (band,):
        covered = model.covered(stations, band=each, budget_s=budget_s)
        demand = expected_call_share(geo, band=each)
        road = model.measure(covered, band=each, budget_s=budget_s)
        calls = model.measure(covered, band=each, budget_s=budget_s, demand=demand)
        if each == band:
            if args.by in (None, "road"):
                result["road"] = road.to_json()
            if args.by in (None, "demand"):
                result["demand"] = calls.to_json()
        if out is not None:
            path = out / f"coverage_{each}.png"
            draw_coverage_map(
                geo,
                covered=covered,
                demand=demand,
                stations=stations,
                road=road,
                calls=calls,
                path=path,
            )
            maps.append(str(path))
    if out is not None:
        result["maps"] = maps
    return result


def _candidate_points(text: str) -> list[tuple[float, float]]:
    """``--candidates``: a JSON list of ``[lon, lat]`` or a GeoJSON FeatureCollection of
    Points."""
    data = read_json(Path(text), field="--candidates")
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise InputError("--candidates features", features, "must be a list")
        points = []
        for i, feature in enumerate(features):
            geometry = feature.get("geometry") if isinstance(feature, dict) else None
            if not isinstance(geometry, dict) or geometry.get("type") != "Point":
                raise InputError(f"--candidates features[{i}]", feature, "must be a Point")
            points.append(geometry.get("coordinates"))
    elif isinstance(data, list):
        points = data
    else:
        raise InputError(
            "--candidates", text, "must hold a list of [lon, lat] or a GeoJSON FeatureCollection"
        )
    if not 0 < len(points) <= MAX_CANDIDATES:
        raise InputError(
            "--candidates", len(points), "must list 1..{maximum} places", maximum=MAX_CANDIDATES
        )
    return [_point(p, field=f"--candidates [{i}]") for i, p in enumerate(points)]


def _point(value: Any, *, field: str) -> tuple[float, float]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise InputError(field, value, "expected [lon, lat] (two numbers)")
    return lonlat(f"{value[0]!r},{value[1]!r}", field=field)


def _siting_json(
    sites: list[Snap],
    counts: tuple[int, int],
    *,
    model: CoverageModel,
    demand: FloatArray,
    band: str,
    budget_s: float,
    total_units: int,
) -> dict[str, Any]:
    """Sites, the shares of the cells' demand they cover (``counts``: once, twice), and
    the demand they cover edge by edge."""
    exact = model.coverage(sites, band=band, budget_s=budget_s, demand=demand)
    return {
        "sites": [[round(s.lon, 6), round(s.lat, 6)] for s in sites],
        "cell_share": counts[0] / total_units,
        "backup_cell_share": counts[1] / total_units,
        "demand": exact.to_json(),
    }


def _chosen(candidates: list[Snap], siting: Siting) -> list[Snap]:
    return [candidates[j] for j in siting.sites]


def _site(args: argparse.Namespace) -> dict[str, Any]:
    at = clock(args.at, field="--at")
    trucks_k = whole_number(args.trucks, field="--trucks", minimum=1, maximum=MAX_TRUCKS)
    time_limit_s = positive_number(args.time_limit, field="--time-limit", maximum=MAX_TIME_LIMIT_S)
    _, trucks = fleet_file(args.fleet)
    points = None if args.candidates is None else _candidate_points(args.candidates)
    rules: Rules = load_business_rules()
    geo = load_geo()
    band = geo.band_at(at)
    budget_s = travel_budget_s(rules)
    model = CoverageModel(geo)
    demand = expected_call_share(geo, band=band, kind_of_fault=rules.fault_kinds, kind=args.kind)
    if points is None:
        candidates = default_candidates(model, demand)
    else:
        candidates = [
            geo.router.snap(lon, lat, field=f"--candidates [{i}]")
            for i, (lon, lat) in enumerate(points)
        ]
    if trucks_k > len(candidates):
        raise InputError(
            "--trucks",
            trucks_k,
            "must be at most the {count} candidates",
            count=len(candidates),
        )
    current = _stations(geo, trucks, args.kind)
    cells = DemandCells(model, demand, band=band, budget_s=budget_s)
    problem = cells.problem(candidates)
    greedy = greedy_siting(problem, trucks_k, backup=args.backup)
    best = solve_siting(problem, trucks_k, backup=args.backup, time_limit_s=time_limit_s)
    now = problem.evaluate([cells.cover([s]) for s in current])
    common: dict[str, Any] = {
        "model": model,
        "demand": demand,
        "band": band,
        "budget_s": budget_s,
        "total_units": int(problem.demand.sum()),
    }
    return {
        "kind": args.kind,
        "trucks": trucks_k,
        "band": band,
        "budget_s": budget_s,
        "backup": args.backup,
        "candidates": len(candidates),
        "cells": len(problem.demand),
        "cp_sat": {
            **_siting_json(_chosen(candidates, best), (best.covered, best.backup), **common),
            "status": best.status,
            "objective": best.covered,
            "best_bound": best.bound,
            "gap": best.gap,
        },
        "greedy": _siting_json(
            _chosen(candidates, greedy), (greedy.covered, greedy.backup), **common
        ),
        "current": {
            "stations": len(current),
            **_siting_json(current, now, **common),
        },
    }


def register(subparsers: Any) -> None:
    coverage = subparsers.add_parser(
        "coverage", help=N_("road km and calls the fleet's stations reach within the promise")
    )
    coverage.add_argument("--fleet", default="data/fleet.json", metavar="FLEET.json")
    coverage.add_argument(
        "--at", default="18:00", metavar="HH:MM", help=N_("Beijing clock time (default 18:00)")
    )
    coverage.add_argument(
        "--by", choices=("demand", "road"), help=N_("one measure only (default: both)")
    )
    coverage.add_argument("--out", metavar="DIR", help=N_("write one PNG map per time-of-day band"))
    coverage.set_defaults(handler=_coverage)

    site = subparsers.add_parser(
        "site", help=N_("where K trucks of a kind should wait to cover the most calls")
    )
    site.add_argument("--trucks", required=True, metavar="K", help=N_("how many waiting places"))
    site.add_argument("--kind", required=True, choices=("service", "flatbed"))
    site.add_argument(
        "--candidates", metavar="FILE", help=N_("JSON list of [lon, lat] or GeoJSON Points")
    )
    site.add_argument(
        "--fleet",
        default="data/fleet.json",
        metavar="FLEET.json",
        help=N_("the current stations: home bases of the trucks of --kind"),
    )
    site.add_argument(
        "--at", default="18:00", metavar="HH:MM", help=N_("Beijing clock time (default 18:00)")
    )
    site.add_argument(
        "--backup",
        action="store_true",
        help=N_("then maximise the calls covered twice (Hogan & ReVelle 1986)"),
    )
    site.add_argument(
        "--time-limit", default="20", metavar="S", help=N_("CP-SAT seconds (default 20)")
    )
    site.set_defaults(handler=_site)
