"""Chaos in small: two seeded trials per target (random faults, kill -9, resume until done), checked
against the sandbox's own record: no row lost, none created twice; and two rollback trials per target that can
delete (kill -9 with calls in flight, rollback): nothing left behind. See benchmarks/chaos.py."""

from __future__ import annotations

import pytest

from benchmarks.chaos import ROLLBACK, TARGETS, Result, run_chaos, table

SEED = 4242  # its plans mix kill modes: none, as the ledger file appears, mid-run


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> list[Result]:
    # small inputs, the four targets side by side; each trial is bounded in time (40 s, a trial over it is not ok)
    # and in requests by the harness: no bound on the whole, which only a machine's speed would decide
    return run_chaos(
        list(TARGETS),
        trials=2,
        seed=SEED,
        scale=0.25,
        jobs=len(TARGETS),
        time_limit=40,
        keep_dir=tmp_path_factory.mktemp("chaos-failures"),
    )


def summary(results: list[Result]) -> str:
    return table(results) + "".join(
        f"\n{r.target} seed {r.seed}: lost {r.lost}, doubled {r.doubled}, {r.problems} ({r.plan}; files {r.kept})"
        for r in results
        if not r.ok
    )


@pytest.mark.slow
def test_chaos_trials_lose_and_double_nothing(results: list[Result]) -> None:
    trials = results
    assert len(trials) == 2 * len(TARGETS)
    assert sum(r.lost for r in trials) == 0, summary(trials)
    assert sum(r.doubled for r in trials) == 0, summary(trials)


@pytest.mark.slow
def test_chaos_trials_finish_cleanly(results: list[Result]) -> None:
    trials = results
    assert all(r.ok for r in trials), summary(trials)


@pytest.mark.slow
def test_rollback_trials_leave_nothing_behind(tmp_path_factory: pytest.TempPathFactory) -> None:
    trials = run_chaos(
        list(ROLLBACK),
        trials=2,
        seed=SEED,
        scale=0.25,
        jobs=len(ROLLBACK),
        time_limit=40,
        keep_dir=tmp_path_factory.mktemp("rollback-failures"),
    )
    assert len(trials) == 2 * len(ROLLBACK)
    assert sum(r.left for r in trials) == 0, summary(trials)
    assert all(r.ok for r in trials), summary(trials)
