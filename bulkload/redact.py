"""The credentials this process knows, in one place, and the scrubbing of every text an API answered.

An API may quote the request it refuses — its headers (``X-AppSecretToken``, ``api_secret``, ``Authorization:
Bearer …``) or its body (a token request's ``client_secret=…``) — in an error message. Each credential value is
registered here as it becomes known (the configured ones when a target reads them, an OAuth access token when it
is obtained), and ``redact`` shows every registered value as ``***``, in any letter case (a server may echo a
header upper-cased): as written, URL-encoded (a form body, a query), JSON- or repr-escaped (a message quoting a dict
or a body; any character as ``\\uXXXX``), HTML-escaped (an error page: ``&amp;``, ``&#39;``, ``&#x27;``),
base64 (a value an API quotes encoded, alone or inside a JSON body that escapes it), quoted-printable (a mail-like
dump: ``=3D``), a JSON escape URL-encoded (``%5Cu00f8``), a letter beyond ASCII as its byte of Latin-1 or
Windows-1252 percent-encoded or quoted-printable (``%F8``), its UTF-8 or UTF-16 bytes in hex (``0x``-prefixed too) or
its UTF-8 bytes read as Latin-1 or Windows-1252 (a server taking a header's bytes for ISO-8859-1); and each of
these split by line breaks (an answer wrapping its lines at a width, as a diagnostic page or a mail-like dump does),
real ones or escaped (``\\n`` in JSON), quoted-printable's soft ones (``=`` at a line's end) or an HTML page's
``<br>``.

``redact`` also shows as ``***`` the value of every key in quotes whose name says it is a secret
(masking.masked_secret_keys): an error may quote a record the run sent, its secrets in clear, JSON-escaped inside an
answer's body, and no one row's values are known to every writer.

It is applied where an answer is read (``http.error_from``: the message and the items of every APIError) and again
by the writers of everything a user sees or keeps (stderr, the report, the rejects, in-doubt and success files,
the ledger), so a text that skipped the first still loses its credentials at the last.
"""

from __future__ import annotations

import base64
import bisect
import functools
import json
import re
import threading
import urllib.parse
from typing import Any

from .masking import holds_urlencoded_escape, masked_secret_keys, secret_name, spelled

#: what a credential is shown as
MASK = "***"
#: shorter values are not registered: they would mask every word that holds them
MIN_LENGTH = 4

_lock = threading.Lock()
_values: set[str] = set()
#: the regex of every registered value's forms, and (key True) the one that also finds an escape URL-encoded
#: (masking.spelled's `urlencoded`) for a text that may hold one (masking.holds_urlencoded_escape): each made of
#: `_ordered` when a text first needs it (`_compiled`), none after a registration
_patterns: dict[bool, re.Pattern[str]] = {}
#: the registered values, the longest first, as the patterns hold them
_ordered: tuple[str, ...] = ()
_kept: set[str] = set()
_kept_pattern: re.Pattern[str] | None = None
#: every registered value and its `_encoded` forms, lower-cased, where all are ASCII (else None): an ASCII text
#: without them and without `_ESCAPING` holds none of them, which `redact` tells without its regex (16 µs a reason
#: of 130 characters before: 10 s of a load's CPU that wrote 200,000 of them, t46d). Not of other values or texts:
#: the regex's letter case reaches further than lower() (`İ` matches `I`)
_folded: tuple[str, ...] | None = ()


#: what a hex dump writes between two bytes (`53 c3 ab`, `53:C3:AB`, `53-c3-ab`, as bytes.hex(sep) and Wireshark do;
#: a tab, as cells of a spreadsheet: t60a)
_HEX_SEPARATORS = (" ", ":", "-", "\t")
#: ... and between two bytes each written `0x53` (a C array, a debugger; a tab or `;`: t60a)
_HEX_PREFIXED_SEPARATORS = (" ", ",", ", ", "", "\t", ";", "; ")


def _encoded(value: str) -> set[str]:
    """`value` base64-encoded (with or without its padding), its UTF-8 bytes in hex (a diagnostic dumping a
    header's bytes: before, such an echo was shown whole, tester t36f) and its UTF-16 ones (a .NET server's strings,
    either byte order), also a byte apart (`_HEX_SEPARATORS`: before, `53 c3 ab …` was shown whole, tester t54b),
    and `_misread`. Quoted-printable is masking.spelled's, a character at a time (`=3D`)."""
    raw = value.encode()
    encoded = {base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    for data in (raw, value.encode("utf-16-le", "surrogatepass"), value.encode("utf-16-be", "surrogatepass")):
        encoded |= {data.hex(), *(data.hex(sep) for sep in _HEX_SEPARATORS)}
    # each byte `0x`-prefixed, as a C array or a debugger dumps them (tester t59b)
    encoded |= {sep.join(f"0x{byte:02x}" for byte in raw) for sep in _HEX_PREFIXED_SEPARATORS}
    # inside a JSON body that escapes it (`ø` as `\u00f8` where ASCII only is written, `"` as `\"`), then base64
    amid = _amid_base64(raw)
    for escaped in {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]} - {value}:
        amid |= _amid_base64(escaped.encode())
    return encoded | {form.rstrip("=") for form in encoded} | amid | _misread(raw)


