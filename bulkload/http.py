"""The HTTP client: one aiohttp session per run, and the one place aiohttp's errors become ours."""

from __future__ import annotations

import codecs
import email.utils
import ipaddress
import os
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NamedTuple, Self

import msgspec

from .errors import (
    AnswerTooLarge,
    APIError,
    AuthError,
    BadAnswer,
    BadRequest,
    ConfigError,
    Conflict,
    ConnectError,
    MaybeSentError,
    RateLimited,
    Redirected,
    ServerError,
    Unreachable,
)
from .model import LARGEST_ID
from .quoted_ids import unquoted
from .redact import cut, redact, redact_data

if TYPE_CHECKING:  # imported where a request is sent: what plans and reads answers never needs aiohttp (~60 ms)
    import aiohttp

decode_json = msgspec.json.Decoder().decode

#: the longest answer read when the caller names no cap: a few pages or bulk answers of any API here
ANSWER_BYTES = 4 * 1024 * 1024
#: an answer is read in pieces of this size, so that the cap is kept before the whole of it is held
_PIECE_BYTES = 64 * 1024
#: how much of an unreadable answer a message quotes
_QUOTED = 80
#: an answer's bytes answer_text reads: as many characters as redact.cut reads
_CUT_BYTES = 1 << 16
#: the charset a Content-Type names
_CHARSET = re.compile(r"charset\s*=\s*\"?([\w.:-]+)", re.IGNORECASE)
#: methods that change nothing: an answer to one of them that cannot be read leaves nothing in doubt
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
#: the header an idempotency cache sets, "true", on an answer it replays for a key it has seen (e-conomic, seed 002)
REPLAYED_HEADER = "X-ResultFromCache"
#: seconds a kept-alive connection may sit idle and still carry the next call; past that the call opens a fresh one.
#: Servers close idle connections after a few seconds (gunicorn 2 s, uvicorn, Node and Apache 5 s): a call sent just
#: as the server closes is lost unanswered, and a write without an idempotency key cannot be sent again on its own
#: (RFC 9112 §9.3.1), so its rows were put in doubt. Below the shortest common idle timeout, with room for the time
#: an answer takes to reach us; a fresh connection costs a handshake only after such a gap
KEEPALIVE_S = 1.0


