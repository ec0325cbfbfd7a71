"""A record of loads with a byte that is not UTF-8 in one line still holds its other loads (loads.entries_in): before,
the whole record of the user's cache stopped the load with a UnicodeDecodeError, and one beside the files read as
nothing, so a second load of a file on record there was not refused."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import spawn_sandbox, write_entries
from test_ledger_made_without_room import LIMIT, limited

from bulkload.loads import entries_in


def test_a_damaged_byte_spoils_its_own_line_only(tmp_path: Path) -> None:
    record = tmp_path / "loads.jsonl"
    record.write_bytes(b'{"run": "a", "sha256": "11"}\n{"run": "b\xff", "sha256": "22"}\ncut {\n{"run": "c"}\n[1]\n')
    runs = [entry["run"] for entry in entries_in(record)]
    assert runs == ["a", "b\ufffd", "c"], runs


def test_a_record_not_there_holds_nothing(tmp_path: Path) -> None:
    assert list(entries_in(tmp_path / "none.jsonl")) == []


def test_a_load_after_one_whose_entry_a_full_disk_cut_short_is_on_record_whole(tmp_path: Path) -> None:
    """Tester t74c: a load whose entry in the record of loads met a full disk (here `ulimit -f`) left its line cut
    short, with no end; the next load's first entry was joined to it, and read as nothing. Each append begins on a
    line of its own now, in the user's cache and beside the files."""
    record = Path(os.environ["XDG_CACHE_HOME"]) / "bulkload" / "loads.jsonl"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text("\n" * LIMIT)  # room for the first ~100 bytes of an entry, no more
    write_entries(tmp_path / "a.csv", 5)
    write_entries(tmp_path / "b.csv", 5, first_voucher=100)
    sandbox = spawn_sandbox()
    try:
        cut = limited(tmp_path, "load", "economic", "a.csv", "--base-url", sandbox.url, "-q", limit=LIMIT + 100)
        assert cut.returncode == 4 and "cannot write bulkload's cache" in cut.stderr, cut.stderr
        assert not record.read_text().endswith("\n")  # its entry cut short
        loaded = limited(tmp_path, "load", "economic", "b.csv", "--base-url", sandbox.url, "-q", limit=None)
        assert loaded.returncode == 0, loaded.stderr
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
    b = str(tmp_path / "b.csv.ledger.sqlite")
    written = sum(line.count(f'"ledger":"{b}"') for line in record.read_text().splitlines())
    read = [entry for entry in entries_in(record) if entry.get("ledger") == b]
    assert written >= 2 and len(read) == written, (written, read)