#: the fewest characters of base64 a value's bytes give alone, inside a longer text encoded, that are masked
_AMID_BASE64 = 16


def _amid_base64(raw: bytes) -> set[str]:
    """The base64 characters the bytes `raw` give alone where they are encoded inside a longer text (a Basic
    authorization's `key:secret`, a request dumped in base64), at each of the three offsets a byte may start at:
    those no byte before or after them changes; only where there are `_AMID_BASE64` of them or more, which no other
    text matches by chance. Before, `base64("key:" + secret)` was shown whole (tester t49e)."""
    forms = set()
    for offset in range(3):
        whole = (len(raw) - (3 - offset) % 3) // 3  # groups of three bytes wholly of `raw` after the first
        first = (0, 2, 3)[offset]  # the first characters hold bits of the bytes before
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(bytes(offset) + raw).decode()
            form = text[first : (4 if offset else 0) + 4 * whole]
            if len(form) >= _AMID_BASE64:
                forms.add(form)
    return forms


def _misread(raw: bytes) -> set[str]:
    """The UTF-8 bytes `raw` of a value that is not ASCII read as Latin-1 and as Windows-1252 (its five undefined
    bytes as Latin-1, as browsers read it): how a server that takes a header's bytes for ISO-8859-1 (HTTP's old
    charset of header values) quotes it (`ø€` as `Ã¸â‚¬`). Before, a Visma Core token holding `ø€` so echoed in a
    refusal was shown in the rejects file, the ledger and the log (tester t49e)."""
    if raw.isascii():
        return set()
    cp1252 = "".join(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in raw)
    return {raw.decode("latin-1"), cp1252}


def _forms(value: str, urlencoded: bool = False) -> list[str]:
    """Regexes for the ways a text may quote `value`: masking.spelled (as written, JSON- or repr-escaped once or
    more, URL-encoded, HTML-escaped; escapes' hex digits in either case; `urlencoded`: escapes URL-encoded too), and
    `_encoded` (matched in either case)."""
    # the longest first: an alternation takes the first form that matches, and the unpadded one is a prefix
    return [spelled(value, urlencoded), *map(re.escape, sorted(_encoded(value), key=len, reverse=True))]


#: the characters every spelling of a character but itself in another case starts with or holds (masking.
#: _char_spellings: an HTML entity, a percent-encoding, an escape, a space as `+`, quoted-printable's `=XX`)
_ESCAPING = frozenset("&%\\+=")


def register(*values: str | None) -> None:
    """Credentials to be shown as ``***`` in whatever an API answers or the run writes from now on."""
    global _ordered, _folded
    with _lock:  # the set changed under the lock: of two registrations at once in two threads, neither is lost
        new = {v.strip() for v in values if v and len(v.strip()) >= MIN_LENGTH}
        # a value starting with backslashes, also without them: quoted after text that ends in backslashes
        # (`C:\\dir\\`, `%5C`), its escaped run is one no escaping of it gives, where the spelling may not start
        # (masking.spelled starts nowhere inside a run, which keeps it linear): its rest is masked there (t61c)
        new |= {core for v in new if len(core := v.lstrip("\\")) >= MIN_LENGTH and core != v}
        new -= _values
        if not new:
            return
        _values.update(new)
        # before _ordered: redact reads _ordered first, so one that sees the new _ordered sees these
        forms = [form.lower() for value in _values for form in (value, *_encoded(value))]
        _folded = tuple(forms) if all(form.isascii() for form in forms) else None
        # No compile here: each regex when a text first needs one (`_compiled`), which most texts never do
        # (`_may_hold`). A compile costs 14 ms for a token of 40 characters and 0.4 s for one of a real JWT's
        # 1,000; a HaloPSA access token's registration held the event loop that long between the token's answer and
        # the first call with it (the run's first call waits for a gap in HaloPSA's rolling window that long at every
        # window after). Cleared before _ordered is set: one that sees the new _ordered makes them of the new values.
        _patterns.clear()
        _ordered = tuple(sorted(_values, key=len, reverse=True))  # a form holding another first


