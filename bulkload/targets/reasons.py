"""A refusal in the user's words: msgspec's validation messages as a field and a reason, and the items an API's
error answer names."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

import msgspec
import msgspec.inspect
import msgspec.structs

from ..errors import APIError, RowInvalid
from ..json_text import given_twice, keys_twice
from ..numbers import answered_number
from ..sources import decode_exact

_AT_FIELD = re.compile(r"^(?P<reason>.*?) - at `\$\.(?P<field>[^`\[]+)")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`")
#: msgspec's "Expected `int | null`, got `str`"
_EXPECTED = re.compile(r"^Expected `(?P<want>[a-z]+)(?: \| null)?`, got `(?P<got>[a-z]+)`$")
#: msgspec's "Expected `int` >= 1", "Expected `str` of length <= 40", "Expected `array` of length >= 1"
_BOUND = re.compile(r"^Expected `(?P<want>[a-z]+)(?: \| null)?`(?P<length> of length)? (?P<op>[<>]=?) (?P<bound>\S+)$")
_ENUM = re.compile(r"^Invalid enum value ")
#: what a field of msgspec's type name holds, in the user's words
_KINDS = {
    "int": "a whole number",
    "float": "a number",
    "decimal": "a number",
    "str": "text",
    "bool": "true/false",
    "array": "a list",
    "object": "an object",
    "null": "empty",
}
_AT_LEAST = {">=": "at least", ">": "more than", "<=": "at most", "<": "less than"}
#: the longest value a reason quotes
_SHOWN = 60


def json_cell(field: str, text: str) -> Any:
    """JSON text in a field (a CSV cell, a JSONL string), decoded, its numbers as written (`1.50` and `1e-400` exact
    Decimals, sent as those JSON numbers; integers ints). Raises RowInvalid (the row is rejected, with its reason)
    when it is not JSON, holds a number past a float's range (`1e400`: sources.exact_number), nests too deeply to
    read, or gives a key twice in one object (JSON keeps the last: which value is meant cannot be told, as in a JSONL
    line: json_text.keys_twice)."""
    try:
        value = decode_exact(text)
    except ValueError as exc:
        raise RowInvalid(field, f"not valid JSON: {exc}{_json_hint(text, str(exc))}") from None
    except RecursionError:
        raise RowInvalid(field, "not valid JSON: nested too deeply") from None
    if value is None:  # JSON's null is no value: the field would be left out, unsent, as if the cell were empty
        raise RowInvalid(field, _NULL_TEXT.format(value=repr(text.strip()), field=field))
    if type(value) is not dict and type(value) is not list:
        return value
    if twice := keys_twice(text):
        raise RowInvalid(field, given_twice(twice))
    return value


#: the byte msgspec names where JSON text stops reading ("JSON is malformed: invalid character (byte 23)")
_AT_BYTE = re.compile(r"\(byte (\d+)\)$")
#: control characters a spreadsheet's cell holds as typed (Alt+Enter, a tab) that JSON writes escaped in its text
_ESCAPED = {"\n": "a line break", "\r": "a line break", "\t": "a tab"}


def _json_hint(text: str, error: str) -> str:
    """What to do about `text` that does not read as JSON where msgspec's `error` says it stopped: at a line break or
    tab inside a JSON string (a cell's address typed over two lines: write it \\n), or at its first character, which
    opens no JSON (plain text where JSON is taken); "" where neither."""
    at = _AT_BYTE.search(error)
    if at is None:
        return ""
    raw = text.encode()
    byte = int(at.group(1))
    if byte == len(raw) - len(text.lstrip().encode()) and text.strip()[:1] not in ("{", "[", '"'):
        return ': the cell holds plain text where JSON is taken: write it as JSON (an object {"name": "…"})'
    what = _ESCAPED.get(chr(raw[byte])) if byte < len(raw) else None
    if what is None:
        return ""
    escape = "\\t" if what == "a tab" else "\\n"
    return f": {what} inside a JSON string, which JSON writes as {escape} (a cell's {what} as typed is no JSON text)"


#: why the text null is refused where a field holds no text (`converted`, `json_cell`)
_NULL_TEXT = "{value} is text, never read as null: leave the cell empty (in JSONL: null) to send no {field}"


_Struct = TypeVar("_Struct", bound=msgspec.Struct)


def null_reason(field: str, text: str, holds: str) -> str:
    """Why the text null (`text`, in any case) is refused in `field`, which holds `holds` ("a whole number")."""
    return f"not {holds}: {_NULL_TEXT.format(value=repr(text), field=field)}"


def converted(row: Mapping[str, Any], kind: type[_Struct], read: frozenset[str] = frozenset()) -> _Struct:
    """`row` as the Struct `kind`, converted as a file's text is read ("5" an int, "true" a bool, a text field's
    value as it is). RowInvalid naming the field and why (`row_invalid`) for a value that cannot be of its type, and
    for the text null (in any case: `null`, `NULL`) in a field that holds no text: msgspec reads it as null there,
    and the field would be left out of what is sent (an update keeping the record's value) while a text field sends
    it as the text. One token is read one way: as text or refused, never as no value. `read`: the fields the row's
    text was read in already (RecordKind.read_fields: chunking.Reading refuses "null" there, a number, a whole number
    or a date),
    which are not looked at again (an e-conomic row has no other such field: no cost a row)."""
    nulls = _null_read(kind, read)
    for name in nulls:
        value = row.get(name)
        if type(value) is str and len(value) == 4 and value.lower() == "null":
            raise RowInvalid(name, null_reason(name, value, nulls[name]))
    try:
        return msgspec.convert(row, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise row_invalid(exc, row, kind) from None


@functools.cache
def _null_read(kind: type[msgspec.Struct], read: frozenset[str]) -> dict[str, str]:
    """The fields of `kind` (by their input names) where msgspec reads the text null as null, but those `read`
    already, each with what it holds in the user's words ("a whole number", "true/false")."""
    held = {}
    for field in msgspec.structs.fields(kind):
        if field.encode_name in read:
            continue
        try:
            if msgspec.convert("null", field.type, strict=False) is not None:
                continue
        except msgspec.ValidationError:
            continue
        info = msgspec.inspect.type_info(field.type)
        types = [t for t in getattr(info, "types", (info,)) if not isinstance(t, msgspec.inspect.NoneType)]
        held[field.encode_name] = _held(types[0]) if len(types) == 1 else "of its type"
    return held


def _held(info: msgspec.inspect.Type) -> str:
    """What a value of msgspec's type `info` is, in the user's words."""
    if isinstance(info, msgspec.inspect.LiteralType):
        return f"one of {', '.join(map(str, info.values))}"
    name = type(info).__name__.removesuffix("Type").lower()
    return _KINDS.get({"dict": "object", "list": "array"}.get(name, name), name)


def row_invalid(exc: msgspec.ValidationError, row: Mapping[str, Any] | None = None, kind: Any = None) -> RowInvalid:
    """Turn msgspec's message ("Expected `int`, got `str` - at `$.journalNumber`") into the field and a reason in
    the user's words, with the value as the row holds it ("not a whole number: 'five'"); `row` is what was
    converted and `kind` the Struct it was converted to (for the values a field allows)."""
    text = str(exc)
    if m := _MISSING.match(text):
        return RowInvalid(m["field"], "required field is missing")
    if m := _AT_FIELD.match(text):
        field = m["field"]
        value = row.get(field, _NOTHING) if row is not None else _NOTHING
        return RowInvalid(field, _reason(m["reason"], value, _allowed(kind, field)))
    return RowInvalid("", text.replace("`", ""))


_NOTHING = object()
#: the numbers a message writes, by their digits
_NUMBERS = re.compile(r"[0-9]+").findall
#: an item's index in an API's message: "index 3", "entries[3]", "items[3]"
_INDEX = re.compile(r"\bindex (\d+)\b|\w\[(\d+)\]")


def _reason(text: str, value: Any, allowed: tuple[Any, ...] | None) -> str:
    """One msgspec reason (without its "- at" path) as the user reads it; a reason of our own (raised in a Struct's
    __post_init__, already in the user's words) is kept as it is."""
    shown = _shown(value)
    if m := _EXPECTED.match(text):
        want, got = m["want"], m["got"]
        if want in ("array", "object", "str") or got in ("array", "object"):
            what = "a number" if got in ("int", "float", "decimal") else _KINDS.get(got, got)
            got_text = f"{what}: {shown}" if shown and got not in ("array", "object") else what
            return f"expected {_KINDS.get(want, want)}, got {got_text}"
        reason = f"not {_KINDS.get(want, want)}: {shown}" if shown else f"not {_KINDS.get(want, want)}"
        return f"{reason} (one of: {', '.join(map(str, allowed))})" if allowed else reason
    if allowed is not None and _ENUM.match(text):
        plain = _plain(value) if all(type(a) is int for a in allowed) else shown
        return f"not one of: {', '.join(map(str, allowed))}" + (f" (got {plain})" if plain else "")
    if m := _BOUND.match(text):
        op, bound = _AT_LEAST[m["op"]], m["bound"]
        if m["length"]:
            unit = "item" if m["want"] == "array" else "character"
            many = f"{unit}s" if bound != "1" or op in ("more than", "less than") else unit
            size = f" (it has {len(value)})" if isinstance(value, str | list | dict) else ""
            return (
                f"must be {op} {bound} {many} long{size}"
                if unit == "character"
                else f"must hold {op} {bound} {many}{size}"
            )
        plain = _plain(value)
        return f"must be {op} {bound}, got {plain}" if plain else f"must be {op} {bound}"
    if text == "Invalid decimal string":
        return f"not a number: {shown}" if shown else "not a number"
    if _ENUM.match(text):
        return f"not an allowed value: {shown}" if shown else "not an allowed value"
    return text.replace("`", "")


def _shown(value: Any) -> str:
    """A value as a reason quotes it: text in quotes, a number or true/false as written; "" for no value to show."""
    if value is _NOTHING or value is None or isinstance(value, list | dict):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= _SHOWN else value[: _SHOWN - 1] + "…")
    return str(value)


