"""A file's names against the fields its kind of record takes, before anything is sent: a CSV column that is no field,
and a field every row needs that no column holds (or, in a JSONL file, that no record gives), refuse the file (exit
2), where a row by row reading would reject every row of it. And the field a name that is none may mean."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .errors import ConfigError
from .money import local_currency_named
from .near_names import fold, nearest
from .targets.base import RecordKind

#: where a load maps its columns, as its refusals name it ("the [columns] table of --config"); a manifest's run
#: names the job's `columns` instead (fleet.manifest_words)
COLUMNS_OF_CONFIG = "[columns] table of --config"

#: the columns of a file a refusal shows
_SHOWN = 40
#: how a refusal says of a name of each kind that the file lacks it, and where the file gives its names
_LACKING = {"column": ("no {}", "header"), "key": ("no record gives the {}", "records")}


def missing(kind: RecordKind, fields: Sequence[str]) -> list[tuple[str, ...]]:
    """Of the columns `kind` requires (RecordKind.required: of each tuple one), those none of `fields` (the header
    after mapping) holds."""
    have = set(fields)
    return [either for either in kind.required() if have.isdisjoint(either)]


class RecordKeys:
    """The keys a JSONL file's records give, which stand for the header it has not: looked at record by record
    (`add`) until each key its kind requires (RecordKind.required: of each tuple one) is given by some record, and
    then no more. `lacking`: those no record looked at gives, so far; `keys`: every key of those records, in the
    order first given (all of the file's where one is lacking at the end); `records`: how many were looked at."""

    __slots__ = ("lacking", "keys", "records")

    def __init__(self, kind: RecordKind) -> None:
        self.lacking = list(kind.required())
        self.keys: dict[str, None] = {}
        self.records = 0

    def add(self, record: Iterable[str]) -> None:
        """Look at one record's keys (a key whose value is null or "" is no key: the reader drops it)."""
        self.records += 1
        keys = self.keys
        if new := [key for key in record if key not in keys]:
            keys.update(dict.fromkeys(new))
            self.lacking = [either for either in self.lacking if keys.keys().isdisjoint(either)]


def given_twice(
    path: str, unknown: Mapping[str, int | None], kind: RecordKind, name: str = "column"
) -> ConfigError | None:
    """The refusal of a file that names a field an option gives every row of it (RecordKind.given_fields: Visma
    Core's accountingCostType under --cost-type), or one written nearly as it (`nearest`): which of the two is meant
    cannot be told, and they are never merged cell by cell. `unknown`: the names of the file that are no field of
    `kind` (a header's after mapping, None each; a JSONL file's keys, each the first line it is on); `name` as
    `refusal` takes it. None where the file names no such field."""
    for said, line in unknown.items():
        field = nearest(said, kind.given_fields)
        if field is None:
            continue
        option = kind.given_fields[field]
        notes = ([] if line is None else [f"line {line}"]) + ([] if said == field else [f"{field} written another way"])
        shown = (field if said == field else repr(said)) + (f" ({', '.join(notes)})" if notes else "")
        return ConfigError(
            f"{path}: its {name} {shown} names each row's own, and {option} gives every row one: which is "
            f"meant cannot be told, and the two are never merged cell by cell. Give one of them: load the file without "
            f"{option.split()[0]} where its {name} is meant, or without the {name}; nothing was sent"
        )
    return None


def not_taken(path: str, names: Iterable[str], kind: RecordKind, name: str = "column") -> ConfigError | None:
    """The refusal of a file some of whose `names` (those no field of `kind`: a header's after mapping, a JSONL
    file's keys) name, in any case or spacing, a field of the API the kind never takes (RecordKind.not_taken): the
    kind's reason, where the refusal of a name that is no field would offer a field near it (e-conomic's
    `entryNumber` is no `entryTypeNumber` written another way) and to drop the column (the rows would then be loaded
    as other records than the file means). None where no name does. `name` "column" or "key", as `refusal`'s."""
    taken = {fold(field): field for field in kind.not_taken}
    named = [n for n in names if fold(n) in taken]
    if not named:
        return None
    why = "; ".join(dict.fromkeys(kind.not_taken[taken[fold(n)]] for n in named))
    return ConfigError(f"{path}: {name}(s) {_some(named)}: {why}; nothing was sent")


def refusal(
    path: str,
    fields: Sequence[str],
    unknown: Sequence[str],
    lacking: Sequence[tuple[str, ...]],
    kind: RecordKind,
    target: str,
    name: str = "column",
    earlier: Mapping[str, Any] | None = None,
) -> ConfigError:
    """The refusal of a file whose header (`fields`, after mapping) has `unknown` columns (no field of `kind`) or
    lacks the `lacking` ones (`missing`); `name` "key": of a JSONL file whose records give the keys `fields` (after
    mapping), none of them the `lacking` ones (RecordKeys). Names are quoted as Python writes text: an invisible
    character ('amount\\u200b') shows, not a name like a field's. A lacking field an option gives
    (RecordKind.option_fields) is offered that way too, with the value `earlier` gave it: the target options of
    the run whose rejects file this is (loads.rejecting_run), where known."""
    known = kind.fields
    if not lacking:
        named = _some(unknown, lambda f: f"{f!r}{_meant(f, known, fields)}")
        return ConfigError(
            f'{path}: {name}(s) {named} are not {target} fields; map them to a field (or to "" to drop them) in the '
            f"[columns] table of --config. Fields: {', '.join(sorted(known))}"
        )
    meant: dict[str, str] = {}  # a field lacking -> the unknown name written nearly as it (case, spacing, a typo)
    for column in unknown:
        if (field := nearest(column, [f for either in lacking for f in either])) is not None:
            meant.setdefault(field, column)
    needed = [" or ".join(f"{f} (did you mean {meant[f]!r}?)" if f in meant else f for f in e) for e in lacking]
    one = len(lacking) == 1
    needs = ("it" if len(lacking[0]) == 1 else "one of them") if one else "them"
    others = [f for f in unknown if f not in meant.values()]
    also = f'; {name}(s) {_some(others)} are no {target} fields (map them, or to "" to drop them)' if others else ""
    shown = _some(fields)
    names = name if one else f"{name}s"
    lacks, place = _LACKING[name]
    options = "".join(_option(kind.option_fields[f], earlier) for e in lacking for f in e if f in kind.option_fields)
    return ConfigError(
        f"{path}: {lacks.format(names)} {'; '.join(needed)}: every {target} row needs {needs}, so every row would be "
        f"rejected. The file's {name}s: {shown or 'none'}. Name the {names} so in the {place}, or map the file's own "
        f"to {'it' if one else 'them'} in the [columns] table of --config{options}{also}; nothing was sent"
    )


def _some(names: Sequence[str], show: Callable[[str], str] = repr) -> str:
    """The first _SHOWN of `names`, each as `show` writes it, and how many more there are: a header of 100,000
    columns (under the 1 MiB a line may be) named each, with the field each may mean (difflib, about 0.4 ms a name),
    was a refusal of a megabyte on one line after a minute."""
    listed = ", ".join(map(show, names[:_SHOWN]))
    return listed + (f" and {len(names) - _SHOWN:,} more" if len(names) > _SHOWN else "")


def _option(option: str, earlier: Mapping[str, Any] | None) -> str:
    """ ", or give --cost-type TYPE for …" (`option`, RecordKind.option_fields), and where `earlier` (the options of
    the run whose rejects file the file is) gave the option a value, that value."""
    flag, key = option_flag(option)
    value = (earlier or {}).get(key)
    return f", or give {option}" + ("" if value is None else f" (the run whose rejects file it is gave {flag} {value})")


def option_flag(option: str) -> tuple[str, str]:
    """The flag of a RecordKind.option_fields entry ("--cost-type TYPE for …" → "--cost-type") and its key among a
    target's options ("cost_type")."""
    flag = option.split()[0]
    return flag, flag.removeprefix("--").replace("-", "_")


def _meant(name: str, known: Iterable[str], header: Sequence[str]) -> str:
    """did_you_mean, but of a field `header` (after mapping) holds already, that it does: mapping the name to it
    would make two columns one field (sources.MappedTwice)."""
    near = nearest(name, known)
    if near is None or near not in header:
        return did_you_mean(name, known)
    return f" (the field {near} written another way, which the header has already)"


def did_you_mean(name: str, fields: Iterable[str]) -> str:
    """ ", did you mean 'vatCode'?" for a name that is a field written another way, else ""."""
    near = nearest(name, fields)
    return f", did you mean {near!r}?" if near is not None else ""


def column_letter(n: int) -> str:
    """A spreadsheet's name of column `n` (counted from 1): 1 is A, 26 Z, 27 AA."""
    letters = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def local_amounts(path: str, header: Sequence[str], columns: Mapping[str, str], kind: RecordKind) -> str | None:
    """The refusal (its text) of a CSV file whose `header` (as written; `columns` the [columns] mapping) has a column
    mapped to an amount whose currency each row names (RecordKind.amount_places: Places.field) and whose name says
    it holds amounts in the local currency (money.local_currency_named: Business Central's "Amount (LCY)"), which
    the file does not name: a row of another currency would be booked with the local amount in its own currency
    (DKK 7455.00 as EUR 7455.00). None where no column is so named and mapped."""
    for name in header:
        field = columns.get(name, name)
        place = kind.amount_places.get(field)
        if place is None or place.field is None or (word := local_currency_named(name)) is None:
            continue
        renamed = name.replace(word, "DKK", 1)
        return (
            f"{path}: column {name!r} is mapped to {field}, and its name says it holds amounts in the local currency "
            f"({word!r}), which the file does not name, while each row's {place.field} names the currency its "
            f"{field} is booked in: a row of another currency would be booked with the local amount (DKK 7455.00 as "
            f"EUR 7455.00). Map to {field} the column of amounts in each row's own currency; or, where every row is "
            "in the local currency, rename the column with that currency's ISO code (for example "
            f"{renamed!r}, in the file and the mapping), and a row of another currency is then rejected with its "
            "group; nothing was sent"
        )
    return None
