"""PNG maps of coverage: covered roads green, uncovered red (drawn wider where more calls
are expected), the ring roads, the stations; titled in Chinese, then English."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
import numpy.typing as npt
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from geo.places import Geo
from geo.router import Snap
from optimizer.coverage import Coverage
from optimizer.fonts import cjk_font

BAND_ZH = {
    "night": "夜间",
    "morning_peak": "早高峰",
    "daytime": "白天",
    "evening_peak": "晚高峰",
    "evening": "晚间",
}
COVERED_COLOUR = "#1a9641"
UNCOVERED_COLOUR = "#d7191c"
RING_COLOUR = "#5e3c99"
STATION_COLOUR = "#2b83ba"
MARGIN_DEG = 0.02  # the map shows this much beyond the network's nodes
MAX_WIDTH_PT = 2.2  # the edge with the densest demand is drawn this wide


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def draw_coverage_map(
    geo: Geo,
    *,
    covered: npt.NDArray[np.bool_],
    demand: npt.NDArray[np.float64],
    stations: Sequence[Snap],
    road: Coverage,
    calls: Coverage,
    path: Path,
) -> Path:
    """Write the map of one band's coverage to ``path`` (PNG).

    ``covered`` and ``demand`` are per edge; ``road`` and ``calls`` the band's road and
    demand coverage, quoted in the title.
    """
    net = geo.network
    band = road.band
    hours = next(b for b in geo.speeds.bands if b.name == band)
    font = cjk_font()
    with mpl.rc_context({"font.family": "sans-serif", "font.sans-serif": [font, "DejaVu Sans"]}):
        fig = Figure(figsize=(10, 10), dpi=110)
        ax = fig.add_subplot()
        lon0, lat0, lon1, lat1 = net.bbox()
        ax.set_aspect(1.0 / math.cos(math.radians((lat0 + lat1) / 2)))
        density = demand / np.maximum(net.length_m, 1.0)
        width = 0.25 + MAX_WIDTH_PT * np.sqrt(density / density.max())
        order = np.argsort(width)  # the busy roads on top
        segments = [np.array(net.edge_coords(int(e))) for e in order]
        colours = np.where(covered[order], COVERED_COLOUR, UNCOVERED_COLOUR)
        ax.add_collection(LineCollection(segments, colors=colours, linewidths=width[order]))
        west, south, east, north = (
            lon0 - MARGIN_DEG,
            lat0 - MARGIN_DEG,
            lon1 + MARGIN_DEG,
            lat1 + MARGIN_DEG,
        )
        for ring in geo.zones.rings.values():
            x, y = (np.asarray(v) for v in ring.polygon.exterior.xy)
            ax.plot(x, y, color=RING_COLOUR, linewidth=1.3, linestyle="--", zorder=4)
            shown = np.flatnonzero((west < x) & (x < east) & (south < y) & (y < north))
            if len(shown):  # labelled at its northernmost point on the map
                top = int(shown[np.argmax(y[shown])])
                ax.annotate(
                    ring.name_zh or ring.name_en,
                    (x[top], y[top]),
                    fontsize=8,
                    color=RING_COLOUR,
                    ha="center",
                    va="center",
                    zorder=6,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
                )
        ax.scatter(
            [s.lon for s in stations],
            [s.lat for s in stations],
            marker="^",
            s=70,
            color=STATION_COLOUR,
            edgecolors="white",
            linewidths=0.8,
            zorder=5,
        )
        ax.set_xlim(west, east)
        ax.set_ylim(south, north)
        ax.set_xlabel("经度 longitude (°E)")
        ax.set_ylabel("纬度 latitude (°N)")
        minutes = road.budget_s / 60.0
        ax.set_title(
            f"覆盖 Coverage — {BAND_ZH.get(band, band)} {band} "
            f"({_clock(hours.start_min)}–{_clock(hours.end_min)})\n"
            f"{minutes:.0f} 分钟内 within {minutes:.0f} min: 呼叫需求 calls "
            f"{calls.share:.1%} · 道路 road km {road.share:.1%} · "
            f"{len(stations)} 站点 stations",
            fontsize=12,
        )
        ax.legend(
            handles=[
                Line2D([], [], color=COVERED_COLOUR, lw=2, label="已覆盖 covered"),
                Line2D([], [], color=UNCOVERED_COLOUR, lw=2, label="未覆盖 not covered"),
                Line2D([], [], color=RING_COLOUR, lw=1.3, ls="--", label="环路 ring roads"),
                Line2D([], [], color=STATION_COLOUR, marker="^", lw=0, ms=8, label="站点 stations"),
            ],
            loc="upper center",
            bbox_to_anchor=(0.5, -0.07),
            ncol=4,
            title="线宽 = 每公里呼叫 width = calls per km",
            fontsize=9,
            title_fontsize=9,
        )
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    return path