def _plain(value: Any) -> str:
    """A value read as a number, shown as one (the CSV's '0' as 0)."""
    return value.strip() if isinstance(value, str) and len(value) <= _SHOWN else _shown(value)


def _allowed(kind: Any, field: str) -> tuple[Any, ...] | None:
    """The values a Literal field of Struct `kind` allows (by its name in the row), or None."""
    if kind is None:
        return None
    try:
        return _literals(kind).get(field)
    except (TypeError, ValueError):
        return None


@functools.cache
def _literals(kind: Any) -> dict[str, tuple[Any, ...]]:
    """The values each Literal field of Struct `kind` allows, by its name in the row: read off the type once (a
    rejected row asked msgspec.inspect each time, 0.86 ms a row: 88 s of CPU for a file of 200,000 rejected rows).
    TypeError or ValueError for a type msgspec cannot inspect."""
    info = msgspec.inspect.type_info(kind)
    allowed: dict[str, tuple[Any, ...]] = {}
    for f in getattr(info, "fields", ()):
        types = f.type.types if isinstance(f.type, msgspec.inspect.UnionType) else (f.type,)
        values = next((tuple(t.values) for t in types if isinstance(t, msgspec.inspect.LiteralType)), None)
        if values is not None:
            allowed.setdefault(f.encode_name, values)
    return allowed


