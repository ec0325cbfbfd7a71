"""Scenario 10: with latency, the whole command against the hand-written loop and against its own load.

Issue 15's goals where a round trip takes time (the sandbox's `--latency-ms`, no rate limit): with 50 ms latency
the whole command (load and reconciliation) within 0.8 × the hand-written loop's wall (`benchmarks.naive_loop`,
which never reconciles), and with 100 ms latency the whole command within 1.15 × the load alone (start to the
last upload of the same run: the reconciliation walks behind the load, see bulkload/walks.py). Each side is a
whole command (process start included), against a fresh sandbox, the sides taking turns; the best of
`Scale.repeats` counts. bulkload runs with its defaults (concurrency 8, as the loop's semaphore), and again with
`--concurrency 16` and 32: at equal concurrency both wait out the same round trips, and 0.8 × the loop is below
that floor (its calls ÷ 8 × the round trip); with more calls in flight the round trips shrink until the CPU of
two cores binds, which the CPU column shows (the bulkload command's processes, in seconds of CPU).
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.common import best, data_file, sandbox
from benchmarks.scenarios import Scale, Scenario, comparator, load_economic

LOOP_GOAL, BEHIND_GOAL = 0.8, 1.15

#: the sides of each latency, taking turns: bulkload at its default concurrency (8), at 16 and 32, and the loop
SIDES = ("default", "c16", "c32", "loop")


def with_latency(scale: Scale, workdir: Path, tree: Path | None) -> Scenario:
    path = data_file("economic", scale.latency_rows)
    sc = Scenario(
        f"10. With latency — {scale.latency_rows:,} rows, no rate limit: the whole command against the "
        "hand-written loop, and against its own load",
        ["latency", "side", "whole command", "until the last upload", "whole ÷ loop", "whole ÷ its load", "CPU"],
    )
    for latency in ("50", "100"):
        flags = ("--latency-ms", latency)
        sides: dict[str, list[dict[str, float]]] = {side: [] for side in SIDES}
        for i in range(scale.repeats):
            for side in SIDES[i % len(SIDES) :] + SIDES[: i % len(SIDES)]:
                with sandbox("economic", *flags) as box:
                    if side == "loop":
                        sides[side].append(comparator("naive_loop", path, box.url))
                        continue
                    extra = ("--concurrency", side[1:]) if side != "default" else ()
                    r = load_economic(workdir / f"lat{latency}-{side}-{i}", "load", path, box, *extra, tree=tree)
                if not r["reconcile"]["ok"]:
                    raise RuntimeError(f"reconciliation failed at {latency} ms: {r['reconcile']}")
                sides[side].append(
                    {"wall_s": r["wall_s"], "until_loaded_s": r["wall_s"] - r["reconcile_s"], "cpu_s": r["cpu_s"]}
                )
        loop = best(sides["loop"])["wall_s"]
        for side in SIDES[:-1]:
            b = best(sides[side])
            whole, loaded = b["wall_s"], b["until_loaded_s"]
            label = "bulkload load (concurrency 8)" if side == "default" else f"bulkload load --concurrency {side[1:]}"
            sc.rows.append(
                [
                    f"{latency} ms",
                    label,
                    f"{whole:.2f} s",
                    f"{loaded:.2f} s",
                    f"{whole / loop:.2f}",
                    f"{whole / loaded:.2f}",
                    f"{b['cpu_s']:.1f} s",
                ]
            )
            if side == "default":
                sc.key[f"{latency} ms: whole ÷ loop"] = whole / loop
                sc.key[f"{latency} ms: whole ÷ its load"] = whole / loaded
        sc.rows.append([f"{latency} ms", "hand-written loop (semaphore 8)", f"{loop:.2f} s", "", "1.00", "", ""])
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
