"""The HaloPSA sandbox's records: type checks by :mod:`bulkload.targets.halopsa_schema`, atomic array saves
(create, or update when ``id`` is set), the list filters, and secrets kept apart from what is returned.

Checks are strict, as a typed API's are: an integer field takes a JSON integer (not ``"5"``, not
``1.5``, not ``true``), a string field a string, a date-time field an ISO 8601 string; ``null`` is taken
everywhere and stored. Unknown fields and read-only ones are ignored on input. An ``id`` must name a
stored record of the resource (``null`` or no ``id`` creates). Trigger fields such as ``_exchangecode``
are stored as given and do nothing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from bulkload.targets.halopsa_schema import LIST_FILTERS, RESOURCES, Field

__all__ = ["FilterError", "Store", "item_problems"]

_KIND_WORDS = {
    "int": "must be an integer",
    "float": "must be a number",
    "str": "must be a string",
    "bool": "must be true or false",
    "datetime": "must be an ISO 8601 date-time string",
    "object": "must be an object",
    "array": "must be an array",
}
_FIELDS: dict[str, dict[str, Field]] = {name: {f.name: f for f in fields} for name, fields in RESOURCES.items()}
_READ_ONLY: dict[str, tuple[str, ...]] = {
    name: tuple(f.name for f in fields if f.read_only) for name, fields in RESOURCES.items()
}


def _fits(kind: str, value: Any) -> bool:
    if value is None:
        return True
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if not isinstance(value, str):  # datetime
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def item_problems(resource: str, item: Any, known: Mapping[int, object]) -> list[tuple[str, str]]:
    """(field, message) for everything wrong with one item of a POST to ``resource``; [] when it is fine."""
    if not isinstance(item, dict):
        return [("", "must be an object")]
    fields = _FIELDS[resource]
    problems = []
    for name, value in item.items():
        field = fields.get(name)
        if field is None or field.read_only or _fits(field.kind, value):
            continue
        problems.append((name, _KIND_WORDS[field.kind]))
    record_id = item.get("id")
    if isinstance(record_id, int) and not isinstance(record_id, bool) and record_id not in known:
        problems.append(("id", f"no {resource} with id {record_id}"))
    return problems


class FilterError(ValueError):
    """A list filter or paging parameter with a value of the wrong type."""


def _flag(query: Mapping[str, str], name: str, default: bool) -> bool:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise FilterError(f"{name} must be true or false, not {raw!r}")


class Store:
    """Every resource's records (public fields) and their secrets, kept apart; ids count from 1 per resource."""

    def __init__(self) -> None:
        self.records: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in RESOURCES}
        self.secrets: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in RESOURCES}
        self._last_id = dict.fromkeys(RESOURCES, 0)
        #: when each record was created (time.monotonic), for a listing that lags (`listed_by`)
        self.created_at: dict[str, dict[int, float]] = {name: {} for name in RESOURCES}

    def problems(self, resource: str, items: list[Any]) -> list[dict[str, Any]]:
        """Every bad item's problems as ``{"index", "field", "message"}``; [] when the array can be saved."""
        known = self.records[resource]
        return [
            {"index": index, "field": field, "message": message}
            for index, item in enumerate(items)
            for field, message in item_problems(resource, item, known)
        ]

    def save(self, resource: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create or update each item in order (call :meth:`problems` first); the saved records, public view."""
        fields = _FIELDS[resource]
        records, secrets = self.records[resource], self.secrets[resource]
        saved = []
        for item in items:
            record_id = item.get("id")
            if record_id is None:
                self._last_id[resource] += 1
                record_id = self._last_id[resource]
                records[record_id], secrets[record_id] = {}, {}
                self.created_at[resource][record_id] = time.monotonic()
            for name, value in item.items():
                field = fields.get(name)
                if field is None or field.read_only or name == "id":
                    continue
                (secrets if field.secret else records)[record_id][name] = value
            saved.append(self.public(resource, record_id))
        return saved

    def public(self, resource: str, record_id: int) -> dict[str, Any]:
        """What the API returns for a record: its fields without secrets, with the server's read-only ones."""
        server = dict.fromkeys(_READ_ONLY[resource])
        return {"id": record_id, **self.records[resource][record_id], **server}

    def listed_by(self, resource: str, rows: list[dict[str, Any]], lag_s: float) -> list[dict[str, Any]]:
        """`rows` (public records of `resource`) as a read replica `lag_s` seconds behind lists them: without the
        records created less than `lag_s` ago."""
        if lag_s <= 0:
            return rows
        created, now = self.created_at[resource], time.monotonic()
        return [r for r in rows if created.get(r["id"], 0.0) <= now - lag_s]

    def delete(self, resource: str, record_id: int) -> bool:
        self.created_at[resource].pop(record_id, None)
        self.secrets[resource].pop(record_id, None)
        return self.records[resource].pop(record_id, None) is not None

    def matching(self, resource: str, query: Mapping[str, str]) -> list[dict[str, Any]]:
        """The public records the list's filters keep, by id (FilterError for a malformed filter).

        ``connectedonly=true`` keeps authorized connections (``authorized`` or ``isauthorized`` true);
        ``tenantid``, ``companyid`` and ``division`` compare ``tenant_id``, ``company_id`` and ``division``
        as text; Kashflow lists enabled integrations unless ``includeenabled=false`` and disabled ones
        (``enabled`` false) only with ``includedisabled=true``. A filter the document lists for a
        resource without a field to compare it with (Sage's and Kashflow's ``tenantid``) is checked for
        its type and otherwise ignored; filters a resource does not list are ignored.
        """
        allowed = LIST_FILTERS[resource]
        fields = _FIELDS[resource]
        tests: list[tuple[str, Any]] = []  # (field, wanted value)
        if "connectedonly" in allowed and _flag(query, "connectedonly", False):
            tests.append(("authorized" if "authorized" in fields else "isauthorized", True))
        for name, field in (("tenantid", "tenant_id"), ("companyid", "company_id"), ("division", "division")):
            value = query.get(name) if name in allowed else None
            if value and field in fields:
                tests.append((field, value))
        if resource == "KashflowDetails" and (tenant := query.get("tenantid")) and not tenant.lstrip("-").isdigit():
            raise FilterError(f"tenantid must be an integer, not {tenant!r}")
        enabled = _flag(query, "includeenabled", True) if "includeenabled" in allowed else True
        disabled = _flag(query, "includedisabled", False) if "includedisabled" in allowed else True
        out = []
        for record_id in sorted(self.records[resource]):
            record = self.records[resource][record_id]
            if any(
                (record.get(field) is not True) if wanted is True else str(record.get(field)) != wanted
                for field, wanted in tests
            ):
                continue
            if not (disabled if record.get("enabled") is False else enabled):
                continue
            out.append(self.public(resource, record_id))
        return out
