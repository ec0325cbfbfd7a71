"""Property-based tests: hostile CSV and JSONL files through the real command (`bulkload load economic ...
--dry-run`), checked against an oracle built alongside each file.

The generators build a file from records whose fate is known when they are made: *ok* (would load), *bad*
(must be rejected, with its line), *blank* (not a row at all) or *either* (a row whose fate the generator does
not decide, such as a cut-off last row). Properties, for every generated file:

* `main` returns an exit code from {0, 1, 2, 4} and no traceback reaches stderr;
* a usable file gives a report with ``rows_read == would_load + rejected``, and ``rows_read`` is the number of
  non-blank records put in the file (records as the reader defines them: a CSV record may span lines inside
  quotes, a record whose cells are all empty or white space is blank unless it has more cells than the header,
  a file ending inside a quoted cell ends with one more record; a JSONL record is a line that is not empty or
  white space);
* every rejects-file line has a positive line number and a reason, the lines rejected are exactly the start
  lines of the *bad* records (plus any *either*), and `rejected` counts them;
* exit 0 exactly when nothing is rejected, 1 when something is, 2 for an unusable header or empty CSV, 4 for a
  truncated gzip: then ``rows_read`` is the number of records that end (terminator included) inside what zlib
  can decompress from the bytes left, and a CSV cut before its header ends gives no report.
"""

from __future__ import annotations

import bisect
import contextlib
import csv
import datetime
import gzip
import io
import json
import re
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import CREDS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkload.cli import main
from bulkload.targets.economic import Economic

REQUIRED = ["entryTypeNumber", "journalNumber", "voucherNumber", "date", "amount", "currency"]
OPTIONAL = sorted(Economic.fields - set(REQUIRED))
USED_OPTIONAL = ["accountNumber", "contraAccountNumber", "text", "vatCode", "dueDate", "customerInvoiceNumber"]
assert set(USED_OPTIONAL) <= Economic.fields
EXIT_CODES = {0, 1, 2, 4}
BOM = b"\xef\xbb\xbf"
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")

EXAMPLES = settings(
    max_examples=int(__import__("os").environ.get("HOSTILE_EXAMPLES", "2000")), deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- the oracle's records -----------------------------------------------------------------------------


@dataclass
class Rec:
    """One record of the file as written: its bytes' span in the (uncompressed) file and its fate."""

    start: int  # byte offset where it starts
    end: int  # byte offset after its terminator
    fate: str  # "ok", "bad", "blank", "either"
    terminator: bytes = b"\n"
    line: int = 0  # physical start line, filled in from the bytes


@dataclass
class Built:
    name: str
    data: bytes  # uncompressed content
    records: list[Rec] = field(default_factory=list)
    header_end: int = 0  # CSV: offset after the header line(s); JSONL: 0
    header_ok: bool = True  # CSV: the header is usable
    header_term: bytes = b"\n"
    fmt: str = "csv"


def _number_lines(b: Built) -> None:
    starts = [m.end() for m in _LINE_BREAK.finditer(b.data)]
    for rec in b.records:
        rec.line = bisect.bisect_right(starts, rec.start) + 1


# --- value strategies -----------------------------------------------------------------------------------

_days = st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date(2040, 12, 31))


@st.composite
def good_date(draw: st.DrawFn) -> str:
    d = draw(_days)
    form = draw(st.sampled_from(["iso", "dmy-", "dmy.", "dmy/", "dt"]))
    if form == "iso":
        return d.isoformat()
    if form == "dt":
        return d.isoformat() + draw(st.sampled_from(["T00:00:00", "T14:15:22Z", "T08:30:00+01:00"]))
    sep = form[-1]
    return f"{d.day:02d}{sep}{d.month:02d}{sep}{d.year:04d}"


BAD_DATES = ["2026/11/30", "20261130", "30 Nov 2026", "2026-02-30", "31-04-2026", "11/30/2026", "+1-11-2026",
             " 1-11-2026", "2026-W44-1", "30-11-26", "2026-11-30T25:00", "٣٠-١١-٢٠٢٦", "30.11.2026 ", "yesterday",
             "2026-11-3O", "3O-11-2026", "30-11-2_26", "0000-01-01", "\x0030-11-2026"]


@st.composite
def good_amount(draw: st.DrawFn) -> str:
    cents = draw(st.integers(-10**11, 10**11))
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return draw(st.sampled_from([f"{sign}{cents // 100}.{cents % 100:02d}", f"{sign}{cents // 100}"]))


