"""A rejects file is read once a load for the inputs its records name (origins.named_inputs), not three times: the
run's options, how its input was read and which run rejected its rows each asked, and each read of a rejects file
naming one input went through all of it (1.8 s of a 60,000-row rejects file under the profiler). What is named is
as before: the first inputs named, in the order first named."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bulkload import origins
from bulkload.sources import REJECTS_COLUMNS, Source


def rejects_file(path: Path, names: list[str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([*REJECTS_COLUMNS, "voucherNumber", "amount"])
        for line, name in enumerate(names, start=2):
            w.writerow([name, line, "amount", "not a number", line, "x"])
    return path


@pytest.mark.parametrize("names", [["a.csv"] * 50, ["a.csv", "b.csv", "a.csv", "", "c.csv"]])
def test_a_rejects_file_is_read_once_for_the_inputs_it_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, names: list[str]
) -> None:
    path = rejects_file(tmp_path / "r.csv", names)
    first = list(dict.fromkeys(names))
    reads: list[str] = []
    cells = Source.cells

    def counted(self: Source, *args: Any) -> Iterator[Any]:
        reads.append(str(self.path))
        return cells(self, *args)

    monkeypatch.setattr(Source, "cells", counted)
    source = Source(path)
    assert source.rejects_file
    said = (origins.named_inputs(source), origins.named_input(source), origins.named_inputs(source, 2))
    assert said == (first, first[0] if len(first) == 1 else None, first[:2]), said
    assert reads == [str(path)], reads
    # another Source of the file reads it again (a run's own)
    assert origins.named_inputs(Source(path)) == first and len(reads) == 2, reads
