"""A hex dump of a credential wrapped over lines (a C array as a formatter wraps it, 16 bytes a line as hexdump and
Wireshark write them) and a credential holding a space wrapped by `<br>` at that space were shown in clear in the
rejects file, the report, the ledger and the log. DESIGN: secrets never in logs/reports/ledger/rejects.

- Found by tester t60a: the joins of wrapped lines left nothing between two lines, so `0x5f,\\n    0x51` became
  `0x5f,0x51` inside a dump written `0x5f, 0x51`, and `pass<br> word` (the `<br>` join takes the white space around
  it) became `password`. bulkload/redact.py (`_JOINS`): a join of any break with the white space around it that
  leaves one space."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_secret_echoes import files_holding

from bulkload import redact

SECRET = "sk_live_Q7zXa9Kd2LmN4pR8tV1w"
SPACED = "my pass phrase Q7zXa9Kd2L"


def _dumps(value: str) -> dict[str, str]:
    raw = value.encode()
    rows = [raw[i : i + 8] for i in range(0, len(raw), 8)]
    return {
        "c array": ",\n    ".join(", ".join(f"0x{b:02x}" for b in row) for row in rows),
        "0x, 8 a line": "\n".join(" ".join(f"0x{b:02x}" for b in row) for row in rows),
        "hex, 8 a line": "\r\n".join(row.hex(" ") for row in rows),
        "hex, 8 a line, <br>": "<br>\n".join(row.hex(" ") for row in rows),
    }


@pytest.mark.parametrize("form", list(_dumps(SECRET)))
def test_a_wrapped_hex_dump_is_masked(form: str) -> None:
    redact.register(SECRET)
    assert redact.redact(f"data = {{{_dumps(SECRET)[form]}}};") == "data = {***};"


@pytest.mark.parametrize("page", ["my pass<br> phrase Q7zXa9Kd2L", "my pass phrase <br />\nQ7zXa9Kd2L"])
def test_a_value_wrapped_by_br_at_its_space_is_masked(page: str) -> None:
    redact.register(SPACED)
    assert redact.redact(f"<p>password: {page}<br>is wrong</p>") == "<p>password: ***<br>is wrong</p>"


async def test_a_refusal_dumping_it_wrapped_leaves_it_nowhere(tmp_path: Path) -> None:
    dump = _dumps(SECRET)["c array"]
    assert await files_holding(tmp_path, SECRET, f"refused: {{{dump}}}", b"refused", b"0x51, 0x37, 0x7a") == []


def test_long_runs_of_breaks_and_white_space_are_redacted_in_linear_time() -> None:
    code = (
        "from bulkload import redact\n"
        f"redact.register({SECRET!r})\n"
        "for unit in (' ', '\\n', ' \\n', '<br>', ' <br>\\n ', '0x73\\n', '0x73, \\n'):\n"
        "    text = unit * (1_000_000 // len(unit))\n"
        f"    assert redact.redact(text + 'x ' + {SECRET!r}).endswith(' ***'), unit\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    "dump",
    [
        "\t".join(f"{b:02x}" for b in SECRET.encode()),  # a tab-separated dump (a spreadsheet's cells)
        "\t".join(f"0x{b:02X}" for b in SECRET.encode()),
        "; ".join(f"0x{b:02x}" for b in SECRET.encode()),  # a debugger's list
        ";".join(f"0x{b:02x}" for b in SECRET.encode()),
    ],
)
def test_a_hex_dump_separated_by_tabs_or_semicolons_is_masked(dump: str) -> None:
    # t60a: the separators a dump was known by were a space, `:` and `-` (and `,` between `0x` bytes)
    redact.register(SECRET)
    assert redact.redact(f"bytes [{dump}] refused") == "bytes [***] refused"
