"""Two credentials registered at once in two threads are both masked. DESIGN: secrets never in logs/reports/ledger/
rejects.

- Found by tester t61c: 0598191 made register() work out the new set of credentials outside the lock and then
  replace it; of two made at once (a fleet resolves a job's credentials in a worker thread while the event loop
  registers a HaloPSA access token), the one set last lost the other's credential, which was then shown.
  bulkload/redact.py (`register`): the set is changed under the lock, as before 0598191."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from bulkload import redact

SECRET = "client-secret-Q7zXa9Kd2LmN4pR8"
TOKEN = "tok-" + "Zk3" * 14


class _Gate:
    """redact's lock, entered by two threads only once both have come to it (a Barrier, bounded): what each did
    before taking it, both did before either changed anything."""

    def __init__(self) -> None:
        self.real = threading.Lock()
        self.both = threading.Barrier(2, timeout=10)

    def __enter__(self) -> Any:
        if threading.current_thread() is not threading.main_thread():
            self.both.wait()
        return self.real.__enter__()

    def __exit__(self, *exc: object) -> Any:
        return self.real.__exit__(*exc)


def test_registrations_at_once_in_two_threads_are_both_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redact, "_lock", _Gate())
    threads = [threading.Thread(target=redact.register, args=(value,)) for value in (SECRET, TOKEN)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert redact.redact(f"{SECRET} {TOKEN}") == "*** ***"
