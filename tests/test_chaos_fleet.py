"""The queue's chaos trial (issue 16 item 5; benchmarks/chaos_fleet.py): three worker processes, 30 agreements of
200 rows in a multi-agreement e-conomic sandbox with faults (5xx, dropped answers of committed writes, slow answers)
and a rolling window and daily quota per agreement, one worker SIGKILLed at a random moment while it runs a job.
Judged by the sandbox alone: every good row exactly once in every agreement, under one run's keys, every job
finished, no call refused for a window, a quota or a rate. Bounded by its calls, and by standing still for
chaos_fleet.TRIAL_S (90 s)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from benchmarks import chaos_fleet


@pytest.mark.slow
def test_three_workers_thirty_agreements_one_killed(tmp_path: Path, postgres_url: str) -> None:
    seed = random.randrange(10_000)
    outcome = chaos_fleet.trial(postgres_url, tmp_path, agreements=30, rows=200, workers=3, seed=seed)
    assert outcome.killed, f"seed {seed}: {outcome}"
    assert outcome.ok, f"seed {seed} (python -m benchmarks.chaos_fleet --seed {seed}): {outcome}"