class Response(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: bytes
    #: an earlier attempt of the same call lost its answer and may have been carried out too (set by the dispatcher)
    uncertain: bool = False


class Settings(NamedTuple):
    """Where the user sets what a failed call can show to be wrong, as its message names them."""

    #: the address of the API (a flag)
    address: str = "--base-url"
    #: the setting of any other address a call goes to (a token endpoint's): named for a URL outside the base URL
    other_address: str | None = None
    #: the settings that hold the credentials
    credentials: str = "the credentials"


class Client:
    """Sends requests below a base URL with the target's auth headers; counts what it sent. `settings`: what a
    message about a wrong address or refused credentials tells the user to check; `answered`: the API answered
    the run at this address before (an earlier process of it: Ledger.answered_before)."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        concurrency: int = 8,
        timeout_s: float = 60.0,
        settings: Settings | None = None,
        slots: AbstractAsyncContextManager[Any] | None = None,
        answered: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        #: held by every call while it is in flight: the cap many runs of one process share (fleet.py)
        self._slots = slots or nullcontext()
        import aiohttp

        self.settings = settings or Settings()
        self._headers = dict(headers)
        self.concurrency = concurrency
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(10.0, timeout_s))
        self._session: aiohttp.ClientSession | None = None
        #: some call of this run was answered, in this process or an earlier one: the address leads to the API, and
        #: a refused connection from now on is a restart (retried) rather than a wrong address
        self.answered = answered

    async def __aenter__(self) -> Self:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=self.concurrency + 2, keepalive_timeout=KEEPALIVE_S)
        self._session = aiohttp.ClientSession(
            headers=self._headers,
            timeout=self._timeout,
            connector=connector,
            raise_for_status=False,
            trace_configs=[_sends_counted()],
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int = ANSWER_BYTES,
        on_sent: Callable[[], None] | None = None,
        writes: bool | None = None,
    ) -> Response:
        """One request; an error status or a lost answer raises the matching BulkloadError. `on_sent` is called when
        its request is written (each time, where aiohttp sends it again on a dropped connection). At most `max_bytes` of
        the answer are read (decompressed): a 2xx answer longer than that raises AnswerTooLarge (by its
        Content-Length before any of it is read, else as soon as the cap is passed); an error answer is cut there (its
        status says what happened). Unreachable on an address that leads nowhere (see errors.Unreachable). `writes`: the
        call writes what the run loads (default: any method but GET, HEAD and OPTIONS; a token request writes
        nothing), so that a redirect which may follow its processing leaves it acted on (`redirected`)."""
        import aiohttp

        assert self._session is not None, "Client used outside `async with`"
        hdrs = dict(headers or {})
        if body is not None:
            hdrs.setdefault("Content-Type", "application/json")
        sends: dict[str, Any] = {"n": 0, "on_sent": on_sent}
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        where = _shown(url)
        call = f"{method} {where if path.startswith(('http://', 'https://')) else path}"
        if unsendable := [name for name, value in {**self._headers, **hdrs}.items() if has_control(name + value)]:
            # aiohttp refuses a C0 one with a ValueError as it writes the headers, after its hook said they were
            # sent: a call that never left must not be taken for one whose answer was lost (its rows in doubt); a C1
            # one it would send, a value no credential holds
            raise ConfigError(
                f"{call}: the header {unsendable[0]} holds a control character (the value is not shown), which no "
                "request sends; " + ("this call was not sent" if self.answered else "nothing was sent")
            )
        begun: list[int] = []  # the answer's status, once its head came: a timeout after it is an answer too slow
        try:
            # never followed: aiohttp would carry the session's credential headers (and a 307's body, a token
            # request's client secret) to whatever address the answer names
            async with (
                self._slots,
                self._session.request(
                    method, url, data=body, params=params, headers=hdrs, trace_request_ctx=sends, allow_redirects=False
                ) as resp,
            ):
                status, resp_headers = resp.status, resp.headers
                begun.append(status)
                self.answered = True
                length = resp.content_length
                if status < 300 and length is not None and length > max_bytes:
                    raise too_large(call, max_bytes, method, f"its Content-Length says {length:,} bytes")
                data = await _read_capped(resp, max_bytes)
                if data is None:
                    if status < 300:
                        raise too_large(call, max_bytes, method, "it went on past that")
                    data = b""  # an error answer's status is what counts; a body that long says nothing we read
        except aiohttp.ClientConnectorCertificateError as exc:
            raise Unreachable(
                f"{method} {where}: the server's TLS certificate does not verify ({exc.certificate_error}); bulkload "
                f"sends no credentials to a server it cannot verify. Check {self.address_setting(url)}; "
                + ("this call was not sent" if self.answered else "nothing was sent")
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            if not self.answered and _wrong_address(exc):
                raise Unreachable(
                    f"{method} {where}: cannot reach the API: {_why_unreachable(exc)}. This is the run's first call: "
                    f"check {self.address_setting(url)}; nothing was sent"
                ) from exc
            raise ConnectError(f"cannot connect to {self._root(url)}: {exc.os_error}") from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientPayloadError) as exc:
            raise MaybeSentError(f"{method} {path}: connection lost before the answer ({exc})") from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            if begun:  # the head came, the body did not in time: a server or proxy that sends it in dribs
                raise MaybeSentError(
                    f"{method} {path}: its answer (HTTP {begun[0]}) began but did not arrive whole within "
                    f"{self._timeout.total:g} s: it came too slowly"
                ) from exc
            raise MaybeSentError(f"{method} {path}: no answer within {self._timeout.total:g} s") from exc
        except aiohttp.ClientResponseError as exc:  # aiohttp's parser refused the answer's status line or headers
            raise MaybeSentError(f"{method} {path}: {_unparsed(exc)}; the call may have been carried out") from exc
        except aiohttp.ClientError as exc:
            raise MaybeSentError(redact(f"{method} {path}: {type(exc).__name__}: {exc}")) from exc
        if status < 300:  # an error answer is read in its charset where it is shown (answer_text)
            data = in_utf8(data, resp_headers.get("Content-Type"))
        # RFC 8259 §8.1: a JSON text sent over a network carries no BOM, and a reader may pass over one; some servers
        # (IIS behind .NET's UTF-8 encoder) write it all the same. Passed over here, once, for every reader of answers
        data = data.removeprefix(codecs.BOM_UTF8)
        if status >= 400:
            # answered after aiohttp sent it again: the first send may have been carried out (a DELETE's 404 may be
            # our own DELETE's doing)
            error = error_from(status, resp_headers, data, uncertain=sends["n"] > 1)
            raise error.advised(f"check {self.settings.credentials}") if isinstance(error, AuthError) else error
        if 300 <= status < 400:
            wrote = method not in _READS if writes is None else writes
            raise redirected(method, url, status, resp_headers.get("Location"), writes=wrote)
        return Response(status, resp_headers, data)

    def address_setting(self, url: str) -> str:
        """The setting that gives `url`'s address: the API's own (`Settings.address`) unless it lies elsewhere."""
        if self.settings.other_address is None or self._below(url):
            return self.settings.address
        return self.settings.other_address

    def _below(self, url: str) -> bool:
        return url == self.base_url or url.startswith(self.base_url + "/")

    def _root(self, url: str) -> str:
        """`url`'s address as a message names it: the base URL, or `url` where it lies elsewhere (a token
        endpoint's, shown without its query)."""
        return self.base_url if self._below(url) else _shown(url)


async def _read_capped(resp: aiohttp.ClientResponse, max_bytes: int) -> bytes | None:
    """The answer's body, or None as soon as it is longer than `max_bytes` (the rest stays unread: leaving the
    response closes its connection)."""
    data = bytearray()
    async for piece in resp.content.iter_chunked(_PIECE_BYTES):
        data += piece
        if len(data) > max_bytes:
            return None
    return bytes(data)


def too_large(call: str, max_bytes: int, method: str, how: str) -> AnswerTooLarge:
    """The error for a 2xx answer past `max_bytes`; acted on when the call was a write."""
    return AnswerTooLarge(
        f"{call} answered more than the {_size(max_bytes)} bulkload reads of that call ({how}): not the API's answer "
        "as documented (is --base-url right?)",
        acted_on=method not in _READS,
    )


def _unparsed(exc: aiohttp.ClientResponseError) -> str:
    """Why an answer could not be read as HTTP, in the user's words (aiohttp says `400, message='Got more than 8190
    bytes (...) when reading Header value is too long.'`, its own 400, not the server's)."""
    if "too long" in exc.message.lower() or "got more than" in exc.message.lower():
        return "the answer's headers were too large to read (over 8 KiB a line, more than any API sends)"
    return "the answer could not be read as HTTP (a broken status line or headers)"


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n / 1024:g} KB" if n >= 1024 else f"{n} bytes"