def keep(*texts: str) -> None:
    """Names the user wrote that are no secret (a manifest's job and agreement names), shown whole where a text
    holds them though a credential's value occurs inside one (the job "d-demo" of the credential "demo": masked, it
    would hide which job it is and show the credential by comparison). Only an occurrence longer than the
    credential's is kept: a name that is a credential's value, as it is, is masked as one; and the credential
    anywhere else in the text (an API's answer quoting it) is masked still."""
    global _kept_pattern
    new = {form for text in texts if text for form in (text, json.dumps(text)[1:-1], repr(text)[1:-1])} - _kept
    if not new:
        return
    with _lock:
        _kept.update(new)
        _kept_pattern = re.compile("|".join(map(re.escape, sorted(_kept, key=len, reverse=True))))


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


#: a line break a text may split a credential at: as it is, or JSON- or repr-escaped (a JSON log line, a quoted body)
_BREAK = r"(?:\r\n|\r|\n|\\r\\n|\\r|\\n)"
#: an HTML page's line break (`<br>`, `<BR/>`, `<br />`), where a page wraps a long value (tester t59b)
_HTML_BREAK = r"<br\s*/?>"
#: the ways a text's lines are joined again to find a credential they split: the breaks alone (a value holding spaces,
#: split at one, keeps them), the breaks with the indentation around them (a wrapped line indented), quoted-printable's
#: soft breaks, `=` at a line's end (RFC 2045 §6.7 rule 5: a line longer than 76 characters), and an HTML page's
#: `<br>`s with the white space around them. A join starts nowhere inside a run of white space but at its first: each
#: start inside it read the run to its end again, and a text of 40,000 spaces and a line break took 15 s to redact.
#: Each with what it leaves between two lines: nothing, or, for any break of either kind with the white space around
#: it, one space (a hex dump wrapped at 16 bytes a line, `0x64\n0x32`, or a C array, `0x5f,\n    0x51`, where its
#: bytes are written `0x64 0x32` and `0x5f, 0x51`; a value holding a space wrapped at it, `pass<br> word`: tester t60a)
_JOINS = (
    (re.compile(_BREAK), ""),
    (re.compile(rf"(?<![ \t])[ \t]*(?:{_BREAK}[ \t]*)+"), ""),
    (re.compile(rf"={_BREAK}"), ""),
    (re.compile(rf"(?<!\s)\s*{_HTML_BREAK}(?:\s*{_HTML_BREAK})*\s*", re.IGNORECASE), ""),
    (re.compile(rf"(?<!\s)\s*(?:(?:{_BREAK}|{_HTML_BREAK})\s*)+", re.IGNORECASE), " "),
)
#: a text `_JOINS` may join lines of: it holds a line break or an HTML one
_BROKEN = re.compile(r"[\r\n]|\\[rn]|<br", re.IGNORECASE)


def _may_hold(text: str) -> bool:
    """False where `text` holds no registered form, as told without the regex: an ASCII text without `_ESCAPING` and
    without any of `_folded` (in any case); True where it may."""
    folded = _folded
    if folded is not None and text.isascii() and _ESCAPING.isdisjoint(text):
        lowered = text.lower()
        return any(form in lowered for form in folded)  # only a form `_folded` holds, in another case, could be there
    return True


def _split_by_breaks(text: str, urlencoded: bool) -> str:
    """`text` with every registered form (`_compiled(urlencoded)`) that line breaks split masked whole, the breaks in
    it too (before, an answer wrapped at 20 columns showed a token in pieces in the rejects file, the ledger and the
    log: tester t49e). A form no break splits is left for `redact`'s own pass."""
    spans: list[tuple[int, int]] = []
    for join, glue in _JOINS:
        # each piece between breaks: where it starts in the joined text (the pieces `glue`d), and in `text`
        starts: list[int] = []
        origins: list[int] = []
        kept: list[str] = []
        at = length = 0
        for start, end in [*(m.span() for m in join.finditer(text)), (len(text), len(text))]:
            starts.append(length)
            origins.append(at)
            kept.append(text[at:start])
            length += start - at + len(glue)
            at = end
        if len(kept) == 1:  # no such break
            continue
        joined = glue.join(kept)
        # a break may split the very `%5C` an escape URL-encoded starts with (`%5<br>Cu00f8`): whether the joined text
        # holds one, not `text` (before, the plain pattern read it, and the credential was shown: tester t61c)
        wider = urlencoded or holds_urlencoded_escape(joined)
        if not _may_hold(joined) or (pattern := _compiled(wider)) is None:
            continue
        for found in pattern.finditer(joined):
            first = bisect.bisect_right(starts, found.start()) - 1
            last = bisect.bisect_right(starts, found.end() - 1) - 1
            if first != last:  # a break splits it
                spans.append(
                    (origins[first] + found.start() - starts[first], origins[last] + found.end() - starts[last])
                )
    out, at = [], 0
    for start, end in sorted(spans):
        if end > at:
            out.append(text[at:start] + MASK if start >= at else "")
            at = end
    return "".join(out) + text[at:]


def known() -> bool:
    """Whether any credential is registered."""
    return bool(_ordered)


