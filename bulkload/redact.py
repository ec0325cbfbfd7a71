"""The credentials this process knows, in one place, and the scrubbing of every text an API answered.

An API may quote the request it refuses — its headers (``X-AppSecretToken``, ``api_secret``, ``Authorization:
Bearer …``) or its body (a token request's ``client_secret=…``) — in an error message. Each credential value is
registered here as it becomes known (the configured ones when a target reads them, an OAuth access token when it
is obtained), and ``redact`` shows every registered value as ``***``: as written, URL-encoded (a form body, a
query), JSON- or repr-escaped (a message quoting a dict or a body), and base64 (a value an API quotes encoded).

It is applied where an answer is read (``http.error_from``: the message and the items of every APIError) and again
by the writers of everything a user sees or keeps (stderr, the report, the rejects, in-doubt and success files,
the ledger), so a text that skipped the first still loses its credentials at the last.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import urllib.parse
from typing import Any

#: what a credential is shown as
MASK = "***"
#: shorter values are not registered: they would mask every word that holds them
MIN_LENGTH = 4

_lock = threading.Lock()
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None


def _forms(value: str) -> set[str]:
    """The ways a text may quote `value`."""
    raw = value.encode()
    forms = {
        value,
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote_plus(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
    }
    forms |= {form.rstrip("=") for form in forms}  # base64 without its padding too
    return {form for form in forms if len(form) >= MIN_LENGTH}


def register(*values: str | None) -> None:
    """Credentials to be shown as ``***`` in whatever an API answers or the run writes from now on."""
    global _pattern
    new = {v.strip() for v in values if v and len(v.strip()) >= MIN_LENGTH} - _values
    if not new:
        return
    with _lock:
        _values.update(new)
        forms = {form for value in _values for form in _forms(value)}
        # the longest first: a form that holds another is masked whole
        _pattern = re.compile("|".join(map(re.escape, sorted(forms, key=len, reverse=True))))


def without_password(url: str) -> str:
    """A URL (a PostgreSQL ledger's or queue's) without its password (``user:password@`` as ``user@``, a
    ``password=`` parameter left out): how bulkload names it wherever it is shown, and the URL a way on gives
    (libpq then takes the password from PGPASSWORD or ~/.pgpass; one left in the URL would override them). Any
    other text (a file's path) is returned as it is."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if not parts.scheme or (parts.password is None and all(k != "password" for k, _ in query)):
        return url
    user, at, host = parts.netloc.rpartition("@")
    netloc = f"{user.split(':', 1)[0]}@{host}" if at else host
    kept = urllib.parse.urlencode([(k, v) for k, v in query if k != "password"])
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc, query=kept))


def known() -> bool:
    """Whether any credential is registered."""
    return _pattern is not None


def redact(text: str) -> str:
    """`text` with every registered credential, in any of its forms, as ``***``."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


def redact_data(value: Any) -> Any:
    """A JSON-like value (an API's error items, a report) with every string in it redacted, keys included."""
    if _pattern is None:
        return value
    if type(value) is str:
        return redact(value)
    if type(value) is dict:
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if type(value) is list:
        return [redact_data(v) for v in value]
    return value


def forget() -> None:
    """Drop every registered credential (tests)."""
    global _pattern
    with _lock:
        _values.clear()
        _pattern = None