def _wrong_address(exc: aiohttp.ClientConnectorError) -> bool:
    """A name that does not resolve, a connection refused, TLS not spoken there: an address that leads nowhere."""
    import aiohttp

    return isinstance(exc, aiohttp.ClientConnectorDNSError | aiohttp.ClientSSLError) or isinstance(
        exc.os_error, ConnectionRefusedError
    )


def _why_unreachable(exc: aiohttp.ClientConnectorError) -> str:
    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"the name {exc.host} does not resolve ({exc.os_error.strerror or exc.os_error})"
    if isinstance(exc, aiohttp.ClientSSLError):
        said = f"no TLS connection could be made with {exc.host}:{exc.port} ({exc.os_error})"
        # OpenSSL's words for a first answer that is no TLS record: a server speaking plain HTTP there
        if "WRONG_VERSION_NUMBER" in str(exc.os_error) or "record layer failure" in str(exc.os_error):
            said += f": the server there answers without TLS; if it speaks plain HTTP, the address is http://{exc.host}"
            said += f":{exc.port}/…"
        return said
    return f"nothing listens at {exc.host}:{exc.port} (connection refused)"


_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def decoded(body: bytes, into: Any, call: str, *, acted_on: bool = False, setting: str = "--base-url") -> Any:
    """An answer as the type the caller reads it into (a Struct with the fields it uses, `int`, …): one decoder per
    type, built once; an int the type takes written as a string of ASCII digits is read as that int (quoted_ids).
    BadAnswer, naming `call` ("GET /draft-entries/count") and what was wrong, when it is not that: HTML, truncated
    JSON, a field missing or of another type (`acted_on`: the answer of a write, which did
    arrive; `setting`: where the user gives the address called, as `unreadable` asks). What is quoted of it is
    redacted."""
    decoder = _decoders.get(into)
    if decoder is None:
        decoder = _decoders[into] = msgspec.json.Decoder(into)
    try:
        try:
            return decoder.decode(body)
        except msgspec.ValidationError:
            # an id or whole number written as a string of digits ("entryNumber": "1001") is read as the integer
            # (quoted_ids): before, such a server's every create answer put its rows in doubt (tester t74h)
            again = unquoted(body, into)
            if again is None:
                raise
            return decoder.decode(again)
    except (msgspec.DecodeError, RecursionError) as exc:  # RecursionError: JSON nested past msgspec's depth
        # an empty body is no JSON text cut short, as msgspec's "Input data was truncated" has it (tester t73b)
        why = "no JSON text where the API documents one" if not body.strip() else str(exc) or type(exc).__name__
        raise unreadable(call, body, why, acted_on=acted_on, setting=setting) from None


