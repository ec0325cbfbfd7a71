"""HTTP pieces the e-conomic sandbox's handlers share: auth and media-type checks, query parsing,
sorting, and the 404 / 409 answers."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bulkload.sandbox.common import json_response, problem, utc_now
from bulkload.sandbox.filters import Field, Filter, FilterError

PREFIX = "/journalsapi/v11.0.2"
DEMO = ("demo", "demo")
JSON_TYPES = frozenset({"application/json", "text/json"})


def conflict(errors: list[dict[str, Any]]) -> web.Response:
    """The 409 of a stale objectVersion, in the body shape the seed shows (plus which items)."""
    return json_response(
        {
            "message": "Update conflict. Version does not match.",
            "developerHint": (
                "The resource has been updated by another user. Retrieve the resource/object and try "
                "the update again. This is needed in order to prevent you from rolling back another "
                "user's update."
            ),
            "logId": str(uuid.uuid4()),
            "logTimeUtc": utc_now(),
            "property": "version",
            "errorCode": "UpdateConflict",
            "errors": errors,
        },
        409,
    )


def not_found(request: web.Request, detail: str, code: str) -> web.Response:
    return problem(404, "Not Found", detail, error_code=code, instance=request.path)


def query_filter(request: web.Request, fields: Mapping[str, Field]) -> Filter | None:
    """The ``filter`` query parameter compiled against ``fields`` (FilterError → 400), None without one."""
    text = request.query.get("filter")
    return Filter(text, fields) if text else None


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high]; anything else is a FilterError (400)."""
    text = request.query.get(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise FilterError(f"{name} must be an integer, got {text!r}") from None
    if not low <= value <= high:
        raise FilterError(f"{name} must be between {low} and {high}, got {value}")
    return value


SortKey = tuple[str, bool, bool]  # property, descending, alphabetical


def parse_sort(text: str, sortable: frozenset[str]) -> list[SortKey]:
    keys: list[SortKey] = []
    for part in filter(None, text.split(",")):
        desc, part = part.startswith("-"), part.lstrip("-")
        alpha, part = part.startswith("~"), part.lstrip("~")
        if part not in sortable:
            raise FilterError(f"{part!r} is not sortable (sortable: {', '.join(sorted(sortable))})")
        keys.append((part, desc, alpha))
    return keys


def sort_rows(rows: list[Any], keys: list[SortKey]) -> list[Any]:
    # stable sorts from the least to the most significant key allow mixed directions
    for prop, desc, alpha in reversed(keys):
        rows.sort(
            key=(lambda r, p=prop: str(getattr(r, p))) if alpha else (lambda r, p=prop: getattr(r, p)),
            reverse=desc,
        )
    return rows


def auth_middleware(tokens: tuple[str, str] | None) -> Middleware:
    """401 without both tokens (or with the wrong ones), 403 for writes with the demo agreement."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(PREFIX):
            return await handler(request)
        pair = (request.headers.get("X-AppSecretToken", ""), request.headers.get("X-AgreementGrantToken", ""))
        if not all(pair) or (tokens is not None and pair != tokens and pair != DEMO):
            return problem(
                401,
                "Unauthorized",
                "X-AppSecretToken and X-AgreementGrantToken are missing or wrong.",
                error_code="Unauthorized",
                instance=request.path,
            )
        if pair == DEMO and request.method != "GET":
            return problem(
                403,
                "Forbidden",
                "The demo agreement may only do GET requests.",
                error_code="Forbidden",
                instance=request.path,
            )
        if request.method in ("POST", "PUT") and request.body_exists and request.content_type not in JSON_TYPES:
            return problem(
                415,
                "Unsupported Media Type",
                f"We're a JSON API: send Content-Type: application/json, not {request.content_type!r}.",
                error_code="UnsupportedMediaType",
                instance=request.path,
            )
        try:
            return await handler(request)
        except FilterError as exc:
            return problem(400, "Bad Request", str(exc), error_code="InvalidFilter", instance=request.path)

    return middleware
