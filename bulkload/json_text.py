"""JSON text as it is written: the keys one object gives twice (JSON keeps the last, and which value the file means
cannot be told), and a JSONL line's values each as its own text, for the rejects file to give back unchanged."""

from __future__ import annotations

import contextlib
import json
import re

_SPACE = re.compile(r"[ \t\n\r]*")
_raw_decode = json.JSONDecoder().raw_decode


def keys_twice(text: str | bytes) -> list[str]:
    """The keys that one object of the JSON `text` gives more than once, at any depth, in the order found; [] for
    none, and for a text json cannot read (the caller has read it: it fails only nested too deeply to tell)."""
    twice: dict[str, None] = {}

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                twice[key] = None
            seen.add(key)
        return {}  # only the keys are looked at

    with contextlib.suppress(ValueError, RecursionError):
        json.loads(text, object_pairs_hook=pairs)
    return list(twice)


def given_twice(keys: list[str]) -> str:
    """Why a row holding an object that gives `keys` twice is refused, in the user's words."""
    named = f"the key {keys[0]!r} is" if len(keys) == 1 else f"the keys {', '.join(map(repr, keys))} are"
    return f"{named} given twice in one object: which value is meant cannot be told"


#: how a rejects file's cell starts that holds each value of a key a JSONL line gives twice (twice_cell)
TWICE_CELL = "given twice, keep one: "


def twice_cell(values: list[str]) -> str:
    """The rejects file's cell for a key a JSONL line gives once for each of `values` (as the file writes each): all
    of them in the key's own column, after TWICE_CELL, so that the row stays as wide as its header and, loaded back
    before one value is kept, is refused saying so (`twice_reason`)."""
    return TWICE_CELL + " | ".join(values)


def twice_reason(field: str, cell: str) -> str:
    """Why a row of a rejects file loaded back is refused where its `field` is still a `twice_cell`."""
    return (
        f"the line this row was rejected from gives the key {field!r} twice, and the cell shows each value "
        f"({cell.strip()!r}): keep the one meant, in place of the whole cell"
    )


def written_values(line: str) -> list[tuple[str, str]]:
    """Each key of the JSON object `line` with its value's JSON text exactly as written (`1e2`, `-0`, an object
    with its spacing and every key it gives), in order; a key given twice is there twice. `line` must be one JSON
    object (a JSONL line that was read as one); ValueError otherwise, RecursionError for one nested too deeply."""
    found: list[tuple[str, str]] = []
    i = _after_space(line, line.index("{") + 1)
    while line[i] == '"':
        key, i = _raw_decode(line, i)
        start = _after_space(line, line.index(":", i) + 1)
        _, end = _raw_decode(line, start)
        found.append((key, line[start:end]))
        i = _after_space(line, end)
        if line[i] == ",":
            i = _after_space(line, i + 1)
    return found


def _after_space(text: str, i: int) -> int:
    """Where the JSON white space at `i` of `text` ends."""
    return _SPACE.match(text, i).end()  # type: ignore[union-attr]  # it matches no space as well