def answer_text(body: bytes, content_type: str | None = None) -> str:
    """An answer's body as text, to be shown (redacted, then cut: redact.cut): decoded in the charset its
    Content-Type names (`application/json; charset=utf-16`, which .NET writes), else as UTF-8, and without NUL
    characters: UTF-16 read as UTF-8 puts one between every two letters, and a credential it quotes was not found
    by the masking (tester t36f: shown with a NUL between each two of its characters). At most the bytes
    `redact.cut` reads (four a character)."""
    data = body[: 4 * _CUT_BYTES]
    charset = _CHARSET.search(content_type or "")
    try:
        text = data.decode(charset[1] if charset else "utf-8", "replace")
    except LookupError:  # a charset Python does not know
        text = data.decode("utf-8", "replace")
    return text.replace("\x00", "")


def in_utf8(body: bytes, content_type: str | None) -> bytes:
    """`body`, an answer, in UTF-8, as every reader of answers reads it: decoded whole in the charset its
    Content-Type names where that is another (`charset=iso-8859-1`, `windows-1252`; `utf-16`, which .NET writes), so
    that a create the server carried out and answered in its own charset is read, not taken for an answer that is
    not the API's (its rows were in doubt, the run stopped). RFC 8259 §8.1 has JSON in UTF-8 and a recipient ignore
    the label, so a body that is valid UTF-8 is read as UTF-8 whatever single-byte charset it names (a server that
    labels UTF-8 `iso-8859-1`, as servlet containers do by default), and so is one labelled UTF-16 or UTF-32 that
    holds no NUL byte (every JSON text in them does: its `{`, `"` and digits are ASCII); one the named charset cannot
    decode, or a charset Python does not know or that is no text encoding (`hex`, `base64`: Python raised
    LookupError for them, a traceback), is left as it is (and refused as JSON where it is none)."""
    named = _CHARSET.search(content_type or "")
    if named is None:
        return body
    try:
        codec = codecs.lookup(named[1]).name
    except LookupError:
        return body
    if codec in ("utf-8", "ascii"):
        return body
    if codec.startswith(("utf-16", "utf-32")):
        if b"\x00" not in body:
            return body
    else:
        try:
            body.decode("utf-8")
            return body
        except UnicodeDecodeError:
            pass
    try:
        return body.decode(codec).encode("utf-8")
    except (UnicodeDecodeError, LookupError):
        return body


def unreadable(call: str, body: bytes, why: str, *, acted_on: bool = False, setting: str = "--base-url") -> BadAnswer:
    """The error for an answer that is not what the API documents; `acted_on`: the call was a write. A page (HTML,
    XML: it begins with `<`) where the API answers JSON is most often another server's (a wrong --base-url, a
    proxy's or a login page): the message asks (tester t25: a wrong address answering 200 HTML was named only as an
    answer not documented), naming `setting`, where the user gives the address called: "--base-url" (the API's
    root), or a token endpoint's (HALO_AUTH_URL: tester t70e, a token endpoint's login page was said to ask whether
    --base-url was right)."""
    start = cut(answer_text(body).strip(), _QUOTED)
    shown = f"it begins {start!r}{'…' if len(body) > _QUOTED else ''}" if start else "it is empty"
    root = "the API's root" if setting == "--base-url" else "right"
    page = f": a page where the API answers JSON, is {setting} {root}?" if start[:1] == "<" else ""
    return BadAnswer(
        redact(f"{call}: the answer is not what the API documents ({why}; {shown}{page})"), acted_on=acted_on
    )