BAD_AMOUNTS = ["1,234.50", "1.234,50", "1 234,50", "1'234.50", "12,5", "-0,01", "10\x00", "\x0010", "abc", "NaN",
               "inf", "-Infinity", "1_000", "١٠", "10 ", " 10", "10.00 DKK", "kr 10", "(10.00)", "10-", "1e400",
               "\ufeff10", "0x10"]
GOOD_INT = {"entryTypeNumber": ["2", "3", "4", "5", "10"], "journalNumber": ["1", "2", "3"]}
BAD_INT = {
    "entryTypeNumber": ["1", "6", "5.5", "x", "0x5", "5\x00", "٥", "99999999999999999999"],
    "journalNumber": ["0", "-1", "2147483648", "1.5", "one", "1,0"],
    "voucherNumber": ["0", "-3", "2147483648", "1 000", "v1"],
    "accountNumber": ["2147483648", "10 10", "1010a", "1.010,00"],
    "contraAccountNumber": ["-2147483649", "x"],
}
TEXT_PIECES = st.one_of(
    # NUL is left out: a value holding one is a bad row (see BAD_VALUES["text"])
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    # the delimiters, quotes and line breaks, a BOM, white space str.isspace() knows, and the
    # private-use characters the CSV reader's end-of-file marker is made of
    st.sampled_from(list('",;\t\r\n\ufeff\ue000\uf8ff\u2028\x85\x1c ') + ["\ue000\uf8ff\ue000", '\r\n"']),
)
hostile_text = st.lists(TEXT_PIECES, max_size=10).map("".join)
INVALID_UTF8 = [b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"caf\xe9", b"\xf8\x88\x80\x80\x80"]


def _good_value(draw: st.DrawFn, name: str, voucher: int) -> str:
    if name in GOOD_INT:
        return draw(st.sampled_from(GOOD_INT[name]))
    if name == "voucherNumber":
        return str(voucher)
    if name in ("date", "dueDate"):
        return draw(good_date())
    if name == "amount":
        return draw(good_amount())
    if name == "currency":
        return draw(st.sampled_from(["DKK", "EUR", "USD", "SEK"]))
    if name in ("accountNumber", "contraAccountNumber"):
        return draw(st.sampled_from(["1010", "5820", "", "-1", "2147483647"]))
    if name == "vatCode":
        return draw(st.sampled_from(["U25", "I25", ""]))
    return draw(hostile_text)  # text and other free-text fields: anything valid UTF-8 is fine


def _bad_value(draw: st.DrawFn, name: str) -> str:
    if name in ("date", "dueDate"):
        return draw(st.sampled_from(BAD_DATES))
    if name == "amount":
        return draw(st.sampled_from(BAD_AMOUNTS))
    if name == "currency":
        return ""  # empty means absent: a required field missing
    if name == "text":  # a NUL in a value: no accounting text holds one
        return draw(st.sampled_from(["\x00", "note\x00", "\x00note", "a\x00b"]))
    return draw(st.sampled_from(BAD_INT.get(name, BAD_INT["voucherNumber"])))


_CAN_BE_BAD = REQUIRED + ["accountNumber", "contraAccountNumber", "dueDate", "text"]


# --- CSV ------------------------------------------------------------------------------------------------


def _csv_cell(value: bytes, delim: bytes) -> bytes:
    if any(c in value for c in (delim, b'"', b"\r", b"\n")):
        return b'"' + value.replace(b'"', b'""') + b'"'
    return value


def _blank(cell: bytes) -> bool:
    v = cell.decode("utf-8", "surrogateescape")
    return not v or v.isspace()