def _said(error: APIError, item: Mapping[str, Any], field_key: str, code_key: str | None = None) -> tuple[str, str]:
    """What an error `item` says of the item it names: (field, "code: message")."""
    code = (code_key and item.get(code_key)) or error.error_code or f"HTTP {error.status}"
    return str(item.get(field_key) or ""), f"{code}: {item.get('message') or error.message}"


#: what an error answer says of each row it names: {index in the call's rows: (field, "code: message")}
Said = dict[int, tuple[str, str]]


class Counted(Said):
    """The rows an error answer names (`Said`), read by the numbering it shows: `base`, 0 where its indexes count
    the call's rows from 0, 1 where from 1 (what the run remembers for the answers that do not show it:
    isolation.Numbering). `shown`: the rows whose own error shows it (its index names no other row, or it quotes the
    row's value); the others are read by what another error of the answer showed, or an earlier answer (none
    shown), which an API that keeps to no one numbering belies."""

    def __init__(self, said: Said, base: int, shown: frozenset[int] = frozenset()) -> None:
        super().__init__(said)
        self.base, self.shown = base, shown


class Untold(NamedTuple):
    """A refusal naming rows by indexes that may count them from 0 or from 1, where nothing tells which
    (`errors_counted`): `why` (in the user's words), `said`: per numbering that fits every index (0: from 0, 1: from
    1), the rows it names with what it says of each (none where no numbering fits them all), and `rows`: every row
    either numbering may name (the others are named by neither)."""

    why: str
    said: Mapping[int, Said]
    rows: frozenset[int]