def keepable_ids(call: str, body: bytes, ids: Sequence[int], *, acted_on: bool = False, first: int = 0) -> None:
    """BadAnswer (as `unreadable`, naming `call` and the id) for an answer that gives a record an id the ledger
    cannot keep: past model.LARGEST_ID, or below 0 (-1 is the ledger's NO_ID). `ids`: the answer's items' ids from
    item `first` on. The one check of every id an API gives before it is used or kept: in a write's answer
    (answered.answered_ids) and in what a target reads back (a walk's page, a listing)."""
    if ids and (min(ids) < 0 or max(ids) > LARGEST_ID):  # in C: a page of 1,000 ids, every one checked
        at, record_id = next((at, i) for at, i in enumerate(ids, first) if not 0 <= i <= LARGEST_ID)
        why = f"item {at} has the id {record_id}: the ledger keeps ids from 0 to 2^63 - 1"
        raise unreadable(call, body, why, acted_on=acted_on)


#: the values no path segment can carry: in a URL's path `.` and `..` are this folder and the one above (RFC 3986
#: §5.2.4: the client removes them, `/AccountingCostTypes/..` asks for `/`), and `%2E` is decoded to `.` before
#: they are (§6.2.2.2), so no way of writing them reaches the server as the value. A caller refuses a row that would
#: send one (its value is a segment of api_path) before any call
DOT_SEGMENTS = frozenset({".", ".."})


def has_control(text: str) -> bool:
    """Whether `text` holds a control character: C0 (a line break, a tab, NUL …) or DEL, which no HTTP header
    carries as it is; or C1 (U+0080-U+009F), which no text holds: what Latin-1 makes of Windows-1252's bytes
    0x80-0x9F (€, quotes), text read in another encoding than its own."""
    return any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)


def check_address(setting: str, url: str, root: str, example: str) -> None:
    """Refuses (ConfigError naming `setting` as the user gives it: --base-url, HALO_AUTH_URL) an address `url` that
    is not an absolute http(s) URL with a host (a port past 65535 or an unclosed [IPv6 bracket is none), asking for
    `root` ("the API root") as `example` shows it; and one holding a user name or password, not shown: messages
    show an address, and the ledger, the report and the record of loads keep the API's."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # an unclosed [IPv6 bracket
        parts = urllib.parse.urlsplit("")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ConfigError(
            f"{setting} {_shown(url)!r} has no port a TCP connection can use (0-65535, digits only): "
            f"give {root} with a port in range, or none, e.g. {example}"
        ) from None
    if "@" in (parts.netloc if parts.hostname else url):
        raise ConfigError(
            f"{setting} holds a user name or password (user:password@host), not shown here: an API's credentials go "
            "in its environment variables, never in an address, which messages show and the ledger, the report and "
            "the record of loads keep"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{setting} {url!r} is not an http(s) URL: give {root} with its scheme and host, e.g. {example}"
        )
    if parts.query or parts.fragment or url.rstrip().endswith(("?", "#")):
        # every call's path goes after the root: a query or fragment there would end up in the middle of it, and
        # a resume given the address without one still calls the stored one (tester t34a: HTTP 404 every time)
        raise ConfigError(
            f"{setting} holds a query or fragment (after ? or #), not shown here: give {root} alone, with its scheme, "
            f"host and path, e.g. {example}"
        )


#: the environment variable that lets credentials go over plain http to another machine than this one
ALLOW_PLAIN_HTTP = "BULKLOAD_ALLOW_PLAIN_HTTP"


def plain_http_allowed(env: Mapping[str, str]) -> bool:
    """Whether the user set ALLOW_PLAIN_HTTP=1, in `env` (a job file's or credentials file's settings beside the
    environment) or in this process's environment."""
    return "1" in (env.get(ALLOW_PLAIN_HTTP), os.environ.get(ALLOW_PLAIN_HTTP))


