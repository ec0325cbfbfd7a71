"""Count rows lost and doubled by a load into the e-conomic sandbox, whoever did the loading.

    python -m benchmarks.tally FILE --base-url URL

Shared by the comparators (``benchmarks.naive_loop``, ``benchmarks.dlt_loader``) so that every loader is
judged the same way, from the outside: the input file is read as a multiset of rows and the sandbox's
draft entries (walked through ``GET /draft-entries?cursor=…``, the API's own listing) as a multiset of
entries, both keyed by the fields the file's header names, normalised: ints as ints, amount rounded to
two decimals, exchangeRate to six, dates as their YYYY-MM-DD string (the API lists 2026-11-01 as
2026-11-01T00:00:00), other text as it is, an absent field or empty cell as None. ``lost`` counts input
rows with no stored entry, ``doubled`` stored entries beyond the input's count for their key (an entry
matching no input row at all counts as doubled). Reads are retried on 5xx and dropped connections, so
the tally also works against a sandbox started with fault flags.

Keys are counted by their Python hash to keep a million of them in ~100 MB: two different keys would
have to collide on 64 bits to hide a loss behind a double. Both sides are hashed in this process, so
string-hash randomisation does not matter. Expects the sandbox to hold only this load's entries.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from benchmarks.naive_loop import INT_FIELDS

FLOAT_DIGITS = {"amount": 2, "exchangeRate": 6}
DATE_FIELDS = frozenset({"date", "dueDate"})


class _Page(msgspec.Struct):
    items: list[dict[str, Any]] = []
    cursor: str | None = None


_decode_page = msgspec.json.Decoder(_Page).decode


def _normaliser(field: str) -> Callable[[Any], Any]:
    if field in INT_FIELDS:
        return int
    if field in FLOAT_DIGITS:
        digits = FLOAT_DIGITS[field]
        return lambda v: round(float(v), digits)
    if field in DATE_FIELDS:
        return lambda v: str(v)[:10]  # the API answers 2026-11-01T00:00:00 for 2026-11-01
    return str


def _keyer(fields: list[str]) -> Callable[[dict[str, Any]], int]:
    """hash of the normalised (field values) tuple; empty strings and missing keys are None."""
    norm = [(f, _normaliser(f)) for f in fields]

    def key(row: dict[str, Any]) -> int:
        return hash(tuple(None if (v := row.get(f)) is None or v == "" else n(v) for f, n in norm))

    return key


def _get(url: str, headers: dict[str, str], attempts: int = 10) -> bytes:
    """GET, retried on 5xx and connection errors: a sandbox started with --fault-rate fails reads too."""
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=120) as resp:
                body: bytes = resp.read()
                return body
        except urllib.error.HTTPError as exc:
            if exc.code < 500 or attempt == attempts - 1:
                raise
        except (urllib.error.URLError, ConnectionError):
            if attempt == attempts - 1:
                raise
        time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def walk(base_url: str, headers: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Every draft entry the sandbox holds, page by page through the cursor listing."""
    url = base_url.rstrip("/") + "/draft-entries"
    cursor: str | None = None
    while True:
        query = "" if cursor is None else "?" + urllib.parse.urlencode({"cursor": cursor})
        page = _decode_page(_get(url + query, headers))
        yield from page.items
        if page.cursor is None:
            return
        cursor = page.cursor


def lost_and_doubled(path: Path, base_url: str) -> tuple[int, int]:
    """(input rows with no stored entry, stored entries beyond the input's count for their key)."""
    headers = {
        "X-AppSecretToken": os.environ.get("ECONOMIC_APP_SECRET_TOKEN", "tally-secret"),
        "X-AgreementGrantToken": os.environ.get("ECONOMIC_AGREEMENT_GRANT_TOKEN", "tally-grant"),
        "Accept": "application/json",
    }
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        key = _keyer(list(reader.fieldnames or ()))
        wanted = Counter(key(row) for row in reader)
    for entry in walk(base_url, headers):
        wanted[key(entry)] -= 1  # what is left: > 0 lost, < 0 doubled
    lost = sum(n for n in wanted.values() if n > 0)
    doubled = -sum(n for n in wanted.values() if n < 0)
    return lost, doubled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--base-url", required=True)
    args = parser.parse_args()
    lost, doubled = lost_and_doubled(args.file, args.base_url)
    print(json.dumps({"lost": lost, "doubled": doubled}))


if __name__ == "__main__":
    main()
