"""DOS programs end a text file with Ctrl-Z (0x1A), its end-of-file mark. Written right after the last cell (no line
end before it), bulkload read it into that cell: a HaloPSA record was created named `y\\x1a`, exit 0. After a final
line end it was read as a row of its own, refused as one cell 'holding 2 values separated by \\x1a' with the advice
to replace the header's ',' by '\\x1a'. A cp850 export (the DOS code page) ending so was told no code page to give.
A JSONL file ending so had a rejected row for it (exit 1). The mark, as the file's last byte, is passed over; anywhere
else it is a character of the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_load_halopsa import ENV, job, records

from bulkload import load
from bulkload.code_pages import reading_as_text
from bulkload.sandbox import SandboxOptions, running
from bulkload.sources import Source


def rows(path: Path, data: bytes) -> list[object]:
    path.write_bytes(data)
    return list(Source(path))


@pytest.mark.parametrize("end", [b"", b"\r\n"])
def test_the_mark_as_the_last_byte_is_no_character_of_the_last_cell(tmp_path: Path, end: bytes) -> None:
    got = rows(tmp_path / "dos.csv", b"name,tenant_name\r\nA,x\r\nB,y" + end + b"\x1a")
    assert got == [(2, {"name": "A", "tenant_name": "x"}), (3, {"name": "B", "tenant_name": "y"})]


def test_the_mark_anywhere_else_is_the_file_s_character(tmp_path: Path) -> None:
    got = rows(tmp_path / "mid.csv", b"name,tenant_name\nA,x\x1a\nB,y\n")
    assert got == [(2, {"name": "A", "tenant_name": "x\x1a"}), (3, {"name": "B", "tenant_name": "y"})]


def test_a_dos_code_page_file_ending_with_the_mark_reads_as_text_in_it() -> None:
    data = "name,tenant_name\r\nKørsel Århus,Müller Straße\r\n".encode("cp850") + b"\x1a"
    assert "cp850" in reading_as_text(data)


@pytest.mark.slow
async def test_a_record_is_created_with_the_text_the_file_meant(tmp_path: Path) -> None:
    data = tmp_path / "dos.csv"
    data.write_bytes(b"name,tenant_name\r\nA,x\r\nB,y\x1a")
    async with running("halopsa", SandboxOptions(window_limit=0)) as url:
        report = await load(job(tmp_path, data, url), env=ENV)
        held = await records(url)
    assert (report.loaded, report.exit_code) == (2, 0), report
    assert sorted((r["name"], r["tenant_name"]) for r in held) == [("A", "x"), ("B", "y")], held


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("end", [b"", b"\r\n"])
def test_a_jsonl_file_ending_with_the_mark_has_no_line_of_it(tmp_path: Path, end: bytes, encoding: str) -> None:
    # before, the mark was a rejected row (exit 1): 'trailing characters (byte 34)', or a line of its own
    text = b'{"name":"A","tenant_name":"x"}\r\n{"name":"B","tenant_name":"y"}' + end + b"\x1a"
    got = rows(tmp_path / "dos.jsonl", text.decode().encode(encoding))
    assert got == [(1, {"name": "A", "tenant_name": "x"}), (2, {"name": "B", "tenant_name": "y"})]


def test_a_last_line_ended_by_the_mark_is_not_warned_of_as_cut_short(tmp_path: Path) -> None:
    """The mark says the file is whole (t54a): no "has no line end … if the file was cut short" warning for the line
    before it; a last line with neither a line end nor the mark still has it."""
    marked, cut = tmp_path / "dos.csv", tmp_path / "cut.csv"
    marked.write_bytes(b"name,tenant_name\r\nA,x\r\nB,y\x1a")
    cut.write_bytes(b"name,tenant_name\r\nA,x\r\nB,y")
    for path, without_end in ((marked, 0), (cut, 3)):
        source = Source(path)
        assert len(list(source)) == 2
        assert source.last_line_without_end == without_end, path