def check_encrypted(setting: str, url: str, allowed: bool) -> None:
    """Refuses (ConfigError naming `setting`: --base-url, HALO_AUTH_URL) an `http://` address of another machine than
    this one (not loopback: 127.0.0.0/8, ::1, localhost), where every call carries the API's credentials in its
    headers (or a token request's body) and would send them across the network unencrypted: a typo of `https`, or an
    address copied without its scheme's `s`, sent them before any answer could say so (tester t69b). `allowed`: the
    user set ALLOW_PLAIN_HTTP=1 (a trusted network, an instance without TLS), and it is sent as given."""
    parts = urllib.parse.urlsplit(url)
    if allowed or parts.scheme.lower() != "http" or _loopback(parts.hostname or ""):
        return
    raise ConfigError(
        f"{setting} {_shown(url)!r} is plain http to another machine: every call would carry the API's credentials "
        f"across the network unencrypted. Give its https:// address; where the network between is trusted (an "
        f"instance without TLS), set {ALLOW_PLAIN_HTTP}=1. Nothing was sent"
    )


def _loopback(host: str) -> bool:
    """Whether `host` (a URL's hostname, lower-cased, IPv6 without its brackets) is this machine: localhost (and its
    subdomains, RFC 6761 §6.3) or a loopback address."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_path(base: str, *segments: object) -> str:
    """`base` (a path as the API document writes it, "/api/XeroDetails") followed by each of `segments` as ONE path
    segment: quoted whole (str() of it, UTF-8, every character but letters, digits and `-._~` percent-encoded), so
    that a value from a file (a cost type `FEE#1`, `FEE?a=1`, `a/b`) is never cut short by a fragment or a query,
    nor read as more segments. Every path a call builds from a value goes through here; a value in DOT_SEGMENTS
    cannot be sent so, and is refused by the caller first."""
    return "/".join([base, *(urllib.parse.quote(str(s), safe="") for s in segments)])


def _sends_counted() -> aiohttp.TraceConfig:
    """aiohttp sends an idempotent request (GET, PUT, DELETE) a second time on its own when a kept-alive connection
    drops (RFC 9112 §9.3.1), out of bulkload's sight: each send is counted in the request's trace context."""
    import aiohttp

    config = aiohttp.TraceConfig()

    async def sent(session: aiohttp.ClientSession, context: SimpleNamespace, params: Any) -> None:
        context.trace_request_ctx["n"] += 1
        if (on_sent := context.trace_request_ctx["on_sent"]) is not None:
            on_sent()

    config.on_request_headers_sent.append(sent)
    return config


def _shown(url: str) -> str:
    """A URL as a message shows it: no query (it may carry a tenant or a filter), no user or password."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


#: redirects that may answer a request the server carried out: 303 See Other is "an indirect response to the
#: original request" (RFC 9110 §15.4.4), and 302 is what web frameworks answer a POST they processed (the
#: POST-redirect-GET pattern). 301, 307 and 308 say the resource lies elsewhere: the request is to be made there
PROCESSED_REDIRECTS = frozenset({302, 303})


def redirected(method: str, url: str, status: int, location: str | None, *, writes: bool) -> Redirected:
    """The error for a redirect answered to `method` at `url` (never followed): acted on where the call `writes`
    what the run loads and is answered with one of PROCESSED_REDIRECTS to the server's own site (its Location on
    the origin of `url`, or none), which may have been stored (tester t36b: a PayorCRM upload stored and answered
    303 was taken for one not sent, and `bulkload resume` stored it twice), a 303 wherever it points. A 302 to the
    same path on another origin (http to https, another host or port) says the API is there: the call was not
    carried out where it was sent, so the run may move there (`bulkload resume --base-url`), as before (tester t37a:
    a PayorCRM upload redirected to https was in doubt, and the run could move nowhere); see `_moved`."""
    target = urllib.parse.urljoin(url, location) if location else None
    where = f"to {_shown(target)}" if target else "elsewhere"
    acted_on = writes and status in PROCESSED_REDIRECTS and not (status == 302 and _moved(url, target))
    maybe = (
        f"; a {status} may answer a call the server carried out: this call may have been carried out, so its rows are "
        "in doubt, never sent again without your word"
        if acted_on
        else ""
    )
    return Redirected(
        f"{method} {_shown(url)} was answered {status}, a redirect {where}: bulkload does not follow a redirect of an "
        "API call, which would carry the credentials there. If that is the API's address, give it as --base-url "
        f"(HALO_AUTH_URL for a HaloPSA token){maybe}; the run stops here",
        acted_on=acted_on,
    )


