"""docs/performance.png: requests per second of every variant, coloured by family."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: write files only

import matplotlib.pyplot as plt

from bench.loadgen import CONNECTIONS, THREADS
from bench.report import Report
from bench.services import WORKERS
from bench.variants import ANCHOR_SIMPLEJWT

CHART_NAME = "performance.png"
FAMILY_COLOURS = {
    "portal": "#c0392b",
    "portal+redis": "#e67e22",
    "stock db": "#2c3e50",
    "stock cached_db": "#34495e",
    "stock signed_cookies": "#7f8c8d",
    ANCHOR_SIMPLEJWT: "#2980b9",
    "ceiling": "#27ae60",
}


def write_chart(report: Report, path: Path) -> None:
    ms = list(reversed(report.measurements))
    values = [m.best.per_second for m in ms]
    figure, axes = plt.subplots(figsize=(11, 0.42 * len(ms) + 1.6), dpi=110)
    bars = axes.barh(
        [m.target.label for m in ms],
        values,
        color=[FAMILY_COLOURS.get(m.target.family, "#999999") for m in ms],
    )
    for bar, m in zip(bars, ms, strict=True):
        axes.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            f" {m.best.per_second:.0f}  (p50 {m.best.p50_ms:.1f} ms)",
            va="center",
            fontsize=8,
        )
    axes.set_xlabel(
        f"requests/s, best of {len(ms[0].rounds)} rounds "
        f"(gunicorn {WORKERS} sync workers, wrk -t{THREADS} -c{CONNECTIONS} "
        f"-d{report.seconds_per_run}s, PostgreSQL)"
    )
    axes.set_xlim(0, max(values) * 1.3)
    axes.tick_params(axis="y", labelsize=8)
    axes.set_title("Signed-in requests per second: the portal against its peers")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
