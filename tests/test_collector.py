"""The `bulkload` command sets Python's collector for a long run (collector.py): what is alive when bulkload is
imported is frozen, and the youngest generation is collected every YOUNG_THRESHOLD allocations, not 700."""

from __future__ import annotations

import subprocess
import sys

from bulkload.collector import YOUNG_THRESHOLD


def test_the_command_runs_with_the_collector_set_for_a_long_run() -> None:
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print(gc.get_threshold()[0], gc.get_freeze_count() > 1000))\n"
        "sys.argv = ['bulkload', '--version']\n"
        "from bulkload.__main__ import entry\n"
        "sys.exit(entry())"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split()[-2:] == [str(YOUNG_THRESHOLD), "True"], out.stdout