@st.composite
def csv_file(draw: st.DrawFn, *, allow_bad_header: bool = True) -> Built:
    delim = draw(st.sampled_from([b",", b";", b"\t"]))
    drop_required = draw(st.sampled_from([None] * 8 + REQUIRED))
    columns = [c for c in REQUIRED if c != drop_required]
    columns += draw(st.lists(st.sampled_from(USED_OPTIONAL), unique=True, max_size=4))
    columns = draw(st.permutations(columns))
    header_kind = "ok"
    if allow_bad_header:
        header_kind = draw(st.sampled_from(["ok"] * 12 + ["dup", "unknown", "noname", "badutf8", "none", "empty"]))
    out = bytearray()
    b = Built("in.csv", b"")
    if draw(st.booleans()):
        out += BOM
    out += draw(st.sampled_from([b"", b"\n", b"\r\n  \n"]))  # blank lines before the header are skipped
    names = [c.encode() for c in columns]
    if header_kind == "dup":
        names.insert(draw(st.integers(0, len(names))), draw(st.sampled_from(names)))
    elif header_kind == "unknown":
        names.insert(draw(st.integers(0, len(names))), draw(st.sampled_from([b"Bilagsnr", b"amount2", b"Notes"])))
    elif header_kind == "noname":
        names.insert(draw(st.integers(1, len(names))), draw(st.sampled_from([b"", b" "])))
    elif header_kind == "badutf8":
        names[0] = names[0][:2] + draw(st.sampled_from(INVALID_UTF8)) + names[0][2:]
    nl = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    if header_kind == "empty":
        b.header_ok = False
        b.data = bytes(out)
        return b
    if header_kind != "none":
        out += delim.join(_csv_cell(n, delim) for n in names) + nl
    b.header_end = len(out)
    b.header_ok = header_kind == "ok"
    b.header_term = nl
    n_rows = draw(st.integers(0, 12))
    voucher = 0
    for i in range(n_rows):
        kinds = ["good"] * 6 + ["badvalue"] * 3 + ["utf8", "fewer", "more", "blank"]
        kind = draw(st.sampled_from(kinds + ([] if header_kind == "none" else ["again"])))
        if not (i and draw(st.integers(0, 4)) == 0):  # now and then a second line of the same voucher
            voucher += 1
        values = {c: _good_value(draw, c, voucher).encode() for c in columns}
        fate = "ok" if drop_required is None else "bad"
        if kind == "badvalue":
            victim = draw(st.sampled_from([c for c in columns if c in _CAN_BE_BAD]))
            values[victim] = _bad_value(draw, victim).encode()
            fate = "bad"
        cells = [values[c] for c in columns]
        if kind == "utf8":
            j = draw(st.integers(0, len(cells) - 1))
            cells[j] = cells[j] + draw(st.sampled_from(INVALID_UTF8))
            fate = "bad"
        elif kind == "fewer":
            keep = draw(st.integers(1, len(cells) - 1))
            if any(c in REQUIRED for c in columns[keep:]):
                fate = "bad"
            cells = cells[:keep]
        elif kind == "more":
            cells += draw(st.lists(st.sampled_from([b"", b"x", b"1", b" "]), min_size=1, max_size=3))
            fate = "bad"
        elif kind == "blank":
            cells = draw(st.sampled_from([[], [b""] * len(cells), [b" "], [b"\t", b""]]))
            fate = "blank"
        elif kind == "again":
            cells = list(names)  # the header once more, as a data row
            fate = "bad"
        if fate == "ok" and all(_blank(c) for c in cells):
            fate = "blank"
        if fate == "bad" and kind != "more" and all(_blank(c) for c in cells):
            fate = "blank"
        if fate == "ok" and any(c in REQUIRED and _blank(values[c]) for c in columns):
            fate = "bad"
        start = len(out)
        out += delim.join(_csv_cell(c, delim) for c in cells)
        term = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
        last = i == n_rows - 1
        if last and draw(st.booleans()):
            term = b""  # no line break after the last row: still a row
        out += term
        b.records.append(Rec(start, len(out), fate, term))
    if b.header_ok and draw(st.integers(0, 5)) == 0:
        # the file ends inside a quoted cell: one more record, rejected
        if out and not out.endswith((b"\n", b"\r")):
            out += b"\n"
            if b.records and b.records[-1].end == len(out) - 1:
                b.records[-1].terminator, b.records[-1].end = b"\n", len(out)
        start = len(out)
        out += delim.join([b"5", b"1", b"9"]) + delim + b'"' + draw(hostile_text).replace('"', "").encode()
        b.records.append(Rec(start, len(out), "bad", b""))
    b.data = bytes(out)
    # a blank line right after a record whose terminator is \r joins it as \r\n: no record of its own, so
    # only the non-blank records' start lines matter, numbered from the bytes as the reader counts them
    _number_lines(b)
    return b


# --- JSONL ----------------------------------------------------------------------------------------------


def _json_value(name: str, value: str, draw: st.DrawFn) -> Any:
    if name in ("entryTypeNumber", "journalNumber", "voucherNumber") and draw(st.booleans()):
        return int(value)
    if name == "amount" and draw(st.booleans()):
        return float(value)
    return value


