"""The e-conomic ``filter=`` language: parse once into a tree, compile to a fast predicate.

    name$eq:Joe$and:(city$like:*port$or:age$lt:40)

``$and:`` binds tighter than ``$or:``; parentheses set affinity. Escapes: ``$$ $( $) $* $, $[ $]``;
``$null:`` is the null value; ``$in:[a,b,$null:]`` lists hold at most 200 values. ``$like:`` takes ``*``
wildcards and is a "contains" match without them. Strings compare case-insensitively. Values are typed
by the property they filter; a property or operator the schema does not allow raises FilterError.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import reduce
from typing import Any, Literal, cast

import msgspec

Kind = Literal["int", "float", "str", "datetime", "bool"]
Predicate = Callable[[Any], bool]

COMPARE = frozenset({"eq", "ne", "lt", "lte", "gt", "gte"})
LISTED = COMPARE | {"in", "nin"}
OPERATORS = LISTED | {"like"}
MAX_LIST = 200
_ESCAPABLE = "$()*,[]"
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


class FilterError(ValueError):
    """The filter cannot be parsed, or asks for a property or operator that is not filterable (HTTP 400)."""


class Field(msgspec.Struct, frozen=True):
    """How a property may be filtered: the type its values are read as and the operators allowed."""

    kind: Kind
    ops: frozenset[str] = LISTED


class _Null:
    """The ``$null:`` value."""

    def __repr__(self) -> str:
        return "$null:"


NULL = _Null()
#: a scalar as written: literal text pieces, with None standing for an unescaped ``*`` wildcard
Raw = tuple[str | None, ...]


class Cond(msgspec.Struct, frozen=True):
    prop: str
    op: str
    value: Raw | _Null | tuple[Raw | _Null, ...]


class And(msgspec.Struct, frozen=True):
    items: tuple[Node, ...]


class Or(msgspec.Struct, frozen=True):
    items: tuple[Node, ...]


Node = Cond | And | Or


def parse(text: str) -> Node:
    """The syntax tree of a filter string; checks syntax only, not the schema."""
    parser = _Parser(text)
    node = parser.parse_or()
    if parser.pos != len(text):
        raise FilterError(f"unexpected {text[parser.pos]!r} at position {parser.pos}")
    return node


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _at(self, token: str) -> bool:
        return self.text.startswith(token, self.pos)

    def parse_or(self) -> Node:
        return self._chain("$or:", self.parse_and, Or)

    def parse_and(self) -> Node:
        return self._chain("$and:", self.parse_primary, And)

    def _chain(self, token: str, operand: Callable[[], Node], group: type[And | Or]) -> Node:
        items = [operand()]
        while self._at(token):
            self.pos += len(token)
            items.append(operand())
        return items[0] if len(items) == 1 else group(tuple(items))

    def parse_primary(self) -> Node:
        if self._at("("):
            self.pos += 1
            node = self.parse_or()
            if not self._at(")"):
                raise FilterError(f"missing ')' at position {self.pos}")
            self.pos += 1
            return node
        return self.parse_cond()

    def parse_cond(self) -> Cond:
        text = self.text
        dollar = text.find("$", self.pos)
        prop = text[self.pos : dollar] if dollar >= 0 else text[self.pos :]
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", prop):
            raise FilterError(f"expected a property name at position {self.pos}, got {prop!r}")
        colon = text.find(":", dollar)
        op = text[dollar + 1 : colon] if colon >= 0 else ""
        if op not in OPERATORS:
            raise FilterError(f"unknown operator after {prop!r} at position {dollar}")
        self.pos = colon + 1
        if op in ("in", "nin"):
            return Cond(prop, op, self._list())
        return Cond(prop, op, self._scalar(in_list=False))

    def _list(self) -> tuple[Raw | _Null, ...]:
        if not self._at("["):
            raise FilterError(f"$in:/$nin: need a [list] at position {self.pos}")
        self.pos += 1
        values = [self._scalar(in_list=True)]
        while self._at(","):
            self.pos += 1
            values.append(self._scalar(in_list=True))
        if not self._at("]"):
            raise FilterError(f"missing ']' at position {self.pos}")
        self.pos += 1
        if len(values) > MAX_LIST:
            raise FilterError(f"$in:/$nin: lists hold at most {MAX_LIST} values, got {len(values)}")
        return tuple(values)

    def _scalar(self, *, in_list: bool) -> Raw | _Null:
        text, n = self.text, len(self.text)
        pieces: list[str | None] = []
        buf: list[str] = []
        while self.pos < n:
            c = text[self.pos]
            if c == "$":
                if self._at("$and:") or self._at("$or:"):
                    break
                if self._at("$null:"):
                    if buf or pieces:
                        raise FilterError(f"$null: cannot be part of a value (position {self.pos})")
                    self.pos += 6
                    return NULL
                nxt = text[self.pos + 1 : self.pos + 2]
                if not nxt or nxt not in _ESCAPABLE:
                    raise FilterError(f"unknown escape '${nxt}' at position {self.pos}")
                buf.append(nxt)
                self.pos += 2
                continue
            if c == ")" or (in_list and c in ",]"):
                break
            if c == "(" or (in_list and c == "["):
                raise FilterError(f"unescaped {c!r} in a value at position {self.pos} (write ${c})")
            if c == "*":
                pieces.append("".join(buf))
                pieces.append(None)
                buf.clear()
            else:
                buf.append(c)
            self.pos += 1
        pieces.append("".join(buf))
        return tuple(p for p in pieces if p != "")


class Filter:
    """A parsed and schema-checked filter; ``matches(record)`` is the compiled predicate.

    Records are objects read by attribute (Structs) or, with ``mapping=True``, dicts. A value of
    ``None`` or ``msgspec.UNSET`` counts as null.
    """

    def __init__(self, text: str, fields: Mapping[str, Field], *, mapping: bool = False) -> None:
        self.text = text
        self.node = parse(text)
        self._fields = fields
        self._mapping = mapping
        self.matches: Predicate = self._compile(self.node)

    def equality(self) -> tuple[str, Any] | None:
        """``(property, typed value)`` when the whole filter is one ``$eq:`` on a non-null value."""
        node = self.node
        if isinstance(node, Cond) and node.op == "eq" and not isinstance(node.value, _Null):
            field = self._fields[node.prop]
            return node.prop, _typed(node.prop, field.kind, node.value)  # type: ignore[arg-type]
        return None

    def narrowed(self, key: str, number: str) -> tuple[Any, int, int | None, Predicate | None]:
        """Split an AND of ``key$eq:`` and bounds on ``number`` (``$gt:``/``$gte:``/``$lt:``/``$lte:``) off
        the rest, so a store can serve a range from an index: (the key's value or None, the smallest and the
        largest number that can match (None: no upper bound), what is left)."""
        items = self.node.items if isinstance(self.node, And) else (self.node,)
        value: Any = None
        lowest, highest = 0, None
        rest: list[Node] = []
        for item in items:
            if isinstance(item, Cond) and not isinstance(item.value, _Null):
                if item.prop == key and item.op == "eq" and value is None:
                    value = _typed(key, self._fields[key].kind, item.value)  # type: ignore[arg-type]
                    continue
                if item.prop == number and item.op in ("gt", "gte", "lt", "lte"):
                    bound = int(_typed(number, self._fields[number].kind, item.value))  # type: ignore[arg-type]
                    if item.op in ("gt", "gte"):
                        lowest = max(lowest, bound + (item.op == "gt"))
                    else:
                        bound -= item.op == "lt"
                        highest = bound if highest is None else min(highest, bound)
                    continue
            rest.append(item)
        if not rest:
            return value, lowest, highest, None
        return value, lowest, highest, self._compile(rest[0] if len(rest) == 1 else And(tuple(rest)))

    def _compile(self, node: Node) -> Predicate:
        if isinstance(node, Cond):
            return self._cond(node)
        preds = [self._compile(item) for item in node.items]
        if isinstance(node, And):
            return reduce(lambda a, b: lambda r: a(r) and b(r), preds)
        return reduce(lambda a, b: lambda r: a(r) or b(r), preds)

    def _cond(self, cond: Cond) -> Predicate:
        prop, op = cond.prop, cond.op
        field = self._fields.get(prop)
        if field is None:
            raise FilterError(f"property {prop!r} is not filterable")
        if op not in field.ops:
            allowed = ", ".join(sorted(field.ops)) or "none"
            raise FilterError(f"operator ${op}: is not allowed on {prop!r} (allowed: {allowed})")
        get: Callable[[Any], Any] = (lambda r: r.get(prop)) if self._mapping else operator.attrgetter(prop)
        kind = field.kind
        lower = kind == "str"
        if op in ("in", "nin"):
            assert isinstance(cond.value, tuple)
            values = [v for v in cond.value if not isinstance(v, _Null)]
            with_null = len(values) != len(cond.value)
            pool = frozenset(_typed(prop, kind, v) for v in values)  # type: ignore[arg-type]
            inside = _member(get, pool, with_null, lower)
            return inside if op == "in" else (lambda r: not inside(r))
        value = cond.value
        if isinstance(value, _Null):
            if op == "eq":
                return lambda r: _is_null(get(r))
            if op == "ne":
                return lambda r: not _is_null(get(r))
            raise FilterError(f"$null: only works with $eq:, $ne:, $in: and $nin: (property {prop!r})")
        raw = cast(Raw, value)  # a scalar: lists were handled above
        if op == "like":
            rx = _like_regex(raw)
            return lambda r: isinstance(x := get(r), str) and rx.fullmatch(x) is not None
        typed = _typed(prop, kind, raw)
        cmp = _ORDER[op]
        if lower:
            return lambda r: isinstance(x := get(r), str) and cmp(x.lower(), typed)
        if op == "eq":
            return lambda r: get(r) == typed
        if op == "ne":
            return lambda r: get(r) != typed
        return lambda r: not _is_null(x := get(r)) and cmp(x, typed)


def _is_null(value: Any) -> bool:
    return value is None or value is msgspec.UNSET


def _member(get: Callable[[Any], Any], pool: frozenset[Any], with_null: bool, lower: bool) -> Predicate:
    if lower:

        def inside(r: Any) -> bool:
            x = get(r)
            return (with_null and _is_null(x)) or (isinstance(x, str) and x.lower() in pool)
    else:

        def inside(r: Any) -> bool:
            x = get(r)
            return (with_null and _is_null(x)) or (not _is_null(x) and x in pool)

    return inside


def _like_regex(raw: Raw) -> re.Pattern[str]:
    if None not in raw:
        raw = (None, *raw, None)  # no wildcard: a "contains" match
    body = "".join(".*" if piece is None else re.escape(piece) for piece in raw)
    return re.compile(body, re.IGNORECASE | re.DOTALL)


def _typed(prop: str, kind: Kind, raw: Raw) -> Any:
    if None in raw:
        raise FilterError(f"a '*' wildcard only works with $like: (property {prop!r}; write $* for a star)")
    text = "".join(raw)  # type: ignore[arg-type]
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            return {"true": True, "false": False}[text.lower()]
        if kind == "datetime":
            return normalize_datetime(text)
    except (ValueError, KeyError):
        raise FilterError(f"{text!r} is not a valid {kind} value for {prop!r}") from None
    return text.lower()


def normalize_datetime(text: str) -> str:
    """The ISO form date-times are stored and compared in: ``YYYY-MM-DDTHH:MM:SS`` (a date gets midnight)."""
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=None).isoformat(timespec="seconds")
