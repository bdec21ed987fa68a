"""The HTML report of a simulated day: the policies side by side (Chinese, English beside).

A KPI table, charts (on-time rate by zone and by band, response times) and a map of the
late arrivals over the ring roads, drawn with matplotlib (no pyplot state) in an installed
CJK font and embedded as base64 PNGs, so the report is one file.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from geo.places import Geo
from optimizer.fonts import cjk_font
from optimizer.simulate.day import PolicyDay
from optimizer.simulate.kpis import RingBands

POLICY_LABELS = {
    "nearest_idle": "最近空闲车 nearest idle",
    "nearest": "最近车（现行）nearest (today)",
    "replan": "定期重排 replan",
    "coverage": "保持覆盖 keep coverage",
}
KPI_ROWS: tuple[tuple[str, str, Callable[[dict[str, Any]], str]], ...] = (
    ("呼叫", "Calls", lambda k: f"{k['calls']}"),
    ("已服务", "Served", lambda k: f"{k['served']}"),
    ("未服务", "Unserved", lambda k: f"{k['unserved']}"),
    ("准时率", "On-time rate", lambda k: _percent(k["on_time_rate"])),
    ("平均响应", "Mean response", lambda k: _minutes(k["response_s_mean"])),
    ("响应中位数", "Median response", lambda k: _minutes(k["response_s_p50"])),
    ("响应 90 分位", "90th percentile response", lambda k: _minutes(k["response_s_p90"])),
    (
        "维修车利用率",
        "Service truck utilisation",
        lambda k: _percent(k["utilisation_by_kind"].get("service")),
    ),
    (
        "清障车利用率",
        "Flatbed utilisation",
        lambda k: _percent(k["utilisation_by_kind"].get("flatbed")),
    ),
    ("拖车公里", "Tow km", lambda k: f"{k['tow_km']:,.1f}"),
    ("收入（元）", "Revenue (yuan)", lambda k: f"{k['revenue_yuan']:,.0f}"),
)
ZONE_LABELS_ZH = {
    "2nd": "二环内",
    "3rd": "三环内",
    "4th": "四环内",
    "5th": "五环内",
    "6th": "六环内",
}
BAND_LABELS_ZH = {
    "night": "夜间",
    "morning_peak": "早高峰",
    "daytime": "白天",
    "evening_peak": "晚高峰",
    "evening": "晚间",
}
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
STYLE = """
body { font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif; margin: 24px;
       color: #222; max-width: 1200px; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f0f3f7; }
.en { color: #666; font-size: 12px; }
img { max-width: 100%; border: 1px solid #eee; margin: 6px 0; }
"""


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{100.0 * share:.1f}%"


def _minutes(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds / 60.0:.1f} min"


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _grouped_bars(
    ax: Axes, days: Sequence[PolicyDay], key: str, labels: dict[str, str], title: str
) -> None:
    groups = list(dict.fromkeys(g for day in days for g in day.kpis[key]))
    width = 0.8 / len(days)
    x = np.arange(len(groups))
    for i, day in enumerate(days):
        rates = [100.0 * (day.kpis[key].get(g, {}).get("on_time_rate") or 0.0) for g in groups]
        ax.bar(x + i * width, rates, width, label=POLICY_LABELS[day.name], color=COLOURS[i])
    ax.set_xticks(x + 0.4 - width / 2, [labels.get(g, g) for g in groups], fontsize=8)
    ax.set_ylim(0, 118)  # room for the legend above the bars
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("准时率 On-time rate (%)")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)


def charts(days: Sequence[PolicyDay], zones: RingBands) -> str:
    """On-time rate by zone and by band, and the response times, as one PNG (base64)."""
    figure = Figure(figsize=(12, 8), layout="constrained")
    mosaic = figure.subplot_mosaic([["zone", "zone"], ["band", "response"]])
    by_zone, by_band, response = mosaic["zone"], mosaic["band"], mosaic["response"]
    zone_labels = {z: f"{zones.labels_zh[z]}\n{z}" for z in zones.names}
    _grouped_bars(by_zone, days, "by_zone", zone_labels, "按环路分区 By ring zone")
    bands = {b: f"{BAND_LABELS_ZH.get(b, '')}\n{b}" for d in days for b in d.kpis["by_band"]}
    _grouped_bars(by_band, days, "by_band", bands, "按时段 By time of day")
    by_zone.legend(loc="upper center", ncols=len(days), fontsize=8)
    for i, day in enumerate(days):
        minutes = np.sort([c.response_s / 60.0 for c in day.outcomes if c.response_s is not None])
        share = np.arange(1, minutes.size + 1) / max(1, minutes.size) * 100.0
        response.plot(minutes, share, label=POLICY_LABELS[day.name], color=COLOURS[i])
    promise_min = days[0].result.board.rules.promise_s / 60.0
    response.axvline(promise_min, color="#888", linestyle="--")
    response.annotate(
        f"承诺 promise {promise_min:.0f} min",
        (promise_min, 50),
        fontsize=8,
        xytext=(4, 0),
        textcoords="offset points",
    )
    response.set_xlabel("响应时间 Response (min)")
    response.set_ylabel("累计呼叫 Calls reached (%)")
    response.set_title("响应时间分布 Response times")
    response.grid(alpha=0.3)
    response.legend(loc="lower right", fontsize=8)
    return _png(figure)


def late_map(days: Sequence[PolicyDay], geo: Geo) -> str:
    """Late arrivals of each policy over the ring roads, as one PNG (base64)."""
    figure = Figure(figsize=(12, 12 if len(days) > 2 else 6), layout="constrained")
    columns = min(2, len(days))
    rows = (len(days) + columns - 1) // columns
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    rings = sorted(geo.zones.rings.values(), key=lambda ring: ring.polygon.area)
    for ax, day, colour in zip(axes, days, COLOURS, strict=False):
        for ring in rings:
            lon, lat = ring.polygon.exterior.xy
            ax.plot(lon, lat, color="#999", linewidth=0.8)
        late = [c.lonlat for c in day.outcomes if not c.on_time]
        if late:
            ax.scatter(*zip(*late, strict=True), s=14, color=colour, alpha=0.8)
        ax.set_title(f"{POLICY_LABELS[day.name]}: 迟到 late {len(late)}", fontsize=10)
        ax.set_aspect(1.0 / np.cos(np.radians(39.9)))
        ax.tick_params(labelsize=7)
    for ax in axes[len(days) :]:
        ax.set_visible(False)
    return _png(figure)


def kpi_table(days: Sequence[PolicyDay]) -> str:
    head = "".join(f"<th>{html.escape(POLICY_LABELS[day.name])}</th>" for day in days)
    rows = [f"<thead><tr><th>指标 <span class='en'>KPI</span></th>{head}</tr></thead>"]
    for zh, en, cell in KPI_ROWS:
        cells = "".join(f"<td>{html.escape(cell(day.kpis))}</td>" for day in days)
        rows.append(f"<tr><td>{zh} <span class='en'>{en}</span></td>{cells}</tr>")
    return "<table>" + "".join(rows) + "</table>"


def write_report(
    out_dir: Path, days: Sequence[PolicyDay], *, geo: Geo, summary: dict[str, Any]
) -> Path:
    """Write ``out_dir/report.html``; returns its path."""
    font = cjk_font()

    with rc_context({"font.family": [font], "axes.unicode_minus": False}):
        chart_png = charts(days, RingBands(geo.zones.rings.values()))
        map_png = late_map(days, geo)
    title = "救援调度模拟日 Simulated dispatch day"
    intro = (
        f"{summary['calls']} 个呼叫，{summary['start']} 起 {summary['hours']:g} 小时，"
        f"随机种子 {summary['seed']}；承诺 {summary['promise_s'] / 60:.0f} 分钟内到达。"
        f" <span class='en'>{summary['calls']} calls from {summary['start']} for "
        f"{summary['hours']:g} h, seed {summary['seed']}; the promise is arrival within "
        f"{summary['promise_s'] / 60:.0f} min of the call. Response = call to first truck "
        f"on scene.</span>"
    )
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<style>{STYLE}</style></head><body>
<h1>{title}</h1>
<p>{intro}</p>
<h2>指标对比 <span class="en">KPIs by policy</span></h2>
{kpi_table(days)}
<h2>准时率与响应时间 <span class="en">On-time rate and response times</span></h2>
<img alt="charts" src="data:image/png;base64,{chart_png}">
<h2>迟到呼叫地图 <span class="en">Map of late arrivals</span></h2>
<img alt="late arrivals" src="data:image/png;base64,{map_png}">
</body></html>
"""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
