"""A record of loads with a byte that is not UTF-8 in one line still holds its other loads (loads.entries_in): before,
the whole record of the user's cache stopped the load with a UnicodeDecodeError, and one beside the files read as
nothing, so a second load of a file on record there was not refused."""

from __future__ import annotations

from pathlib import Path

from bulkload.loads import entries_in


def test_a_damaged_byte_spoils_its_own_line_only(tmp_path: Path) -> None:
    record = tmp_path / "loads.jsonl"
    record.write_bytes(b'{"run": "a", "sha256": "11"}\n{"run": "b\xff", "sha256": "22"}\ncut {\n{"run": "c"}\n[1]\n')
    runs = [entry["run"] for entry in entries_in(record)]
    assert runs == ["a", "b\ufffd", "c"], runs


def test_a_record_not_there_holds_nothing(tmp_path: Path) -> None:
    assert list(entries_in(tmp_path / "none.jsonl")) == []
