"""Which names hold a secret, at any depth of a row, and a value with what they hold as ``***``.

A record kind names its secret fields (RecordKind.secret_fields). A row may also hold nested values — a list or
object field (`sync_entities_list`), a CSV cell or a JSON string holding JSON text — whose keys are no field: such a
key holds a secret when it is one of the kind's secret names (any case) or its name says so (`secret_name`). The
sources mask by this rule what they show of a row (the rejects file, a bad row's text), and the engine scrubs by it
the values a message may quote (a reason, an API's answer, a reconciliation's differences). What is sent to the API
is never masked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from contextlib import suppress
from decimal import Decimal
from typing import Any

import msgspec

#: what a secret is shown as
MASK = "***"
#: shorter values are not looked for in messages: they would mask every word that holds them
MIN_SCRUB = 4
#: a name holding one of these (any case, its `_`, `-` and spaces left out: `apiKey`, `license_key`, `private-key`)
#: holds a secret: a key of an API, a license or a signature is a credential as a password is (seed 000 calls
#: Avalara's new_password its "license key"); a name holding `key` alone does not (`key` of a key-value pair) ...
_WORDS = ("secret", "password", "passwd", "passphrase", "token", "apikey", "licensekey", "licencekey", "privatekey")
#: ... unless it ends so: it describes a secret (where it lives, what kind it is) without being one
_NOT_ENDINGS = ("_url", "_uri", "_type")

#: a text that may be JSON: an object or an array, after any white space
_JSON_START = re.compile(r"\s*[\[{]")
#: a string in double or single quotes, or what is left of one at the end of a broken line
QUOTED = r""""(?:[^"\\]|\\.)*(?:"|$)|'(?:[^'\\]|\\.)*(?:'|$)"""
_KEY = r"[\w-]+"
_decode = msgspec.json.Decoder(float_hook=Decimal).decode
_encode = msgspec.json.Encoder(decimal_format="number").encode


def secret_name(name: str) -> bool:
    """True for a name that says secret, password or token, or names an API, license or private key (any case,
    however its words are joined: `_WORDS`) — except a name starting with "_" (a trigger such as
    ``_exchangecodefortoken`` or a server message, never a stored value), one containing "expir" (a timestamp such
    as ``token_expiry``) and one ending in ``_url``, ``_uri`` or ``_type``."""
    lowered = name.lower()
    if lowered.startswith("_") or "expir" in lowered or lowered.endswith(_NOT_ENDINGS):
        return False
    joined = re.sub(r"[\s_-]", "", lowered)
    return any(word in joined for word in _WORDS)


#: a credential's or an environment variable's name, as they are written: words in capitals joined by `_`, a number
#: in a word short (`KEY2`, `S3`) or a word of its own (`_2026`), as no key of random letters and digits is
#: (`F86D081884C7D659A2FEAA0C55AD015A`)
_CAPITALS = re.compile(r"_*[A-Z]+[0-9]{0,3}(?:_+(?:[A-Z]+[0-9]{0,3}|[0-9]+))*_*")


def name_shown(name: str, where: str) -> str:
    """A name the user wrote where a credential's or its variable's name belongs, as a message shows it: itself
    where it is written as those names are (`_CAPITALS`: words in capitals); else `where` names it, never itself: a
    token of letters, digits and `_` (`sk_live_Q7zX…`, an upper-case hex key) is a name as well, and one written
    there, or a line's name and value swapped, would be the credential (tester t49e: shown on stdout, in fleet.json
    and `bulkload status`; t50c: a key of upper-case hex so swapped was shown, being in capitals)."""
    if _CAPITALS.fullmatch(name):
        return name
    return f"{where} (not shown: a name not in capitals may be the credential itself)"


def secret_rule(names: Collection[str]) -> Callable[[str], bool]:
    """Whether a key inside a nested value holds a secret: one of `names` (a kind's secret fields, any case), or
    a `secret_name`."""
    lowered = frozenset(name.lower() for name in names)
    return lambda key: key.lower() in lowered or secret_name(key)


def filled(value: Any) -> bool:
    """Whether a value shows something (a secret's empty value is shown as it is)."""
    return value is not None and str(value).strip() != ""


#: the members of a key-value pair (HaloPSA's `sync_entities_list`, "key-value pairs"; a KeyPair) that name it
_PAIR_NAMES = frozenset({"key", "name"})


def pair_secret(value: Mapping[str, Any], secret: Callable[[str], bool]) -> str | None:
    """The member of a key-value pair that holds its value, where the pair's name says it is a secret
    (`{"key": "api_password", "value": "…"}`: the name is a value, not a key, so no key says it), else None."""
    names = [v for k, v in value.items() if type(k) is str and k.lower() in _PAIR_NAMES]
    if not any(type(n) is str and secret(n) for n in names):
        return None
    return next((k for k in value if type(k) is str and k.lower() == "value"), None)


def masked(value: Any, secret: Callable[[str], bool]) -> Any:
    """A JSON value (a row, a field's value) with what every `secret` key holds as ``***``, at any depth (and the
    value of a key-value pair whose name is a secret's, `pair_secret`); a string holding JSON text masked as
    `masked_text` masks it. Where nothing is secret, the value itself."""
    if type(value) is dict:
        held = pair_secret(value, secret)
        return {k: MASK if (secret(k) or k == held) and filled(v) else masked(v, secret) for k, v in value.items()}
    if type(value) is list:
        return [masked(v, secret) for v in value]
    if type(value) is str and _JSON_START.match(value):
        return masked_text(value, secret)
    return value


def masked_text(text: str, secret: Callable[[str], bool]) -> str:
    """A text that may hold JSON (a CSV cell, a JSON string) with what every `secret` key in it holds as ``***``:
    JSON read, masked and written again (its numbers as written); a text that is not JSON by `masked_keys`. A text
    that holds no secret is returned as it is, byte for byte."""
    if not _JSON_START.match(text):
        return text
    try:
        value = _decode(text.encode("utf-8", "surrogateescape"))
    except (msgspec.DecodeError, UnicodeError, RecursionError):
        return masked_keys(text, secret)[0]
    shown = masked(value, secret)
    return text if shown == value else _encode(shown).decode()


def mask_under(value: Any, secret: Callable[[str], bool]) -> str | None:
    """The first `secret` key inside a nested value (an object or array, or text of one) that holds ``***`` where
    the rejects file writes it for a secret (a rejects file loaded again, its secrets not typed in), else None: in
    JSON as `masked` writes it, in text that is not JSON as `masked_keys` does (`masked_key`)."""
    if type(value) is str:
        if MASK not in value or not _JSON_START.match(value):
            return None
        try:
            value = _decode(value.encode("utf-8", "surrogateescape"))
        except (msgspec.DecodeError, UnicodeError, RecursionError):
            return masked_key(value, secret)
    if type(value) is dict:
        held = pair_secret(value, secret)
        for k, v in value.items():
            if k == held and type(v) is str and v.strip() == MASK:
                return next(str(n) for m, n in value.items() if type(m) is str and m.lower() in _PAIR_NAMES)
            if (key := k if secret(k) and type(v) is str and v.strip() == MASK else mask_under(v, secret)) is not None:
                return key
    elif type(value) is list:
        for v in value:
            if (key := mask_under(v, secret)) is not None:
                return key
    return None


#: a key (quoted in either quotes or not), `:` or `=`, and its value, as far as a broken text lets them be found
_KEY_VALUE = re.compile(rf"""((?<![\w-])["']?({_KEY})["']?\s*[:=]\s*)({QUOTED}|[^\s,&;}}\]][^,&;}}\]]*)""")


def masked_keys(text: str, secret: Callable[[str], bool], known: re.Pattern[str] | None = None) -> tuple[str, int]:
    """A text that is not JSON (a broken line or cell, a Python dict's repr, a form) with the value after each
    `secret` key as ``***``, in the quotes it had, and how many were masked. `known`: a pattern of further keys
    (names with characters a bare key has not: a --columns name with a space), tried first."""
    count = 0

    def mask(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        value = match[3]
        quote = value[0] if value[0] in "\"'" else ""
        return f"{match[1]}{quote}{MASK}{quote}"

    return _secret_values(text, secret, _KEY_VALUE if known is None else _with_keys(known), mask), count


def masked_key(text: str, secret: Callable[[str], bool]) -> str | None:
    """The first `secret` key of a text that is not JSON whose value is ``***`` (in quotes or not), as
    `masked_keys` writes it there (a cell of a rejects file), else None: the same keys, found the same way."""
    found: list[str] = []

    def look(match: re.Match[str]) -> str:
        value = match[3].strip()
        if not found and (value if value[:1] not in "\"'" else value[1:-1]) == MASK:
            found.append(match[2])
        return match[0]

    _secret_values(text, secret, _KEY_VALUE, look)
    return found[0] if found else None


def _secret_values(
    text: str, secret: Callable[[str], bool], pattern: re.Pattern[str], at: Callable[[re.Match[str]], str]
) -> str:
    """`text` with each `pattern` match (key, separator, value: `_KEY_VALUE`) of a `secret` key as `at` writes it,
    at any depth: the one walk both `masked_keys` and `masked_key` take, so what one masks the other finds."""

    def visit(match: re.Match[str]) -> str:
        if secret(match[2]):
            return at(match)
        value = match[3]
        if value[0] in "{[":  # a key's nested value runs on past the first comma: the keys inside it are looked at
            return match[1] + value[0] + pattern.sub(visit, value[1:])
        return match[0]

    return pattern.sub(visit, text)


def _with_keys(known: re.Pattern[str]) -> re.Pattern[str]:
    return re.compile(_KEY_VALUE.pattern.replace(f"({_KEY})", f"({known.pattern}|{_KEY})", 1))


def secret_texts(record: Mapping[str, Any], names: Collection[str]) -> list[str]:
    """The text of every secret value in a record, to be scrubbed from a message that may quote it: each of the
    `names` fields' (the strings of an object or a list, one by one), and what a key inside a nested value holds
    where `secret_rule` calls it secret."""
    out: list[str] = []
    rule = secret_rule(names)

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif value is not None:
            out.append(str(value).strip())

    def nested(value: Any) -> None:
        if type(value) is str and _JSON_START.match(value):
            try:
                value = _decode(value.encode("utf-8", "surrogateescape"))
            except (msgspec.DecodeError, UnicodeError, RecursionError):
                return
        if isinstance(value, Mapping):
            held = pair_secret(value, rule)
            for key, item in value.items():
                walk(item) if rule(key) or key == held else nested(item)
        elif isinstance(value, list | tuple):
            for item in value:
                nested(item)

    for name, value in record.items():
        if name in names:
            walk(value)
        elif type(value) is not str or value[:1] in "{[ ":
            nested(value)
    return out


#: characters JSON or repr() may write as a backslash and themselves (`\"`, `\\`, `\/`, `\'`)
_SELF_ESCAPED = "\"\\/'"
#: how many times over a backslash of a value escaped is found (2**10 backslashes)
_DOUBLINGS = 10
#: the characters HTML (html.escape) and XML write by name
_HTML_NAMES = {"&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos"}


def _hex(number: int, digits: int) -> str:
    """A regex for `number` in `digits` hex digits, each in either case (RFC 3986 §2.1; JSON's `\\uXXXX`)."""
    return f"(?i:{number:0{digits}x})"


def _percent(byte: int) -> str:
    """A regex for `byte` percent-encoded once or more (a form body quoted in a URL: `%2B` as `%252B`), its hex digits
    in either case."""
    return f"%(?:25)*{_hex(byte, 2)}"


#: a backslash percent-encoded once or more (`%5C`, `%255C`)
_PERCENT_BACKSLASH = _percent(0x5C)


def _html(char: str) -> str:
    """A regex for `char` HTML-escaped once or more (an error page quoting it, HTML 5 §13.1.4): ``&``, itself
    escaped any number of times over (``&amp;amp;lt;``), then its name where `_HTML_NAMES` has one, or its code
    point as ``#NN`` or ``#xHH`` (leading zeros or none), and ``;``; the name, the ``x`` and hex digits in either
    case (``&LT;``, ``&#X3c;``)."""
    name = _HTML_NAMES.get(char)
    refs = ([f"(?i:{name})"] if name else []) + [f"#0*{ord(char)}", f"(?i:#x0*{ord(char):x})"]
    return f"&(?:(?i:amp);)*(?:{'|'.join(refs)});"


def _char_spellings(char: str, urlencoded: bool = False) -> str:
    """A regex for the ways a text may write `char` (one character): as it is; escaped by JSON or repr() once or
    more over (a run of backslashes, then: the character itself where it is one of `_SELF_ESCAPED`, a short escape
    such as ``n``, its code as ``uXXXX`` — a surrogate pair beyond U+FFFF —, ``xXX`` or ``UXXXXXXXX``, or beyond
    ASCII its UTF-8 bytes each as ``xXX``, as a bytes repr() writes them: ``ë`` as ``\\xc3\\xab``);
    where `urlencoded`, an escape's backslashes percent-encoded (``%5Cu00f8``); percent-encoded once or more, byte by
    byte of its UTF-8 (a space as ``+`` too); quoted-printable, byte by byte of its UTF-8 (``=3D``); beyond ASCII, its
    one byte of Latin-1 or Windows-1252 either way (`_single_bytes`: ``%F8``, ``=F8``); HTML-escaped (`_html`); or in
    another case of more letters (``ß`` as ``SS``). The hex digits of each in either case. Every escape is tried
    before the character as it is: an escape that starts with it (``%25``, ``\\\\``, ``&amp;``) ending the value is
    masked whole, not as its first character (``***25``)."""
    code = ord(char)
    # the backslashes each escape starts with: URL-encoded too where `urlencoded`, the second of a surrogate pair's
    # and each UTF-8 byte's after the first as well (before, `%5Cud83d%5Cude00` and `%5Cxc3%5Cxb8` were shown: t60a)
    start = _URLENCODED_BACKSLASHES if urlencoded else r"\\+"
    if code < 0x10000:
        escapes = [f"u{_hex(code, 4)}", f"U{_hex(code, 8)}"]
    else:
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        escapes = [f"u{_hex(high, 4)}{start}u{_hex(low, 4)}", f"U{_hex(code, 8)}"]
    if code < 0x100:
        escapes.append(f"x{_hex(code, 2)}")
    if code >= 0x80:  # its UTF-8 bytes as a bytes repr() or a C string writes them (`ë` as `\xc3\xab`)
        escapes.append(start.join(f"x{_hex(byte, 2)}" for byte in char.encode("utf-8", "surrogatepass")))
    percent = "".join(map(_percent, char.encode("utf-8", "surrogatepass")))
    # `\"`, and URL-encoded so (`%5C%22`) or HTML-escaped (an error page quoting a JSON body: `\&quot;`, t60a)
    if char in _SELF_ESCAPED and char != "\\":
        escapes += [re.escape(char), percent, _html(char)]
    short = {w[1] for w in (json.dumps(char)[1:-1], repr(char)[1:-1]) if len(w) == 2 and w[0] == "\\"} - {char}
    # quoted-printable (RFC 2045 §6.7 rule 1: any byte may be written `=XX`; a mail-like dump writes `=` as `=3D`,
    # a byte not ASCII as `=C3`), so that it is found inside another spelling too (a JSON body so dumped: `\\u00f8=3D`)
    quoted = "".join(f"={_hex(byte, 2)}" for byte in char.encode("utf-8", "surrogatepass"))
    spellings = [_html(char), percent, quoted, rf"{start}(?:{'|'.join(escapes + sorted(short))})"]
    # beyond ASCII, its one byte of Latin-1 or Windows-1252 percent-encoded or quoted-printable (a server or a form
    # of another charset than UTF-8: `ø` as `%F8`, `€` as `=80`)
    for byte in sorted(_single_bytes(char)):
        spellings += [_percent(byte), f"={_hex(byte, 2)}"]
    if char == " ":
        spellings += [re.escape("+"), _percent(ord("+"))]
    # its case changed where that changes its length (ß upper-cased is SS): the rest a caller matches in any case
    # (re.IGNORECASE), and is no alternative of its own: two that match the same text made a near miss (a token's
    # first 40 letters, then another character) cost 2^40 steps of backtracking, and redact() never returned
    other_cases = {c for c in {char.upper(), char.lower(), char.casefold()} if not _same_in_any_case(c, char)}
    spellings += sorted(map(re.escape, other_cases), key=len, reverse=True)
    if char == "\\":  # as it is, or escaped as itself: `_backslashes`
        return f"(?:{'|'.join(spellings)})"
    return f"(?:{'|'.join([*spellings, re.escape(char)])})"


#: the backslashes an escape starts with, as they are or percent-encoded (a query or a form quoting a JSON body:
#: `\\u00f8` as `%5Cu00f8`, `%255Cu00f8` URL-encoded twice): `spelled(value, urlencoded=True)`
_URLENCODED_BACKSLASHES = rf"(?:\\+|(?:{_PERCENT_BACKSLASH})+)"
#: a text that may hold an escape URL-encoded, which only `spelled(value, urlencoded=True)` finds
_URLENCODED_ESCAPE = re.compile(_PERCENT_BACKSLASH)


def holds_urlencoded_escape(text: str) -> bool:
    """Whether `text` may hold an escape URL-encoded (`_URLENCODED_ESCAPE`): a text to read with `spelled(value,
    urlencoded=True)` (scrub; redact, for the text and for its lines joined again)."""
    return "%" in text and _URLENCODED_ESCAPE.search(text) is not None


def _single_bytes(char: str) -> set[int]:
    """The byte a character beyond ASCII is in Latin-1 and in Windows-1252, where it is one of theirs."""
    if char.isascii():
        return set()
    out = set()
    for charset in ("latin-1", "cp1252"):
        with suppress(UnicodeEncodeError):
            out.add(char.encode(charset)[0])
    return out


def _backslashes(count: int, urlencoded: bool = False) -> str:
    """A regex for a run of `count` backslashes of a value: escaped k times over, as JSON or repr() escape one, each
    is 2**k backslashes, so the run is `count` * 2**k of them (k up to `_DOUBLINGS`; the longest first); or each
    spelled otherwise (`_char_spellings`: ``\\u005c``, ``%5C``). Before, each backslash took any part of a run of
    the text and the next character's escape the rest: a text of a value's first letters and 2,000 backslashes cost
    n³ steps (40 s) of a value holding two, and far more of one holding more (tester t59b)."""
    runs = "|".join(rf"\\{{{count * 2**k}}}" for k in range(_DOUBLINGS, -1, -1))
    if urlencoded:  # escaped k times over, then URL-encoded (a query quoting a JSON body: `%5C%5C` for one)
        runs += "|" + "|".join(f"(?:{_PERCENT_BACKSLASH}){{{count * 2**k}}}" for k in range(_DOUBLINGS, 0, -1))
    return f"(?:{runs}|{_char_spellings(chr(92), urlencoded) * count})"


def _same_in_any_case(text: str, char: str) -> bool:
    """Whether a regex matching `char` in any case (re.IGNORECASE) matches `text` whole."""
    return re.fullmatch(re.escape(char), text, re.IGNORECASE) is not None


def spelled(value: str, urlencoded: bool = False) -> str:
    """A regex for the ways a text may quote `value`, each character as `_char_spellings` allows: as written; as
    repr() writes it; JSON-escaped once or more (a refusal's message quoting the record as JSON, inside the
    answer's body, inside a message), with or without its non-ASCII characters escaped and any character as
    ``\\uXXXX`` (System.Text.Json writes ``+`` as ``\\u002B``); URL-encoded once or more (a form body, a query);
    HTML-escaped, by name or number, once or more (an error page). The hex digits of every escape match in either
    case (``%2b`` as ``%2B``, ``\\u002b`` as ``\\u002B``, ``&#x2b;`` as ``&#X2B;``). `urlencoded`: also with its
    escapes URL-encoded (``%5Cu00f8``: a query quoting a JSON body), for a text `_URLENCODED_ESCAPE` finds in only:
    every character's spellings cost more (a reason of 110 characters took 9.7 µs against 5.7).

    It starts nowhere inside a run of backslashes but at its first (`_NOT_MID_RUN`), nor, `urlencoded`, inside a run
    of them percent-encoded (`%5C%5C`)."""
    pieces = re.split(r"(\\+)", value)  # a value's runs of backslashes, each read whole (`_backslashes`)
    return (_NOT_MID_RUN + _NOT_MID_URLENCODED_RUN if urlencoded else _NOT_MID_RUN) + "".join(
        _backslashes(len(piece), urlencoded) if i % 2 else "".join(_char_spellings(c, urlencoded) for c in piece)
        for i, piece in enumerate(pieces)
    )


#: where `spelled` may start: not at a backslash that follows another. A spelling starting with a backslash takes a run
#: of any length (`\\+`), so whatever matches from inside a run matches from its first backslash too, which a
#: search tries first; but each start inside it read the run to its end again: a text of n backslashes cost n²/2
#: steps (tester t59b: an answer of 40,000 backslashes, as JSON escaped over and over writes them, took 23 s to
#: redact, of any registered credential, and 1 MB would take hours)
_NOT_MID_RUN = r"(?!(?<=\\)\\)"
#: ... and, where escapes may be URL-encoded, not at a percent-encoded backslash that follows another (`%5C%5C`),
#: itself percent-encoded up to `_BEHIND_DEPTH` times (a look-behind is of fixed width; one encoded deeper is only a
#: start more, which a run costs in time, not in what is masked). The one before is looked for whole: before, text
#: ending in `5C` (`A5C%5Cu00f8…`) kept a credential's first escape from starting there, and it was shown (t60a)
_BEHIND_DEPTH = 4
_NOT_MID_URLENCODED_RUN = (
    "(?!(?:"
    + "|".join(f"(?<=%{'25' * depth}{_hex(0x5C, 2)})" for depth in range(_BEHIND_DEPTH))
    + f"){_PERCENT_BACKSLASH})"
)


def scrub(text: str, values: Iterable[str]) -> str:
    """`text` with each of `values` (any way `spelled` finds it written, in any letter case: an API may echo a value
    upper-cased) shown as ``***``: for a message that may quote a secret (a reason, an API's answer)."""
    shown = sorted({value for value in values if len(value) >= MIN_SCRUB}, key=len, reverse=True)
    if not text or not shown:
        return text
    urlencoded = holds_urlencoded_escape(text)
    # a value that holds another first
    return re.sub("|".join(spelled(value, urlencoded) for value in shown), MASK, text, flags=re.IGNORECASE)


#: a key in quotes that may be escaped, at any depth (`"key"`, `\"key\"`, `\\\"key\\\"`, `'key'`), `:`, and
#: a string value in the same quotes: it ends at the first such quote not escaped once more (a value ending in a
#: backslash runs on to the next one: more is masked, never less). A quote's escape starts nowhere inside a run of
#: backslashes but at its first (`_NOT_MID_RUN`): before, each backslash of a run was a start that read the run to its
#: end, and an answer of 60,000 backslashes (and a quote) took 19 s to mask (tester t59b)
_QUOTED_KEY_VALUE = re.compile(
    _NOT_MID_RUN + r"""(?P<q>\\*["'])(?P<key>[\w-]+)(?P=q)(?P<sep>\s*:\s*)(?P=q)(?P<value>.*?)(?<!\\)(?P=q)"""
)


def masked_secret_keys(text: str) -> str:
    """`text` (an error, an API's answer, a report: any text written) with the string value of every key a
    `secret_name` names, in quotes, as ``***``: in JSON, a Python repr, or JSON quoted as a string (escaped once or
    more) inside another, whatever else the text holds. Other values (a number, an object) are left as they are."""
    if "'" not in text and '"' not in text:
        return text

    def mask(match: re.Match[str]) -> str:
        q, value = match["q"], match["value"]
        if not secret_name(match["key"]):  # its value may quote JSON in turn: the keys inside it are looked at
            shown = _QUOTED_KEY_VALUE.sub(mask, value)
        else:
            shown = value if value in ("", MASK) else MASK
        return f"{q}{match['key']}{q}{match['sep']}{q}{shown}{q}"

    return _QUOTED_KEY_VALUE.sub(mask, text)
