"""Place search latency: 1,000 queries a dispatcher might type, timed server-side.

The queries are drawn (seeded) from the index's own names, in six equal shares: full
names, prefixes, substrings, full pinyin, initials, and crossings ``A与B`` of two roads
that meet. Each :meth:`geo.place_search.PlaceIndex.search` call is timed with
``time.perf_counter``; 200 of the queries are also timed through ``GET /api/places`` on a
Flask test client (routing, login check, zones, JSON: no network). Also: the index's build
time on the loaded network.

Target (the place-search issue): median ≤ 5 ms and p99 ≤ 20 ms server-side.

    python benchmarks/place_search.py [--queries 1000] [--http 200] [--seed 42] [--json PATH]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import median_ms, percentile_ms, print_table, write_json

from geo.place_search import PlaceIndex, pinyin_keys
from geo.places import Geo, load_geo
from webmap.app import create_app
from webmap.client import form_token

USER, PASSWORD = "bench", "benchmark password"
TARGET_MEDIAN_MS = 5.0
TARGET_P99_MS = 20.0
KINDS = ("full", "prefix", "substring", "pinyin", "initials", "crossing")


def draw_queries(index: PlaceIndex, count: int, rng: random.Random) -> list[tuple[str, str]]:
    """``count`` ``(kind, query)``, the kinds in turn, each from a random road or crossing."""
    names = sorted(road.name for road in index.roads)
    queries = []
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        name = rng.choice(names)
        if kind == "prefix":
            query = name[: rng.randint(1, max(1, len(name) - 1))]
        elif kind == "substring":
            start = rng.randrange(len(name))
            query = name[start : rng.randint(start + 1, len(name))]
        elif kind in ("pinyin", "initials"):
            full, initials = pinyin_keys(name)
            keys = sorted(full if kind == "pinyin" else initials or full)
            query = rng.choice(keys)
        elif kind == "crossing":
            a, b = rng.choice(index.crossings).roads
            query = f"{index.roads[a].name}与{index.roads[b].name}"
        else:
            query = name
        queries.append((kind, query.strip()[:60] or name[:60]))
    return queries


def time_http(geo: Geo, queries: list[str]) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "RESCUE_DB": f"{folder}/b.db",
                "RESCUE_GEO": geo,
            }
        )
        runtime = app.extensions["rescue"]
        runtime.store.add_user(USER, PASSWORD)
        client = app.test_client()
        token = form_token(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"name": USER, "password": PASSWORD, "csrf_token": token})
        seconds = []
        for query in queries:
            start = time.perf_counter()
            response = client.get("/api/places", query_string={"q": query})
            seconds.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise RuntimeError(f"{query!r}: HTTP {response.status_code}")
        runtime.close()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--http", type=int, default=200, help="of them also timed over HTTP")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", help="write the figures to this JSON file")
    args = parser.parse_args()
    geo = load_geo()

    start = time.perf_counter()
    index = PlaceIndex.from_network(geo.network)
    build_s = time.perf_counter() - start

    queries = draw_queries(index, args.queries, random.Random(args.seed))
    seconds: list[float] = []
    by_kind: dict[str, list[float]] = {kind: [] for kind in KINDS}
    empty = 0
    for kind, query in queries:
        start = time.perf_counter()
        found = index.search(query)
        elapsed = time.perf_counter() - start
        seconds.append(elapsed)
        by_kind[kind].append(elapsed)
        empty += not found
    http = time_http(geo, [query for _, query in queries[: args.http]])

    result = {
        "queries": len(queries),
        "roads": len(index.roads),
        "crossings": len(index.crossings),
        "query_ms_median": median_ms(seconds),
        "query_ms_p99": percentile_ms(seconds, 99),
        "query_ms_max": max(seconds) * 1000.0,
        "query_ms_median_by_kind": {k: median_ms(v) for k, v in by_kind.items()},
        "queries_without_result": empty,
        "build_s": build_s,
        "http_queries": len(http),
        "http_ms_median": median_ms(http),
        "http_ms_p99": percentile_ms(http, 99),
        "target_ms_median": TARGET_MEDIAN_MS,
        "target_ms_p99": TARGET_P99_MS,
    }
    print(
        f"Place search over {len(index.roads)} roads and {len(index.crossings)} crossings: "
        f"{len(queries)} queries ({', '.join(KINDS)})"
    )
    print_table(
        [
            ("search, median ms", result["query_ms_median"], f"target <= {TARGET_MEDIAN_MS:g}"),
            ("search, p99 ms", result["query_ms_p99"], f"target <= {TARGET_P99_MS:g}"),
            ("search, max ms", result["query_ms_max"], ""),
            *(
                (f"  {kind}, median ms", statistics.median(by_kind[kind]) * 1000.0, "")
                for kind in KINDS
            ),
            ("queries without a result", empty, ""),
            ("GET /api/places, median ms", result["http_ms_median"], f"over {len(http)} queries"),
            ("GET /api/places, p99 ms", result["http_ms_p99"], ""),
            ("index build s", build_s, "once per network, at app start"),
        ],
        ("figure", "value", "note"),
    )
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
