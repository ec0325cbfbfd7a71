"""Ids and whole numbers an answer writes as JSON strings of ASCII digits (`"entryNumber": "1001"`, `"Id": "145"`),
as servers that keep them as text or as 64-bit integers (JavaScript's limit) do: read as the integer the digits
write, where the answer's type takes an int there. Only digits: "1001.0", " 1001", "1e3", "", "-1" (a negative is
no id) and "١٢" stay strings, refused as before."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from msgspec import inspect

_read_any = msgspec.json.Decoder(float_hook=Decimal).decode
#: Decimals go back out as the JSON numbers they were read from (an `Amount` kept as written: msgspec.Raw)
_write = msgspec.json.Encoder(decimal_format="number").encode
#: the types a union may hold beside int that take a JSON string: a string there is no int written as text
_TAKE_TEXT = (
    inspect.StrType,
    inspect.AnyType,
    inspect.RawType,
    inspect.DecimalType,
    inspect.EnumType,
    inspect.LiteralType,
    inspect.DateTimeType,
    inspect.DateType,
    inspect.TimeType,
    inspect.UUIDType,
    inspect.BytesType,
    inspect.CustomType,
)


def as_int(value: Any) -> Any:
    """`value`, an answer's id or whole number, read as the integer it writes where it is a string of ASCII digits
    only ("1001": 1001, "007": 7); anything else as it is ("1001.0", " 1001", "1e3", "", "-1": a negative is no id),
    and digits past Python's limit of a conversion (sys.get_int_max_str_digits, 4300) too: refused by the caller as
    any string where an id is, not a ValueError's traceback."""
    if type(value) is not str or not value.isascii() or not value.isdigit():
        return value
    try:
        return int(value)
    except ValueError:  # more digits than int() converts
        return value


def unquoted(body: bytes, into: Any) -> bytes | None:
    """`body`, a JSON answer read as `into` (a msgspec type: a Struct, a list of them, a union …), written again with
    every string of ASCII digits where `into` takes an int (and no string) as that int; None where it holds none, or
    is no JSON text. The caller decodes what this returns as it decoded `body` (its checks and its errors as they
    are): the one reading of ids written as text, the answers of every target that documents ids as integers (seed
    002's entryNumber, seed 003's Id)."""
    try:
        value = _read_any(body)
    except (msgspec.DecodeError, RecursionError):
        return None
    found = [False]
    value = _walked(value, inspect.type_info(into), found)
    return _write(value) if found[0] else None


def _walked(value: Any, kind: inspect.Type, found: list[bool]) -> Any:
    """`value` with each string of digits at a place `kind` takes an int read as the int; `found[0]` set if any."""
    if isinstance(kind, inspect.UnionType):
        if type(value) is str:
            ints = [t for t in kind.types if isinstance(t, inspect.IntType)]
            return _walked(value, ints[0], found) if ints and not _takes_text(kind) else value
        for member in kind.types:
            if _holds(value, member):
                return _walked(value, member, found)
        return value
    if isinstance(kind, inspect.IntType):
        number = as_int(value)
        found[0] |= number is not value
        return number
    if isinstance(kind, (inspect.StructType, inspect.TypedDictType, inspect.DataclassType)):
        if type(value) is dict:
            fields = {f.encode_name: f.type for f in kind.fields}
            return {k: _walked(v, fields[k], found) if k in fields else v for k, v in value.items()}
        return value
    if isinstance(kind, (inspect.ListType, inspect.SetType, inspect.FrozenSetType, inspect.VarTupleType)):
        if type(value) is list:
            return [_walked(v, kind.item_type, found) for v in value]
        return value
    if isinstance(kind, inspect.DictType) and type(value) is dict:
        return {k: _walked(v, kind.value_type, found) for k, v in value.items()}
    return value


def _takes_text(kind: inspect.UnionType) -> bool:
    return any(isinstance(t, _TAKE_TEXT) for t in kind.types)


def _holds(value: Any, kind: inspect.Type) -> bool:
    """Whether `value`, a JSON object or array, is of the union's member `kind` (msgspec's unions hold one of each)."""
    if type(value) is dict:
        return isinstance(kind, (inspect.StructType, inspect.TypedDictType, inspect.DataclassType, inspect.DictType))
    if type(value) is list:
        return isinstance(kind, (inspect.ListType, inspect.SetType, inspect.FrozenSetType, inspect.VarTupleType))
    return False