def redact(text: str) -> str:
    """`text` with every registered credential, in any of its forms, as ``***``, and the value of every key in
    quotes that names a secret (masking.masked_secret_keys: a refusal quoting a record, escaped or not)."""
    if not text:
        return text
    text = masked_secret_keys(text)
    if not _ordered:
        return text
    urlencoded = holds_urlencoded_escape(text)
    if _BROKEN.search(text):
        text = _split_by_breaks(text, urlencoded)
    if not _may_hold(text) or (pattern := _compiled(urlencoded)) is None:
        return text
    kept = _kept_pattern
    if kept is None or pattern.search(text) is None:
        return pattern.sub(MASK, text)
    names = [(m.start(), m.end()) for m in kept.finditer(text)]
    if not names:
        return pattern.sub(MASK, text)
    return _keeping(text, _overlapping(pattern), names)


def _compiled(urlencoded: bool) -> re.Pattern[str] | None:
    """The regex of every registered value's forms (`urlencoded`: escapes URL-encoded too), made where none is since
    the last registration; None where none is registered (forgotten meanwhile). In any case: a server may echo a
    header upper-cased (or lower-cased) in its diagnostics, and a hex or lower-case key so echoed is the key all the
    same."""
    if (pattern := _patterns.get(urlencoded)) is not None:
        return pattern
    with _lock:
        if (pattern := _patterns.get(urlencoded)) is None and _ordered:
            forms = "|".join(form for value in _ordered for form in _forms(value, urlencoded))
            pattern = _patterns[urlencoded] = re.compile(forms, re.IGNORECASE)
        return pattern


@functools.lru_cache(maxsize=4)
def _overlapping(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """Every occurrence of what `pattern` finds, overlapping ones too (each start's longest), in group 1."""
    return re.compile(f"(?=({pattern.pattern}))", re.IGNORECASE)


def _keeping(text: str, anywhere: re.Pattern[str], names: list[tuple[int, int]]) -> str:
    """`text` with every occurrence of a registered form (`anywhere` finds them, overlapping ones too: none is left
    part shown) masked but those inside one of `names` (start, end: occurrences of kept names) longer than it."""
    masked = [False] * len(text)
    for found in anywhere.finditer(text):
        start, end = found.span(1)
        if not any(a <= start and end <= b and b - a > end - start for a, b in names):
            masked[start:end] = [True] * (end - start)
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and masked[j] == masked[i]:
            j += 1
        out.append(MASK if masked[i] else text[i:j])
        i = j
    return "".join(out)


#: characters of a text redacted before it is cut (`cut`): far more than the longest way a credential is written
#: (a token of 2,000 characters JSON-escaped twice over, each character as six)
_CUT_WINDOW = 1 << 16


#: the characters a token is written with (a key, a code, a password without spaces): none of the delimiters of
#: JSON, a query or a sentence
_TOKEN = r"[^\s\"'`<>(){}\[\],;:=&]"
#: the run of token characters that ends a text
_TOKEN_TAIL = re.compile(_TOKEN + r"+\Z")


def cut(text: str, limit: int, more: str = "") -> str:
    """`text` redacted, then cut to its first `limit` characters, `more` after them where it was cut. A text is
    never cut before it is redacted: a credential the cut went through would no longer be found whole, and its start
    shown (tester t36f: an error page quoting X-AppSecretToken near its 200th character showed the token all but
    its last characters). Nor does it end in the middle of a token (`_TOKEN`): that token's start is left out, as it
    may be a secret of a row's that the scrubs after it match whole only (masking.scrub; tester t42b: a row's OAuth
    `code`, a key no name rule masks, cut 23 characters in, in the log, the report and the ledger). Only the first
    `_CUT_WINDOW` characters are read: a long answer costs no more."""
    shown = redact(text[:_CUT_WINDOW])
    if len(shown) <= limit:
        return shown
    head = shown[:limit]
    if re.match(_TOKEN, shown[limit]) and (tail := _TOKEN_TAIL.search(head)) is not None:
        head = head[: tail.start()]
    return head + more


def redact_data(value: Any) -> Any:
    """A JSON-like value (an API's error items, a report) with every string in it redacted, keys included, and the
    string a key naming a secret holds (masking.secret_name) as ``***``, as `redact` masks it in a text."""
    if type(value) is str:
        return redact(value)
    if type(value) is dict:
        return {
            redact_data(k): MASK if type(v) is str and v and secret_name(k) else redact_data(v)
            for k, v in value.items()
        }
    if type(value) is list:
        return [redact_data(v) for v in value]
    return value


def forget() -> None:
    """Drop every registered credential and kept name (tests)."""
    global _kept_pattern, _ordered, _folded
    with _lock:
        _values.clear()
        _kept.clear()
        _patterns.clear()
        _kept_pattern = None
        _ordered = ()
        _folded = ()