@st.composite
def jsonl_file(draw: st.DrawFn) -> Built:
    b = Built("in.jsonl", b"", fmt="jsonl")
    out = bytearray()
    if draw(st.booleans()):
        out += BOM
    n_rows = draw(st.integers(0, 12))
    voucher = 0
    for i in range(n_rows):
        kind = draw(st.sampled_from(["good"] * 6 + ["badvalue"] * 2 + ["missing", "null", "type", "unknown",
                                                                        "invalid", "notobject", "utf8", "blank",
                                                                        "nested", "bom"]))
        if not (i and draw(st.integers(0, 4)) == 0):
            voucher += 1
        cols = REQUIRED + draw(st.lists(st.sampled_from(USED_OPTIONAL), unique=True, max_size=4))
        obj: dict[str, Any] = {}
        for c in cols:
            v = _good_value(draw, c, voucher)
            if v != "":
                obj[c] = _json_value(c, v, draw)
        fate = "ok"
        line: bytes
        if kind == "badvalue":
            victim = draw(st.sampled_from([c for c in cols if c in _CAN_BE_BAD]))
            obj[victim] = _bad_value(draw, victim)
            fate = "bad"
        elif kind == "missing":
            del obj[draw(st.sampled_from(REQUIRED))]
            fate = "bad"
        elif kind == "null":
            obj[draw(st.sampled_from(REQUIRED))] = None
            fate = "bad"
        elif kind == "type":
            victim = draw(st.sampled_from(REQUIRED))
            odd: list[Any] = [[1], {"a": 1}, True] + ([] if victim == "amount" else [1.5e300, 2**70])
            obj[victim] = draw(st.sampled_from(odd))
            fate = "bad"
        elif kind == "unknown":
            obj[draw(st.sampled_from(["Bilagsnr", "notes", ""]))] = draw(hostile_text)  # ignored: still ok
        line = json.dumps(obj, ensure_ascii=draw(st.booleans())).encode()
        if kind == "invalid":
            line = draw(st.sampled_from([line[: max(1, len(line) // 2)], line + b"}", line.replace(b'"', b"'"),
                                         line[:-1] + b',"t":"a\x00b"}', b"{", b"}", b"nul", b"{'a': 1}"]))
            fate = "bad"
        elif kind == "notobject":
            line = draw(st.sampled_from([b"[]", b"[1, 2]", b'"s"', b"1", b"null", b"true"]))
            fate = "bad"
        elif kind == "utf8":
            line = line[:-1] + b',"text":"' + draw(st.sampled_from(INVALID_UTF8)) + b'"}'
            fate = "bad"
        elif kind == "blank":
            line = draw(st.sampled_from([b"", b" ", b"\t", b"  \r"]))
            fate = "blank"
        elif kind == "nested":
            line = b'{"text":' * 3000 + b"1" + b"}" * 3000
            fate = "bad"
        elif kind == "bom" and out and out != BOM:
            line = BOM + line  # a BOM is only skipped at the very start of the file
            fate = "bad"
        start = len(out)
        out += line
        term = draw(st.sampled_from([b"\n", b"\r\n"]))
        if i == n_rows - 1 and draw(st.booleans()):
            term = b""
        out += term
        b.records.append(Rec(start, len(out), fate, term))
    b.data = bytes(out)
    starts = [m.end() for m in re.finditer(rb"\n", b.data)]
    for rec in b.records:
        rec.line = bisect.bisect_right(starts, rec.start) + 1
    return b


# --- running the command and checking ---------------------------------------------------------------------


@dataclass
class Outcome:
    code: int
    stderr: str
    report: dict[str, Any] | None
    rejects: list[list[str]] | None


def run_dry(path: Path) -> Outcome:
    work = path.parent
    report, rejects = work / "report.json", work / "rejects.csv"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["load", "economic", str(path), "--dry-run", "--no-progress", "--rejects", str(rejects),
                     "--report", str(report), "--base-url", "http://127.0.0.1:9"])
    rep = json.loads(report.read_text(encoding="utf-8")) if report.exists() else None
    rej = None
    if rejects.exists():
        # a rejected row's original is written whole (a 10 MB cell too); the limit is process-wide: put it back
        limit = csv.field_size_limit(1 << 30)
        try:
            with open(rejects, newline="", encoding="utf-8") as fh:
                rej = list(csv.reader(fh))[1:]
        finally:
            csv.field_size_limit(limit)
    return Outcome(code, err.getvalue() + out.getvalue(), rep, rej)


def gunzip_prefix(data: bytes) -> int:
    """How many bytes zlib can give back from a cut gzip stream (what the reader sees before the error)."""
    d = zlib.decompressobj(wbits=31)
    try:
        return len(d.decompress(data))
    except zlib.error:  # the cut fell inside the gzip header
        return 0


def arrived(rec: Rec, available: int, decodable: int) -> bool:
    """A record reaches the reader of a cut stream when its terminator does, and a lone CR is not the last
    character (the reader must see the next one to know it is not CR LF). `decodable`: where the last whole
    UTF-8 character before the cut ends; the reader decodes text, so the first byte of a character is no
    next character yet."""
    if not rec.terminator or rec.end > available:
        return False
    return not (rec.terminator == b"\r" and rec.end >= decodable)


def decodable_end(data: bytes, available: int) -> int:
    """Where the last whole UTF-8 character of data[:available] ends (an invalid byte counts as whole)."""
    for back in range(1, min(4, available) + 1):
        lead = data[available - back]
        if lead & 0xC0 != 0x80:  # ASCII or a lead byte: how long is its sequence?
            need = 2 if lead >> 5 == 0b110 else 3 if lead >> 4 == 0b1110 else 4 if lead >> 3 == 0b11110 else 1
            return available if need <= back else available - back
    return available


def check(b: Built, compress: bool, cut: float | None) -> None:
    data = b.data
    available = len(data)
    if compress:
        data = gzip.compress(data, mtime=0)
        if cut is not None:
            keep = 2 + int(cut * (len(data) - 3))  # at least the magic bytes, at least one byte short
            data = data[:keep]
            available = gunzip_prefix(data)
    truncated = compress and cut is not None
    decodable = decodable_end(b.data, available)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / b.name
        path.write_bytes(data)
        got = run_dry(path)
    assert got.code in EXIT_CODES, got
    assert "Traceback" not in got.stderr, got.stderr

    records = [r for r in b.records if r.fate != "blank"]
    if b.fmt == "csv":
        empty = not b.data.replace(BOM, b"", 1).strip()
        if (not b.header_ok or empty) and not truncated:
            assert got.code == 2 and got.report is None, (got, b)
            return
        if truncated and not arrived(Rec(0, b.header_end, "", b.header_term), available, decodable):
            # cut before the header ended: nothing can be read, the run stops before any row (no report)
            assert got.code == 4 and got.report is None, (got, b)
            return
    if truncated:
        # every row that arrived is still in the open chunk (a chunk closes at 500 rows): none is sent, each is
        # rejected, the good ones with "not sent: <why the input stops>"
        records = [r for r in records if arrived(r, available, decodable)]
        for r in records:
            if r.fate == "ok":
                r.fate = "unsent"
        assert got.code == 4, (got, b)
    rep, rej = got.report, got.rejects
    assert rep is not None and rej is not None, (got, b)
    assert rep["rows_read"] == rep["would_load"] + rep["rejected"], rep
    assert rep["rows_read"] == len(records), (rep, b)
    assert len(rej) == rep["rejected"]
    for row in rej:
        assert int(row[1]) > 0 and row[3].strip(), row
    lines = [int(row[1]) for row in rej]
    assert len(set(lines)) == len(lines), rej
    must = {r.line for r in records if r.fate in ("bad", "unsent")}
    may = must | {r.line for r in records if r.fate == "either"}
    assert must <= set(lines) <= may, (sorted(must), rej, b)
    unsent = {r.line for r in records if r.fate == "unsent"}
    assert all(row[3].startswith("not sent: ") for row in rej if int(row[1]) in unsent), rej
    if not truncated:
        assert got.code == (1 if rep["rejected"] else 0), (got.code, rep)
        assert rep["exit_code"] == got.code


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)


