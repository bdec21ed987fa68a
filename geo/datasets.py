"""``make data``: fill ``data/osm/`` with the OSM extract and the ring polygons.

When ``../shared/osm/`` sits beside the checkout its files are copied (only when changed).
Otherwise the same area is downloaded from OpenStreetMap with osmnx (needs internet): the
drivable network saved as OSM XML, and the ring roads polygonised from their ways.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import sys
import time
from pathlib import Path

import osmnx as ox
import shapely

from geo.config import PROJECT_ROOT, data_dir
from geo.places import load_geo

SHARED_OSM_DIR = PROJECT_ROOT.parent / "shared" / "osm"
SHARED_FILES = ("beijing.osm.bz2", "rings.geojson", "PROVENANCE.md")
# The shared extract's bounds (../shared/osm/PROVENANCE.md): west, south, east, north.
EXTRACT_BBOX = (116.1480018, 39.7880008, 116.6129966, 40.0959966)
# Ring roads by OSM ref or name, for the download path; keys are the rings' English names.
RING_QUERIES: dict[str, tuple[str, dict[str, bool | str | list[str]]]] = {
    "2nd Ring Road": ("二环路", {"name": "二环路"}),
    "3rd Ring Road": ("三环路", {"name": "三环路"}),
    "4th Ring Road": ("四环路", {"name": "四环路"}),
    "5th Ring Road": ("五环路", {"ref": "S50"}),
    "6th Ring Road": ("六环路", {"ref": "G4501"}),
}


def copy_shared(source: Path, target: Path) -> list[str]:
    """Copy the shared files that are missing or different; return the names copied."""
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in SHARED_FILES:
        src, dst = source / name, target / name
        if src.exists() and not (dst.exists() and filecmp.cmp(src, dst, shallow=False)):
            shutil.copyfile(src, dst)
            copied.append(name)
    return copied


def download(target: Path) -> None:
    """Download the extract's area and the ring roads from OpenStreetMap (internet needed)."""
    target.mkdir(parents=True, exist_ok=True)
    ox.settings.all_oneway = True  # keep OSM one-way semantics when saving XML
    graph = ox.graph_from_bbox(EXTRACT_BBOX, network_type="drive", simplify=False, retain_all=True)
    ox.io.save_graph_xml(graph, target / "beijing.osm")
    features = []
    for name_en, (name_zh, tags) in RING_QUERIES.items():
        ways = ox.features_from_place("Beijing, China", tags=tags)
        lines = [g for g in ways.geometry if g.geom_type in ("LineString", "MultiLineString")]
        polygons = shapely.get_parts(shapely.polygonize(lines))
        if len(polygons) == 0:
            raise RuntimeError(f"could not close the ring {name_en} from OSM ways")
        ring = max(polygons, key=lambda p: p.area)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "name:en": name_en,
                    "name:zh": name_zh,
                    "source": "© OpenStreetMap contributors, ODbL 1.0",
                },
                "geometry": shapely.geometry.mapping(shapely.Polygon(ring.exterior)),
            }
        )
    (target / "rings.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED_OSM_DIR)
    parser.add_argument("--target", type=Path, default=data_dir() / "osm")
    args = parser.parse_args(argv)
    if (args.shared / "beijing.osm.bz2").exists():
        copied = copy_shared(args.shared, args.target)
        print(
            f"data/osm: {'copied ' + ', '.join(copied) if copied else 'up to date'} "
            f"(from {args.shared})"
        )
    elif (args.target / "rings.geojson").exists() and any(args.target.glob("*.osm*")):
        print("data/osm: up to date (no shared copy; keeping the downloaded files)")
    else:
        print(f"data/osm: {args.shared} not found, downloading from OpenStreetMap ...")
        download(args.target)
    if args.target == data_dir() / "osm":
        compile_caches()
    return 0


def compile_caches() -> None:
    """Compile the network and its bands' hierarchies into ``data/osm/cache`` (once)."""
    started = time.perf_counter()
    load_geo()
    print(f"data/osm/cache: network and hierarchies ready ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    sys.exit(main())
