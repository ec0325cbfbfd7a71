"""Scenario 10: with latency, the whole command against the hand-written loop and against its own load.

Issue 15's goals where a round trip takes time (the sandbox's `--latency-ms`, no rate limit): with 50 ms latency
the whole command (load and reconciliation) within 0.8 × the hand-written loop's wall (`benchmarks.naive_loop`,
which never reconciles), and with 100 ms latency the whole command within 1.15 × the load alone (start to the
last upload of the same run: the reconciliation walks behind the load, see bulkload/walks.py). Each side is a
whole command (process start included), against a fresh sandbox, the sides taking turns; the best of
`Scale.repeats` counts. bulkload runs with its defaults (concurrency 8, as the loop's semaphore), and once more
with `--concurrency 16`: at equal concurrency both wait out the same round trips, and 0.8 × the loop is below
that floor (its calls ÷ 8 × the round trip).
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.common import best, data_file, sandbox
from benchmarks.scenarios import Scale, Scenario, comparator, load_economic

LOOP_GOAL, BEHIND_GOAL = 0.8, 1.15


def with_latency(scale: Scale, workdir: Path, tree: Path | None) -> Scenario:
    path = data_file("economic", scale.latency_rows)
    sc = Scenario(
        f"10. With latency — {scale.latency_rows:,} rows, no rate limit: the whole command against the "
        "hand-written loop, and against its own load",
        ["latency", "side", "whole command", "until the last upload", "whole ÷ loop", "whole ÷ its load"],
    )
    for latency in ("50", "100"):
        flags = ("--latency-ms", latency)
        sides: dict[str, list[dict[str, float]]] = {"default": [], "c16": [], "loop": []}
        for i in range(scale.repeats):
            for side in ("default", "c16", "loop")[i % 3 :] + ("default", "c16", "loop")[: i % 3]:
                with sandbox("economic", *flags) as box:
                    if side == "loop":
                        sides[side].append(comparator("naive_loop", path, box.url))
                        continue
                    extra = ("--concurrency", "16") if side == "c16" else ()
                    r = load_economic(workdir / f"lat{latency}-{side}-{i}", "load", path, box, *extra, tree=tree)
                if not r["reconcile"]["ok"]:
                    raise RuntimeError(f"reconciliation failed at {latency} ms: {r['reconcile']}")
                sides[side].append({"wall_s": r["wall_s"], "until_loaded_s": r["wall_s"] - r["reconcile_s"]})
        loop = best(sides["loop"])["wall_s"]
        for side, label in (("default", "bulkload load (concurrency 8)"), ("c16", "bulkload load --concurrency 16")):
            b = best(sides[side])
            whole, loaded = b["wall_s"], b["until_loaded_s"]
            sc.rows.append(
                [
                    f"{latency} ms",
                    label,
                    f"{whole:.2f} s",
                    f"{loaded:.2f} s",
                    f"{whole / loop:.2f}",
                    f"{whole / loaded:.2f}",
                ]
            )
            if side == "default":
                sc.key[f"{latency} ms: whole ÷ loop"] = whole / loop
                sc.key[f"{latency} ms: whole ÷ its load"] = whole / loaded
        sc.rows.append([f"{latency} ms", "hand-written loop (semaphore 8)", f"{loop:.2f} s", "", "1.00", ""])
    k = sc.key
    sc.goals += [
        (
            f"50 ms: whole command ≤ {LOOP_GOAL} × the loop (measured {k['50 ms: whole ÷ loop']:.2f}× at its "
            "default concurrency)",
            k["50 ms: whole ÷ loop"] <= LOOP_GOAL,
        ),
        (
            f"100 ms: whole command ≤ {BEHIND_GOAL} × its load alone (measured {k['100 ms: whole ÷ its load']:.2f}×)",
            k["100 ms: whole ÷ its load"] <= BEHIND_GOAL,
        ),
    ]
    sc.notes.append(
        f"best of {scale.repeats} per side, the sides taking turns, each against a fresh sandbox in its own process; "
        "'until the last upload' is the same run's wall less its reconciliation (what is left of it after the last "
        "upload)"
    )
    return sc
