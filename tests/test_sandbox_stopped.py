"""`bulkload sandbox` ends with Ctrl-C, as the docs say it runs until then: exit 0 and a line saying it stopped.
Found by a tester: it ended "bulkload: interrupted (Ctrl-C); nothing to resume", exit 4 (a run that could not
finish), which a script ending its sandbox took for a failure. On 127.0.0.1, a port the system gives."""

from __future__ import annotations

import signal

from conftest import spawn_sandbox


def test_a_sandbox_stopped_with_ctrl_c_exits_0_saying_so() -> None:
    sandbox = spawn_sandbox()
    try:
        sandbox.proc.send_signal(signal.SIGINT)
        _, stderr = sandbox.proc.communicate(timeout=30)
    finally:
        sandbox.proc.kill()
    assert sandbox.proc.returncode == 0, stderr
    assert "sandbox economic stopped (Ctrl-C)" in stderr and "resume" not in stderr, stderr