def _moved(url: str, target: str | None) -> bool:
    """Whether `target`, a 302's Location, is `url` itself on another origin (http to https, another host or port:
    the API is there, the call not carried out). A 303 never is: it answers the request made (RFC 9110 §15.4.4),
    wherever it points; nor is a 302 to another path on another origin, a page of what was done (tester t69b: a
    PayorCRM upload stored and answered 303 to a result page on another host was taken for one not carried out, and
    `bulkload resume` stored its invoices twice, exit 0)."""
    if target is None or _origin(target) == _origin(url):
        return False
    there, here = urllib.parse.urlsplit(target), urllib.parse.urlsplit(url)
    return (there.path or "/", there.query) == (here.path or "/", here.query)


def _origin(url: str) -> tuple[str, str, int | None]:
    """The scheme, host and port of `url` (the port its scheme's default where none is written)."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:  # a port that is no number: no origin of the API's
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def retry_after_seconds(value: str | None, now: float | None = None, date: str | None = None) -> float | None:
    """A Retry-After `value` in seconds to wait (at least 0.0; None without one, or one that is neither): either
    delta-seconds or an HTTP date. A date is the server's clock: the wait is it less the answer's own `date` header
    (RFC 9110 §10.2.3, §6.6.1), so a server whose clock is off from ours asks for what it means (before, one 30 s
    ahead paused the calls 31.7 s for a 2 s wait, one 30 s behind none); without a Date header (or one that is no
    date) it is read against `now` (Unix seconds, default our clock)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    when = _http_date(value)
    if when is None:
        return None
    served = _http_date(date) if date else None
    if served is None:
        served = time.time() if now is None else now
    return max(0.0, when - served)


def _http_date(value: str) -> float | None:
    """An HTTP date as Unix seconds (None: no date)."""
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, OverflowError):
        return None


#: the most characters of an API's own message an error keeps: a server quoting the request it refused in its message
#: (tester t54b: 7 KB for a call of a few rows, 100 KB for a call of 500) gave a stop reason of that one line, on the
#: terminal, in the report and the log
SAID_LIMIT = 2_000


def error_from(status: int, headers: Mapping[str, str], body: bytes, *, uncertain: bool = False) -> APIError:
    """Build the error for an error status from a problem+json (or any) body (an empty one is said to be empty).
    What the API says is read here and nowhere else, and every credential it may quote (an API that echoes the
    request) is ``***`` from here on (redact.py): the message, the error code and the items. `uncertain`: the call
    was sent more than once; an answer its idempotency cache replays (`REPLAYED_HEADER`) is `replayed`."""
    problem: dict[str, Any] = {}
    try:
        decoded = decode_json(body) if body else {}
        if isinstance(decoded, dict):
            problem = decoded
    except (msgspec.DecodeError, RecursionError):  # RecursionError: JSON nested past msgspec's depth
        pass
    said = problem.get("detail") or problem.get("message") or problem.get("title")
    if said:  # what it says, whole up to SAID_LIMIT (redacted before it is cut: redact.cut)
        message = cut(str(said), SAID_LIMIT, f" … [cut: the API's message runs to {len(str(said)):,} characters]")
    else:
        message = cut(answer_text(body, headers.get("Content-Type")), 200)
    if not message.strip():  # said as such: "HTTP 500: " and nothing after it reads as a message cut off
        message = "the answer's body is empty"
    errors = problem.get("errors")
    code = problem.get("errorCode")
    kw: dict[str, Any] = {
        "error_code": redact(code) if isinstance(code, str) else code,
        "errors": redact_data(errors) if isinstance(errors, list) else None,
        "uncertain": uncertain,
        "replayed": headers.get(REPLAYED_HEADER, "").strip().lower() == "true",
    }
    if status == 429 or status >= 500:
        kw["retry_after"] = retry_after_seconds(headers.get("Retry-After"), date=headers.get("Date"))
    if status == 429:
        return RateLimited(status, message, **kw)
    if status >= 500:
        return ServerError(status, message, **kw)
    if status in (401, 403):
        return AuthError(status, message, **kw)
    if status == 409:
        return Conflict(status, message, **kw)
    if status in (400, 422):
        return BadRequest(status, message, **kw)
    return APIError(status, message, **kw)
