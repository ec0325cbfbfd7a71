"""What the planning child pays for HaloPSA: it makes a target of its own for every plan, between the plan's spec
and its first chunk (which the run's first upload waits for, and a rolling window replays at the run's end), and
never fetches a token: making it imports nothing for the token's lock (anyio's synchronization, 4-6 ms of CPU)."""

from __future__ import annotations

import subprocess
import sys

#: as the planning child does (planning._CHILD, then planning.messages): import planning, make the target
CHILD_MAKES_ITS_TARGET = """
import sys
from bulkload.planning import child
from bulkload.targets import TARGETS
before = set(sys.modules)
TARGETS["halopsa"].from_options({"resources": ["XeroDetails", "QuickBooksDetails", "AvalaraDetails"]})
print(" ".join(sorted(m for m in set(sys.modules) - before if m.startswith("anyio"))) or "-")
"""


def test_the_planning_child_makes_its_halopsa_target_without_importing_a_lock() -> None:
    out = subprocess.run([sys.executable, "-c", CHILD_MAKES_ITS_TARGET], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["-"], out.stdout