# --- the properties -------------------------------------------------------------------------------------

_compression = st.one_of(st.just((False, None)), st.just((True, None)),
                         st.tuples(st.just(True), st.floats(0, 1)))


@pytest.mark.slow
@EXAMPLES
@given(b=csv_file(), how=st.one_of(st.just((False, None)), _compression))
def test_hostile_csv_every_row_loaded_or_rejected(b: Built, how: tuple[bool, float | None]) -> None:
    compress, cut = how
    if cut is not None and not b.header_ok:
        cut = None  # an unusable header is judged before any row: no cut needed to test it
    check(b, compress, cut)


@pytest.mark.slow
@EXAMPLES
@given(b=jsonl_file(), how=st.one_of(st.just((False, None)), _compression))
def test_hostile_jsonl_every_row_loaded_or_rejected(b: Built, how: tuple[bool, float | None]) -> None:
    compress, cut = how
    check(b, compress, cut)


# --- dedicated examples: too big or too slow to generate thousands of times --------------------------------

HEADER = b"entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,text\n"
TEN_MB = 10 * 1024 * 1024


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("compress", [False, True])
def test_ten_megabyte_csv_cell_is_one_rejected_row(tmp_path: Path, compress: bool) -> None:
    # a 10 MB quoted cell over several lines, holding a line that looks like a good row: one row, rejected at
    # its start line; the row inside the cell is not read; the rows after it are
    cell = b'"' + b"x" * (TEN_MB // 2) + b"\n5,1,77,2026-11-01,999.00,DKK,inside\n" + b"y" * (TEN_MB // 2) + b'"'
    data = (HEADER + b"5,1,1,2026-11-01,10.00,DKK,first\n" + b"5,1,2,2026-11-01,10.00,DKK," + cell + b"\n"
            + b"5,1,3,2026-11-01,-20.00,DKK,last\n")
    path = _write(tmp_path, "big.csv", gzip.compress(data, 1) if compress else data)
    got = run_dry(path)
    assert got.code == 1 and "Traceback" not in got.stderr
    assert got.report is not None and got.rejects is not None
    assert (got.report["rows_read"], got.report["would_load"], got.report["rejected"]) == (3, 2, 1)
    ((_, line, _, reason, _),) = got.rejects
    assert line == "3" and "field larger than field limit" in reason and "(lines 3-5)" in reason


@pytest.mark.slow
def test_ten_megabyte_jsonl_line_is_rejected_not_sent(tmp_path: Path) -> None:
    big = json.dumps({"entryTypeNumber": 5, "journalNumber": 1, "voucherNumber": 2, "date": "2026-11-01",
                      "amount": 1, "currency": "DKK", "text": "x" * TEN_MB}).encode()
    good = b'{"entryTypeNumber": 5, "journalNumber": 1, "voucherNumber": 1, "date": "2026-11-01", "amount": 1, ' \
           b'"currency": "DKK"}'
    got = run_dry(_write(tmp_path, "big.jsonl", good + b"\n" + big + b"\n" + b"{" * 3 + b"\n"))
    assert got.code == 1 and "Traceback" not in got.stderr
    assert got.report is not None and got.rejects is not None
    assert (got.report["rows_read"], got.report["would_load"], got.report["rejected"]) == (3, 1, 2)
    reasons = {r[1]: r[3] for r in got.rejects}
    assert sorted(reasons) == ["2", "3"] and "more than the" in reasons["2"] and "invalid JSON" in reasons["3"]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_truncated_gzip_counts_the_rows_before_the_cut_and_exits_4(tmp_path: Path, fmt: str) -> None:
    n = 30_000
    if fmt == "csv":
        body = HEADER + b"".join(b"5,1,%d,2026-11-01,%d.00,DKK,row %d\n" % (i, i, i) for i in range(1, n + 1))
    else:
        body = b"".join(b'{"entryTypeNumber": 5, "journalNumber": 1, "voucherNumber": %d, "date": "2026-11-01", '
                        b'"amount": %d, "currency": "DKK"}\n' % (i, i) for i in range(1, n + 1))
    packed = gzip.compress(body)
    cut = packed[: len(packed) * 2 // 3]
    complete = zlib.decompressobj(wbits=31).decompress(cut)
    expected = complete.count(b"\n") - (1 if fmt == "csv" else 0)  # whole lines only, the header not a row
    got = run_dry(_write(tmp_path, f"cut.{fmt}", cut))
    assert got.code == 4 and "Traceback" not in got.stderr
    assert got.report is not None and got.rejects is not None
    rep = got.report
    assert rep["status"] == "stopped" and "cannot read past line" in rep["stop_reason"]
    assert rep["rows_read"] == expected == rep["would_load"] + rep["rejected"]
    # the chunks planned before the cut would load; the open chunk's rows are listed as not sent
    assert rep["would_load"] == expected // 500 * 500
    assert all(r[3].startswith("not sent: ") for r in got.rejects)