def errors_counted(
    error: APIError, rows: Sequence[Any], *, field_key: str, code_key: str | None = None, unsaid: str
) -> Counted | Untold | None:
    """An answer's `errors` list naming the refused items by `index`, as {index in `rows`: (field, "code: message")},
    for an API whose documents do not say how its error answer counts the items (`unsaid`, as a reason says it:
    PayorCRM's seed 004 and HaloPSA's seeds 001 and 000 document no error answer, e-conomic's seed 002 gives `errors`
    as `[ ]`): its `index` may count the call's `rows` from 0 or from 1. What tells which: an index 0 (from 0); an index
    equal to the number of rows (from 1); an error quoting the value its field has in the row one numbering names
    and not in the one the other does (`_quotes`: "Account 9999 could not be found."). A numbering under which an
    error is of another row than its index names, by the value it quotes or the field of the row it names
    (`_contradicts`: `"value": "not-an-email"` for a row whose email is a@x.io, `"customerno": "C4"` for C1, a
    message "customer C4: …" at C1's index: a server counting in an order of its own), is not how it counts. Where
    nothing tells it, or what does disagrees, Untold: why which rows it names cannot be told (none is to be
    rejected: it may be good), and the rows each numbering names; where every numbering is contradicted so, any row
    of the call may be the one refused. What one answer shows, the run remembers for the others
    (isolation.Numbering). A Counted says which of its rows their own error shows (Counted.shown). None when it
    names no row, or one outside both numberings."""
    n, named = len(rows), []
    for item in error.errors:
        index = item.get("index") if isinstance(item, dict) else None
        if type(index) is not int or not 0 <= index <= n:
            return None
        named.append((index, item))
    if not named:
        return None
    owns = []  # per error, the numberings it allows itself: those naming a row, or the one whose row it quotes,
    # less those under which it is of another row
    contradicted: dict[int, str] = {}
    values = _texts(rows)
    for i, item in named:
        own = {b for b in (0, 1) if 0 <= i - b < n}
        quoted = {b for b in own if _quotes(item, rows[i - b], field_key)}
        if len(quoted) == 1:
            own = quoted
        told = _quoted(item, values)
        for b in (0, 1):
            if 0 <= i - b < n and (field := _contradicts(item, rows[i - b], (field_key, code_key), told)) is not None:
                own.discard(b)
                contradicted.setdefault(i, field)
        owns.append(own)
    bases = set.intersection(*owns)
    said = {b: {i - b: _said(error, item, field_key, code_key) for i, item in named} for b in sorted(bases)}
    if len(bases) == 1:
        (base,) = bases
        return Counted(said[base], base, frozenset(i - base for (i, _), own in zip(named, owns) if own == bases))
    shown = ", ".join(str(i) for i in sorted({i for i, _ in named}))
    naming = f"naming rows by index ({shown}), which it may count from 0 or from 1 ({unsaid}), "
    if not bases and contradicted:
        i, field = next(iter(contradicted.items()))
        why = (
            f"{naming}and its error at index {i} quotes another {field} than the row its index names has, either way "
            "it counts (the server may count the rows in an order of its own): which rows it refused cannot be told"
        )
        return Untold(why, {}, frozenset(range(n)))
    why = (
        f"{naming}and {'no numbering fits them all' if not bases else 'nothing tells which'} (no index 0, none equal "
        f"to the {n} rows sent, no value of one of the rows quoted): which rows it refused cannot be told"
    )
    return Untold(why, said, frozenset(i - b for i, _ in named for b in (0, 1) if 0 <= i - b < n))


def _quotes(item: Mapping[str, Any], row: Any, field_key: str) -> bool:
    """Whether an error `item` quotes (as a word of its `message`, or as its `value`) what `row` holds in the field
    it names: a text of more than digits alone; a whole number where it is the one number the message writes
    ("Account 9999 could not be found."): a number beside another may be an index, a count or a bound."""
    field = item.get(field_key)
    value = getattr(row, field, None) if isinstance(field, str) else None
    message = item.get("message")
    said = message if isinstance(message, str) else ""
    if type(value) is int:
        return _NUMBERS(said) == [str(abs(value))]
    if not isinstance(value, str) or not value.strip() or value.strip().isdigit():
        return False
    return item.get("value") == value or re.search(rf"(?<!\w){re.escape(value)}(?!\w)", said) is not None


#: what an error item says of itself, not of its row (in lower case): beside the keys `errors_counted` is told of
_ABOUT_ITSELF = frozenset(
    {"index", "value", "message", "code", "errorcode", "error", "detail", "title", "type", "status", "statuscode"}
)


def _texts(rows: Sequence[Any]) -> dict[str, set[str]]:
    """Per field of `rows`, the texts they hold in it that a message may quote (`_quotable`), spaces around them
    aside."""
    texts: dict[str, set[str]] = {}
    for row in rows:
        for name in getattr(type(row), "__struct_fields__", ()):
            if _quotable(value := getattr(row, name)):
                texts.setdefault(name, set()).add(value.strip())
    return texts


