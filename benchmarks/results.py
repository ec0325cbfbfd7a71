"""Writing a suite run down: one Markdown file with every scenario's table and goals, a JSON file with the raw
figures, and a PNG chart (when matplotlib, the `bench` extra, is installed)."""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.scenarios import Scenario

MARK = {True: "met", False: "**not met**", None: "not measured"}


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    numeric = [i > 0 and all(_numeric(r[i]) for r in rows) for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _numeric(cell: str) -> bool:
    return bool(cell) and (cell[0].isdigit() or cell[0] == "−")


def markdown(
    command: str, scenarios: Sequence[Scenario], before: dict[str, dict[str, float]] | None, seconds: float
) -> str:
    out = [
        f"# bulkload benchmarks\n\nMade by `{command}` in {seconds / 60:.1f} min on {platform.machine()}, "
        f"Python {platform.python_version()}, {_cpus()} CPUs. Every figure below comes from this one run.\n"
    ]
    out += ["| scenario | goal | |", "|---|---|---|"]
    for sc in scenarios:
        out += [f"| {sc.title.split(' — ')[0]} | {goal} | {MARK[met]} |" for goal, met in sc.goals]
    for sc in scenarios:
        out += ["", f"## {sc.title}", "", *table(sc.header, sc.rows)]
        out += [""] + [f"- {note}" for note in sc.notes] if sc.notes else []
    if before:
        out += ["", "## Before → after, measured side by side in this run", ""]
        rows = []
        for name, figures in before.items():
            after = next((sc.key[name] for sc in scenarios if name in sc.key), None)
            if after is None:
                continue
            rows.append(
                [
                    name,
                    f"{figures['before']:,.1f}",
                    f"{after:,.1f}",
                    f"{after / figures['before']:.2f}" if figures["before"] else "–",
                ]
            )
        out += table(["figure", "before", "after", "after / before"], rows)
    return "\n".join(out) + "\n"


def _cpus() -> str:
    import os

    return str(os.cpu_count())


def chart(scenarios: Sequence[Scenario], path: Path) -> bool:
    """The PNG: throughput side by side, memory by size, and scaling against its two bounds."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    by = {sc.title.split(".")[0]: sc.chart for sc in scenarios if sc.chart}
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    bars: dict[str, float] = {}
    if "1" in by:
        bars["read + validate"] = by["1"]["ceiling"]
        bars["bulkload\n(whole command)"] = by["1"]["bulkload"]
    if "2" in by:
        bars["hand-written\nloop"] = by["2"]["loop"]
    if "3" in by and "dlt" in by["3"]:
        bars["dlt"] = by["3"]["dlt"]
    ax = axes[0]
    ax.bar(list(bars), list(bars.values()), color=["#999", "#2a7", "#c84", "#58c"][: len(bars)])
    ax.set_title("e-conomic rows/s, no latency")
    ax.set_ylabel("rows/s")
    ax = axes[1]
    if "5" in by:
        for fmt in ("csv", "jsonl.gz"):
            ax.plot(by["5"]["rows"], by["5"][fmt], marker="o", label=fmt)
        ax.axhline(150, color="red", linestyle="--", label="150 MB goal")
        ax.set_xscale("log")
        ax.set_ylim(0, 170)
        ax.legend()
    ax.set_title("peak RSS (loader + planner) by rows")
    ax.set_ylabel("MB")
    ax = axes[2]
    if "7" in by:
        s = by["7"]
        ax.plot(s["levels"], s["rows_s"], marker="o", label="bulkload")
        ax.plot(
            s["levels"],
            [c / s["latency_s"] * 500 for c in s["levels"]],
            linestyle=":",
            label="latency bound (c ÷ 50 ms × 500)",
        )
        ax.axhline(s["limit"], color="red", linestyle="--", label="API limit (100 req/s × 500)")
        ax.set_xscale("log", base=2)
        ax.set_xticks(s["levels"], [str(c) for c in s["levels"]])
        ax.set_ylim(0, s["limit"] * 1.3)
        ax.legend()
    ax.set_title("rows/s by concurrency, 50 ms latency")
    ax.set_xlabel("concurrency")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write(
    outdir: Path,
    command: str,
    scenarios: Sequence[Scenario],
    before: dict[str, dict[str, float]] | None,
    seconds: float,
) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    md = outdir / "results.md"
    md.write_text(markdown(command, scenarios, before, seconds))
    raw = outdir / "results.json"
    payload: dict[str, Any] = {
        "command": command,
        "python": sys.version,
        "seconds": seconds,
        "scenarios": [sc.__dict__ for sc in scenarios],
        "before": before,
    }
    raw.write_text(json.dumps(payload, indent=1, default=str))
    written = [md, raw]
    if chart(scenarios, outdir / "results.png"):
        written.append(outdir / "results.png")
    return written
