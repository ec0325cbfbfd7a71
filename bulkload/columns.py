"""A CSV file's columns against the fields its kind of record takes, before anything is sent: a column that is no
field, and a field every row needs that no column holds, refuse the file (exit 2), where a row by row reading would
reject every row of it."""

from __future__ import annotations

from collections.abc import Sequence

from .errors import ConfigError
from .profile import did_you_mean, nearest
from .targets.base import RecordKind

#: the columns of a file a refusal shows
_SHOWN = 40


def missing(kind: RecordKind, fields: Sequence[str]) -> list[tuple[str, ...]]:
    """Of the columns `kind` requires (RecordKind.required: of each tuple one), those none of `fields` (the header
    after mapping) holds."""
    have = set(fields)
    return [either for either in kind.required() if have.isdisjoint(either)]


def refusal(
    path: str,
    fields: Sequence[str],
    unknown: Sequence[str],
    lacking: Sequence[tuple[str, ...]],
    kind: RecordKind,
    target: str,
) -> ConfigError:
    """The refusal of a file whose header (`fields`, after mapping) has `unknown` columns (no field of `kind`) or
    lacks the `lacking` ones (`missing`). Names are quoted as Python writes text: an invisible character
    ('amount\\u200b') shows, not a name like a field's."""
    known = kind.fields
    if not lacking:
        named = ", ".join(f"{f!r}{did_you_mean(f, known)}" for f in unknown)
        return ConfigError(
            f'{path}: column(s) {named} are not {target} fields; map them to a field (or to "" to drop them) in the '
            f"[columns] table of --config. Fields: {', '.join(sorted(known))}"
        )
    meant: dict[str, str] = {}  # a field lacking -> the unknown column written nearly as it (case, spacing, a typo)
    for column in unknown:
        if (field := nearest(column, [f for either in lacking for f in either])) is not None:
            meant.setdefault(field, column)
    needed = [" or ".join(f"{f} (did you mean {meant[f]!r}?)" if f in meant else f for f in e) for e in lacking]
    one = len(lacking) == 1
    needs = ("it" if len(lacking[0]) == 1 else "one of them") if one else "them"
    others = [f for f in unknown if f not in meant.values()]
    also = (
        f'; column(s) {", ".join(map(repr, others))} are no {target} fields (map them, or to "" to drop them)'
        if others
        else ""
    )
    shown = ", ".join(map(repr, fields[:_SHOWN])) + (
        f" and {len(fields) - _SHOWN} more" if len(fields) > _SHOWN else ""
    )
    columns = "column" if one else "columns"
    return ConfigError(
        f"{path}: no {columns} {'; '.join(needed)}: every {target} row needs {needs}, so every row would be rejected. "
        f"The file's columns: {shown}. Name the {columns} so in the header, or map the file's own "
        f"to {'it' if one else 'them'} in the [columns] table of --config{also}; nothing was sent"
    )