def _quotable(value: Any) -> bool:
    """Whether a row's value is text an error's message may quote of it: more than digits alone (those may be an
    index, a count or a bound) and no spaces within (a message's words are read apart)."""
    return isinstance(value, str) and bool(text := value.strip()) and not text.isdigit() and len(text.split()) == 1


#: what a message writes around a value it quotes (`customer C2: emailaddress1 'b@x' is …`)
_AROUND = re.compile(r"[^\s'\"`,;:()\[\]{}<>!?]+")


def _quoted(item: Mapping[str, Any], texts: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """Per field, those of `texts` (the values the call's rows hold in it, `_texts`) that an error `item`'s
    `message` quotes as words of its own (`'b@x'`, `C2:`, `b@x.`)."""
    message = item.get("message")
    if not isinstance(message, str):
        return {}
    words = {w for word in _AROUND.findall(message) for w in (word, word.rstrip("."))}
    return {name: found for name, held in texts.items() if (found := held & words)}


#: a message that says the value it quotes was looked for and not found ("Account 8888 could not be found.")
_NOT_FOUND = re.compile(r"\bnot (?:be )?found\b|\b(?:does|do) not exist\b", re.IGNORECASE).search


def _contradicts(
    item: Mapping[str, Any], row: Any, told: tuple[str | None, ...], quoted: Mapping[str, set[str]]
) -> str | None:
    """The field of `row` an error `item` gives another value of than the row holds, where it gives one: its `value`
    for the field it names (under the first of `told`, the keys naming its field and code), a member named as a
    field of the row, in any case (`"customerno": "C4"`), beside what it says of itself (`_ABOUT_ITSELF`), or, in
    its message, another row's value of a field (`quoted`: `_quoted`) and not the row's own (`customer C2: …` at
    the index of C1), or the one number a message that it was not found writes (`_NOT_FOUND`: "Account 8888 could
    not be found.") for the field it names where the row holds another whole number there, or none
    (`_quoted_elsewhere`). Only values a row holds as text or a number are compared, text exactly but for spaces around
    it, numbers by value (`_same`); None where it gives none of them, or each as the row holds it."""
    for name, found in quoted.items():
        held = getattr(row, name, None)
        if isinstance(held, str) and _quotable(held) and held.strip() not in found:
            return name
    fields = {name.lower(): name for name in getattr(type(row), "__struct_fields__", ())}
    given: list[tuple[Any, Any]] = []
    if isinstance(field := item.get(told[0] or ""), str) and _quoted_elsewhere(item, row, field):
        return field
    if isinstance(field, str) and "value" in item:
        given.append((field, item["value"]))
    given += [(name, value) for name, value in item.items() if name.lower() not in _ABOUT_ITSELF and name not in told]
    for name, value in given:
        own = fields.get(name.lower()) if isinstance(name, str) else None
        held = getattr(row, own, None) if own is not None else None
        if held is not None and value is not None and _comparable(held) and not _same(held, value):
            return own
    return None


def _quoted_elsewhere(item: Mapping[str, Any], row: Any, field: str) -> bool:
    """Whether an error `item` that says a value of `field` was not found quotes one `row` does not hold there: its
    message writes one number (a number beside another may be an index, a count or a bound) and the row holds
    another whole number in the field, or none (a line without an account cannot be refused for an account it
    lacks). A row without the field at all (an API's name for another) tells nothing."""
    message = item.get("message")
    if not isinstance(message, str) or not _NOT_FOUND(message) or len(numbers := _NUMBERS(message)) != 1:
        return False
    held = getattr(row, field, _ABSENT)
    return held is None or (type(held) is int and numbers != [str(abs(held))])


#: what a row without a field holds there (`_quoted_elsewhere`)
_ABSENT = object()


def _comparable(value: Any) -> bool:
    return type(value) is not bool and isinstance(value, str | int | Decimal)


def _same(held: Any, given: Any) -> bool:
    """Whether `given`, a value an error item quotes, is `held`, a row's text or number: the same text but for
    spaces around it, or the same number, as JSON or its text writes it (`"1000"`, 1000.0 for 1000)."""
    if isinstance(held, str) and isinstance(given, str) and held.strip() == given.strip():
        return True
    number, was = answered_number(given), answered_number(held)
    return number is not None and number == was


def item_named(error: APIError, n: int) -> int | None:
    """The one item of a call of `n` items that a refusal's message names by its index ("at index 3",
    "entries[3]"), for an answer that lists no errors; None when it names none, or more than one."""
    found = {int(a or b) for a, b in _INDEX.findall(error.message)}
    if len(found) != 1:
        return None
    (index,) = found
    return index if 0 <= index < n else None
