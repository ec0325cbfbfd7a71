"""Dates written as text, read in one order decided for the whole file.

`03-04-2026` is 3 April to some and 4 March to others, and nothing in the cell says which, so the order is
decided once, from every date of the file, before the first row is sent: `DateEvidence` collects what the values
prove, `DateEvidence.decide` picks the order or refuses to guess, and `DateFormat.parse` then reads each cell in
that order only. ISO dates (YYYY-MM-DD, and ISO date-times) carry their own order and are always accepted, so a
file with a date shaped so that is a day only year-day-month (`2026-13-02`) is refused whole: read as ISO, its
`2026-05-02` (5 February) would be booked as 2 May. Each way of writing D-M-YYYY (with dashes, points or slashes)
proves its own order: a file often holds dates written by two systems (e-conomic's `01.11.2026` beside a US
`12/31/2026`), and dates of one way that read both ways are read in the order only a date written the same way
proves (the file is refused otherwise); a file whose ways of writing show two orders is refused whole, and told to
write one way's dates as ISO. A given `--date-format` is an order too: a file with a date that proves the other
order (`2/13/26` for `%d/%m/%y`; `2026/13/02` for `%Y/%m/%d`, `02 13 2026` for `%d %m %Y`, `20261302` for `%Y%m%d`)
is refused whole, for its dates that read both ways (`1/2/26`) would be booked as the wrong day; so is a strptime
format with a date that the format with its day, month and year in another order reads (`32-11-05` for `%d-%m-%y`:
2032-11-05 read `%y-%m-%d`), where that one reads every date the given one reads, or one of them as another day
(`26-11-05`). An ISO date's time of day is read only as the APIs' documents write one (`T10.30` is no time). A
time of day after a D-M-YYYY date is read on a 24-hour clock, or on a 12-hour one with AM/PM (US Excel's
`12/31/2026 11:59 PM`); a file that writes both, one without AM/PM a 12-hour clock writes too (`4:15`), is refused
whole. A date column none of whose dates reads is refused whole where a format reads one of them (`30-Nov-2026`:
the file's format, to be given); a date no format reads (`tomorrow`, `13/13/26`) is not ambiguous, only no date: it
is rejected with its row, as is a day its month has not, told so whatever format reads its shape (`31-Feb-2026`:
February 2026 has 28 days).
"""

from __future__ import annotations

import calendar
import itertools
import re
import shlex
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from bulkload.errors import ConfigError
from bulkload.numbers import Evidence, Example, Reading

_ORDERS = {"dmy": "day first", "mdy": "month first"}
_SHAPES = {"dmy": "day-month-year", "mdy": "month-day-year"}
_AMBIGUOUS = "?"
#: what DateEvidence records of a date that proves no order: an ISO one, or one that reads the same both ways
_ISO, _SAME = "iso", "same"
#: what it records of a date of another shape that proves an order ("2/13/26", "13/2/2026 10:00 PM"): read only
#: with a --date-format, it decides nothing, but the advice to such dates names the order they show
_SHOWN = {"dmy": "dmy+", "mdy": "mdy+"}
#: the first date a given strptime format cannot read and the same format with %d and %m swapped can; and the first
#: of a shape no order is read from ("2026/02/13", "13 02 2026", "13022026") that the format reads and its swap not
_AGAINST, _MINE = "against", "mine"
#: what it records per other order of the given strptime format's day, month and year, its separators kept ("%y-%m-%d"
#: for "%d-%m-%y"; the swap of %d and %m is _AGAINST's): the first date that one reads and the given one not ("by
#: %y-%m-%d"), the first the given one reads and that one not ("not by …"), the first both read as two days ("both …")
_BY, _NOT_BY, _BOTH = "by ", "not by ", "both "
_OTHER = {"dmy": "mdy", "mdy": "dmy"}
#: the ways of writing D-M-YYYY, by separator: DateEvidence records each order's (and `_AMBIGUOUS`'s) first date of
#: each as well ("dmy.", "?/"): dates of one way that read both ways are decided by a date written so only
_WAYS = {"-": "dashes", ".": "points", "/": "slashes"}
_BY_WAY = frozenset({"dmy", "mdy", _AMBIGUOUS})
#: what it records, per separator ("ydm-", "ydm/", "ydm."), of a date shaped year first (YYYY-MM-DD, YYYY/MM/DD,
#: YYYY.MM.DD) that is no day year-month-day but is one year-day-month ("2026-13-02"): the file may write its dates
#: so, and then its dates that read both ways ("2026-05-02") would be read as the wrong day (decide refuses it)
_YDM = "ydm"
#: what it records of a date with a two-digit year that reads day or month first and is no day year first
#: ("25-12-99", or "5-11-26": no year is written in one digit): the file's are not written yy-mm-dd
_NOT_YEAR_FIRST = "not yy-mm-dd"
#: what it records of a D-M-YYYY date-time with AM or PM, and of one without whose hour a 12-hour clock writes too
#: ("4:15"): beside a "4:15 PM", that may be AM or PM, and a file with both is refused (decide)
_MARKED, _UNMARKED = "am/pm", "no am/pm"
#: what it records per date column (its name after the kind): that a cell of it reads (without a --date-format in
#: some order, or ISO; else with the one given), and the first that does not and that the advice names a way on for
#: the file ("30-Nov-2026": a format reads it; "30-11-26"), not one no format reads ("tomorrow", "13/13/26", a day no
#: calendar has, "31-Feb-2026": its row's fault, and no --date-format helps): where none of a column's cells reads
#: and one is advised, no row that gives one would load (decide refuses the file)
_READ, _ADVISED = "read ", "advised "
#: the decision for a file whose dates are all ISO, and for one without dates: no order is needed, and a date of
#: another shape is rejected (with an order decided it could have been read, and would have decided it)
ISO, NO_DATES = "iso", "none"
_NO_ORDER = frozenset({ISO, NO_DATES})
_MONTHS = ("", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")  # fmt: skip
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# What parse has read per spec: files repeat a few dates a million times. Cleared when full, to stay bounded.
_CACHE_MAX = 10_000
_CACHES: dict[str, dict[str, str | None]] = {}

# ASCII digits only: int(), date() and fromisoformat() also take "+1", " 1", "1_0", "٢٠٢٦" and week dates.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fullmatch
#: after a day written YYYY-MM-DD, a T or space and a time of day as the APIs' documents write one (seeds 002, 003:
#: "T14:15:22Z", "T16:47:12.8363753+01:00") or without its seconds: hour, minute, second (groups 1 to 3), a fraction
#: after the seconds only, and Z, an offset +HH:MM or nothing. fromisoformat also takes "T10.30" (as 10:00:00.3,
#: where Danish notation writes 10:30 so), "T10:30.5", "T10", "T1030" and "+0100": sent as written, an API may read
#: them either way, or not at all
_ISO_CLOCK = re.compile(r"[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,][0-9]+)?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?")
#: what follows a date shaped YYYY-MM-DD that is to be a time of day: a T or space, then digits and ISO's marks (it
#: reads only as _ISO_CLOCK writes one; a date shaped year-day-month before it is refused all the same)
_ISO_TIME = re.compile(r"[T ][0-9][0-9:.,+\-Z]*").fullmatch
#: a time of day after a date, or nothing: a space or T (group 5), then H:MM, H:MM:SS or H:MM:SS.ffffff (hour,
#: minute, second, fraction: 6 to 9), and AM or PM after it (10: a 12-hour clock, as US Excel writes date-times)
_CLOCK = r"(?:([T ])([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,6}))?)?( ?[AaPp][Mm])?)?"
#: D-M-YYYY, and a time of day after it (_CLOCK)
_DAY_MONTH = re.compile(r"([0-9]{1,2})([-./])([0-9]{1,2})\2([0-9]{4})" + _CLOCK).fullmatch
_TIME_DIRECTIVES = frozenset("HIMSfpzZXc")
#: a date written year first, as ISO's YYYY-MM-DD or with / or . instead of its -: year, separator, month, day
_YEAR_FIRST = re.compile(r"([0-9]{4})([-./])([0-9]{2})\2([0-9]{2})").fullmatch


def _date(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _iso(text: str) -> str | None:
    """`text` when it is a valid ISO date or date-time, else None; one with a space for its T (as RFC 3339 allows,
    and SQL writes) is given the T, and a comma before its fraction (as ISO 8601 allows) a point."""
    try:
        if len(text) == 10:
            date.fromisoformat(text)
        else:
            datetime.fromisoformat(text)
    except ValueError:
        return None
    if len(text) == 10 or (text[10] == "T" and "," not in text):
        return text
    return f"{text[:10]}T{text[11:].replace(',', '.')}"  # RFC 3339's shape: a T, and a point before a fraction


def _year_day_month(text: str) -> str | None:
    """The kind DateEvidence records of `text` ("ydm" and its separator) where it is shaped year first (YYYY-MM-DD,
    YYYY/MM/DD or YYYY.MM.DD, an ISO time of day after it or nothing) and is no day year-month-day but one
    year-day-month (its month 13 to 31, its day 1 to 12: "2026-13-02"), else None."""
    text = text.strip()
    m = _YEAR_FIRST(text[:10])
    if m is None or not (len(text) == 10 or _ISO_TIME(text[10:])):
        return None
    year, month, day = int(m[1]), int(m[3]), int(m[4])
    if _date(year, month, day) is not None or _date(year, day, month) is None:
        return None
    return _YDM + m[2]


#: the offsets of the world's zones run from -12:00 to +14:00 (26 hours): a clock reading of a day at an offset 10
#: or more hours behind UTC, or 12 and more ahead, is also the same reading of the day after or before at another
_LEAST, _MOST, _ZONE_STEP = timedelta(hours=-10), timedelta(hours=12), timedelta(minutes=15)
_DAY = timedelta(days=1)


def same_day(sent: str, said: str) -> bool:
    """Whether `said`, an API's answer of a date sent as `sent` (ISO "2026-11-01", or a date-time: its date is
    compared), names the date sent.

    An answer without an offset, or at midnight of its own offset ("2026-11-01", "2026-11-01T00:00:00+02:00"),
    names the date it writes. Another with an offset is an instant: it names the date sent where it is the time
    sent (midnight of a date) in a zone and that date in no other zone, at an offset of whole quarter hours more
    than 10 hours behind UTC and less than 12 ahead (zones run from -12:00 to +14:00: "2026-10-31T10:00:00Z" is
    midnight of 1 November at +14:00 and of 31 October at -10:00, and proves neither). Seed 003 sends and answers
    EntryDate as "2022-02-01T00:00:00+02:00" and says nothing of zones: a server holding the date in its zone may
    write it in UTC ("2026-10-31T23:00:00Z" is midnight of 1 November at +01:00), and "2026-11-01T23:00:00Z" is
    then midnight of 2 November, not the 1st. False for anything else, and for what is no ISO date (-time)."""
    try:
        instant = datetime.fromisoformat(said)
        clock = datetime.fromisoformat(sent).replace(tzinfo=UTC)  # its clock reading, as UTC's
    except ValueError:
        return said[:10] == sent[:10]
    if instant.tzinfo is None or instant.time() == time():  # a date, written at an offset or without
        return said[:10] == sent[:10]
    return _a_zones(clock - instant)  # the offset at which the instant reads the clock sent


def listed_day(said: str) -> str:
    """The date (ISO "2026-11-01") an API's date or date-time `said` names, where the date sent is compared by it
    (e-conomic's line checks: a date sent is midnight of it): `same_day` read without the date sent, so that a
    date sent and its answer give one text. An answer without an offset, or at midnight of its own, names the date
    it writes ("2026-11-01T00:00:00", "2026-11-01T00:00:00+02:00"); an instant that is midnight of a date in a zone
    (`same_day`'s zones) names that date ("2026-10-31T23:00:00Z": 1 November, midnight at +01:00, as a server
    holding the date in Copenhagen may write it; "2026-11-01T23:00:00Z": 2 November). Any other names its date part
    as written, as a time of day sent and kept does, and so does what is no ISO date (-time) (its first 10
    characters). Cached: a walk lists a few dates, each many times."""
    try:
        return _DAYS[said]
    except KeyError:
        if len(_DAYS) >= _CACHE_MAX:
            _DAYS.clear()
        day = _DAYS[said] = _day_named(said)
        return day


def one_date(one: str, other: str) -> bool:
    """Whether two dates as DateFormat.parse gives them (ISO "2026-11-05", or an ISO date-time) are one date written
    two ways: one clock reading at one offset, or both without an offset, a date being midnight of it.
    "2026-11-05", "2026-11-05T00:00" and "2026-11-05T00:00:00.000" are one; "2026-11-05T10:00" is another (a time of
    day), and so is "2026-11-05T00:00:00+01:00" (an instant: midnight of the 5th at +01:00, the 4th in a zone west
    of it), as is any other offset. What is no ISO date (-time) is one only with the same text."""
    if one == other:
        return True
    first, second = _reading(one), _reading(other)
    return first is not None and first == second


def _reading(text: str) -> tuple[datetime, timedelta | None] | None:
    """An ISO date (-time) as (its clock reading, its offset or None), None for what is none."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.replace(tzinfo=None), when.utcoffset()


#: listed_day's readings, by the text read
_DAYS: dict[str, str] = {}
#: how a date-time with an offset ends, as DateFormat.parse gives one: "Z", or "+01:00"
_OFFSET = re.compile(r"(?:Z|[+-][0-9]{2}:[0-9]{2})\Z").search


def at_offset(text: str) -> bool:
    """Whether `text`, a date as DateFormat.parse gives one (ISO "2026-11-01", or an ISO date-time), is a date-time
    with an offset ("2026-10-31T23:00:00Z", "2026-11-01T00:00:00+01:00"): an instant, which is one date in one zone
    and may be another in the zone an API books its days in."""
    return _OFFSET(text, 11) is not None


def instant_reason(written: str, api: str, seed: str, *, refused: str = "", keeper: str = "the account") -> str:
    """Why `written`, a date-time with an offset (`at_offset`) given to a field of `api` that takes a day, is refused:
    which day the API books for an instant its document `seed` ("seed 002") does not say, and the date written and
    the instant's date in the zone `keeper` keeps its days in may be two ("2026-10-31T23:00:00Z" is 1 November in
    Copenhagen). `refused`: which such date-times are, where the API takes some (", not at midnight")."""
    return (
        f"{written!r} is a date-time with an offset{refused}: which day {api} books for it is not documented "
        f"({seed}): the date written, {written[:10]}, or the instant's date where {keeper} keeps its days, which may "
        "be another; write the date alone, or the time of day without the offset"
    )


def _day_named(said: str) -> str:
    try:
        instant = datetime.fromisoformat(said)
    except ValueError:
        return said[:10]
    if instant.tzinfo is None or instant.time() == time():
        return said[:10]
    first = datetime.combine(instant.astimezone(UTC).date(), time(), UTC)  # the midnights either side in UTC
    for midnight in (first, first + _DAY):
        if _a_zones(midnight - instant):
            return midnight.date().isoformat()
    return said[:10]


def _a_zones(offset: timedelta) -> bool:
    """Whether `offset` (a clock reading, as UTC's, less the instant) is a zone's: whole quarter hours, more than 10
    hours behind UTC and less than 12 ahead (zones run from -12:00 to +14:00: only one date's midnight is so)."""
    return _LEAST < offset < _MOST and not offset % _ZONE_STEP


def _has_time(spec: str) -> bool:
    return not _TIME_DIRECTIVES.isdisjoint(re.findall(r"%(.)", spec))


def _convert(spec: str, text: str) -> str | None:
    """`text` as an ISO date (or date-time) read with `spec`, or None when it is not a valid date."""
    text = text.strip()
    if not text.isascii():
        return None
    if _ISO_DATE(text[:10]) and (len(text) == 10 or _ISO_CLOCK.fullmatch(text, 10)):
        return _iso(text)
    if spec in _NO_ORDER:
        return None
    if spec in _ORDERS:
        parts = _parts(text)
        if parts is None:
            return None
        first, _, second, year, clock = parts
        day = _date(year, second, first) if spec == "dmy" else _date(year, first, second)
        return day if day is None or not clock else f"{day}T{clock}"
    return _by_format(spec, text)


def _by_format(spec: str, text: str) -> str | None:
    """`text` (stripped, ASCII) as an ISO date (or date-time) read with the strptime format `spec` alone, even where
    it is shaped as ISO, or None when it is no valid date of that format."""
    if " " in text and " " not in spec:  # strptime's %d also takes " 3"
        return None
    try:
        parsed = datetime.strptime(text, spec)
    except ValueError:
        return None
    if _other_weekday(spec, text, parsed) is not None:
        return None
    return parsed.isoformat() if _has_time(spec) else parsed.date().isoformat()


def _weekday_fault(spec: str, text: str) -> str | None:
    """_other_weekday's reason where `text` (stripped) reads with the strptime format `spec` but for its weekday."""
    try:
        parsed = datetime.strptime(text, spec)
    except ValueError:
        return None
    return _other_weekday(spec, text, parsed)


#: the strptime directives of a weekday, which strptime reads and does not hold to the date (%a, %A: its name; %u:
#: its number, Monday 1; %w: Sunday 0)
_WEEKDAY_DIRECTIVES = ("%a", "%A", "%u", "%w")


def _other_weekday(spec: str, text: str, parsed: datetime) -> str | None:
    """Why `text`, read with the strptime format `spec` as `parsed`, is no day: a weekday it names (_WEEKDAY_DIRECTIVES)
    is not its day's, which strptime does not check ("Mon 01.12.2026", "1 01.12.2026" for %u: a Tuesday; the weekday
    or the date is wrong, or day and month are swapped, and which cannot be told). Read by the format with each of
    its weekday directives written as its day's: `text` must read so too. None where it names none, or its day's."""
    if not any(d in spec for d in _WEEKDAY_DIRECTIVES):
        return None
    day = re.sub("|".join(_WEEKDAY_DIRECTIVES), lambda m: parsed.strftime(m[0]), spec.replace("%%", "\0"))
    try:
        datetime.strptime(text, day.replace("\0", "%%"))
    except ValueError:
        return f"its weekday is not its day's: {parsed.date().isoformat()} is a {_WEEKDAYS[parsed.weekday()]}"
    return None


#: numbers apart by one separator, the year last in two digits, and a time of day after it or not (_CLOCK):
#: "2/13/26", "13.02.26", "12/31/26 11:59 PM"
_SHORT_YEAR = re.compile(r"([0-9]{1,2})([-./])([0-9]{1,2})\2([0-9]{2})" + _CLOCK).fullmatch
#: a date of that shape with two or four digits of year at the start of a cell, whatever follows ("2/13/26",
#: "2/13/2026 10:00 PM")
_LEADING = re.compile(r"\s*([0-9]{1,2})([-./])([0-9]{1,2})\2([0-9]{2}(?:[0-9]{2})?)(?![0-9])").match


def _as_year_first(m: re.Match[str]) -> str | None:
    """The day (ISO, its time of day after it as read) a two-digit-year date matched by _SHORT_YEAR is read year
    first (yy-mm-dd: "26-11-05" is 2026-11-05), None where it is none so; a year written in one digit is none."""
    if len(m[1]) != 2 or len(m[3]) != 2:
        return None
    return _by_format(f"%y{m[2]}%m{m[2]}%d{_clock_directives(m)}", m.string)


def _not_year_first(text: str) -> bool:
    """Whether `text` is a date with a two-digit year (_SHORT_YEAR) that reads day or month first and is no day
    read year first (_as_year_first): a file's dates written yy-mm-dd have none."""
    m = _SHORT_YEAR(text.strip())
    if m is None or _as_year_first(m) is not None:
        return False
    clock = _clock_directives(m)
    return any(_by_format(_strptime(spec, m[2], "%y") + clock, m.string) is not None for spec in _ORDERS)


#: a spreadsheet's day number (Excel's count of days), a fraction of a day after it where the cell held a time
#: too ("45991.5", "45991,5": noon): the day (group 1)
_SERIAL = re.compile(r"([0-9]{5})(?:[.,][0-9]+)?").fullmatch
#: a day and a month of three or four digits, DDMM as DATEV writes a voucher's date (a spreadsheet may drop the
#: day's zero: 311 for 0311): the day and the month (1-12)
_DAY_MONTH_ONLY = re.compile(r"([0-9]{1,2})(0[1-9]|1[0-2])").fullmatch
#: the formats of a date of eight digits without separators: year first, day first, month first
_COMPACT = ("%Y%m%d", "%d%m%Y", "%m%d%Y")


def _example(text: str, order: str = "", year_first: bool = True) -> str:
    """The --date-format that would read `text`, as a refusal names it: its order where the text shows it (a
    number over 12 is the day), else `order` ("dmy" / "mdy": the one the file's other dates show), else both; a
    generic one for other shapes. A two-digit-year date that reads year first too (yy-mm-dd: "26-11-05") is told
    each format with the day it reads, unless `year_first` is False (a date of the file is no day so)."""
    m = _SHORT_YEAR(text.strip())
    if m is None and (serial := _SERIAL(text.strip())) and 20_000 <= int(serial[1]) <= 80_000:  # 1954 to 2119
        return "it looks like a spreadsheet's day number: format the column as a date before the export"
    if m is None and (day_month := _DAY_MONTH_ONLY(text.strip())) and 1 <= int(day_month[1]) <= 31:
        return (
            f"it is a day and a month without a year ({int(day_month[1])}.{int(day_month[2])}.), as DATEV's Belegdatum "
            "writes them (the year is in the export's first line): no format reads a day without its year; write "
            "each date with its year (30.11.2026, or ISO 2026-11-30)"
        )
    if m is None and len(digits := text.strip()) == 8 and digits.isdigit():  # a date written without separators
        # year first (20261130, as SAP and DATEV write it) or last (30112026, a ddmmyyyy export): each that reads it
        readings = [(spec, "", day) for spec in _COMPACT if (day := _by_format(spec, digits)) is not None]
        return _which(readings) if readings else _NO_DAY
    as_year_first = None
    if m is None:
        formats = _read_off(text)  # only those that read it: where it shows its order, that one alone
        if not formats:
            if _month_by_other_name(text):
                return _NO_MONTH
            # 2026/31/31: formats are read off its shape (%Y/%m/%d, %Y/%d/%m), and none of them reads it
            return _NO_DAY if text.isascii() and _shaped(text) else _NO_FORMAT
        if formats.keys() != _ORDERS.keys():  # a month by name, or year first: each reading with its day
            return _which([(spec, "", _by_format(spec, text.strip()) or "") for spec in formats.values()])
    else:  # only the orders that read it (13/13/26 and 2/30/26 none, 31/12/26 24:00 none: no such hour)
        clock = _clock_directives(m)
        formats = {
            spec: written
            for spec in _ORDERS
            if _by_format(written := _strptime(spec, m[2], "%y") + clock, m.string) is not None
        }
        if not formats:  # 31-02-05: 2031-02-05 read year first alone
            year_first_only = _as_year_first(m) and f"%y{m[2]}%m{m[2]}%d{clock}"
            return f"--date-format {shlex.quote(year_first_only)} reads it (year first)" if year_first_only else _NO_DAY
        if year_first:
            as_year_first = _as_year_first(m)
    own = next(iter(formats)) if len(formats) == 1 else ""
    # the orders named, and what is said of each: the text's own, the one the file's dates show, or both
    if own:
        named = {own: ""}
    elif order in _ORDERS:
        named = {order: f"{_ORDERS[order]}, as the file's dates show"}
    else:
        named = {"dmy": _ORDERS["dmy"], "mdy": _ORDERS["mdy"]}
    if m is not None and as_year_first is not None:
        return _each_reading(m, formats, named, as_year_first)
    if len(named) == 2:  # each with its flag: each is one to give (a manifest's job is told each as its key)
        return (
            f"--date-format {shlex.quote(formats['dmy'])} (day first) or --date-format {shlex.quote(formats['mdy'])} "
            "(month first)"
        )
    ((spec, said),) = named.items()
    return f"--date-format {shlex.quote(formats[spec])} reads it" + (f" ({said})" if said else "")


_NO_FORMAT = "no format is read off its shape: give the strptime format the file's dates are written in"
#: the advice to a date whose month is a name strptime does not read (`01-okt-2026`, `30. maj 2026`): no format does
_NO_MONTH = (
    "its month is a name no format reads: --date-format reads month names in English alone (Jan to Dec, January "
    "to December); export the dates with the month as a number (30-11-2026) or an English name"
)


def _month_by_other_name(text: str) -> bool:
    """Whether `text` is a day, a word and a year, the word no English name of a month or weekday (`01-okt-2026`,
    `30. maj 2026`, `1 März 2026`): a month named in another language."""
    words = re.findall(r"[^\W\d_]+", text)
    numbers = re.findall(r"[0-9]+", text)
    return len(words) == 1 and len(numbers) == 2 and words[0].lower() not in _NAMES and len(words[0]) >= 3


#: the advice to a date of a shape formats are read off, no reading of which is a day ("13/13/26", "2/30/26")
_NO_DAY = "no reading of it is a day of the calendar (nor a time of day): it is no date"
#: a cell's pieces, as a format is read off it: a run of ASCII digits, one of letters, or one other character
_PIECES = re.compile(r"[0-9]+|[A-Za-z]+|.", re.DOTALL).findall
#: the characters a format read off a cell writes as they are, between its directives
_BETWEEN = frozenset(" ,-./")
#: a time of day in a cell: hour, minute, second, the mark before a fraction (groups 1 to 4) and the fraction
_TIME_OF_DAY = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:([.,])([0-9]{1,6}))?)?")
#: the names strptime reads in a cell (its C locale's, in any case), as their directives
_NAMES = {
    name.lower(): directive
    for directive, names in (
        ("%b", [month[:3] for month in _MONTHS[1:]]),
        ("%B", _MONTHS[1:]),
        ("%a", [day[:3] for day in _WEEKDAYS]),
        ("%A", _WEEKDAYS),
        ("%p", ("AM", "PM")),
    )
    for name in names
}


def _read_off(text: str) -> dict[str, str]:
    """The strptime formats that read the date `text` as it is written, by the order of their day, month and
    year ("ymd": 2026/11/30's %Y/%m/%d; "named" where the month is a name: 30-Nov-2026's %d-%b-%Y): those of its
    shape (_shaped) that read it (_by_format); both "dmy" and "mdy" where each reads it (1 2 2026), year-day-month
    only where year-month-day does not."""
    formats: dict[str, str] = {}
    for order, spec in _shaped(text).items():
        if order == "ydm" and "ymd" in formats:
            continue
        if _by_format(spec, text.strip()) is not None:
            formats[order] = spec
    return formats


def _shaped(text: str) -> dict[str, str]:
    """The strptime formats of the date `text`'s shape, whether they read it or not (31-Feb-2026's %d-%b-%Y), by
    the order of their day, month and year (as _read_off): its separators, names of months and weekdays, time of
    day and AM/PM kept. Only those --date-format takes (_check_spec); none for a cell of another shape ("30th Nov
    2026")."""
    text = text.strip()
    clock = _TIME_OF_DAY.search(text)
    pieces = _PIECES(text if clock is None else text[: clock.start()])
    after = [] if clock is None else _PIECES(text[clock.end() :])
    time_of_day = ""
    if clock is not None:
        before = pieces.pop() if pieces and pieces[-1] in ("T", " ") else ""
        seconds = "" if clock[3] is None else ":%S" + ("" if clock[4] is None else f"{clock[4]}%f")
        time_of_day = f"{before}{'%I' if any(_NAMES.get(p.lower()) == '%p' for p in after) else '%H'}:%M{seconds}"
    kept = []  # each piece, a name as its directive
    for piece in pieces + after:
        written = _NAMES.get(piece.lower()) if piece.isalpha() else piece
        if written is None or not (written[0] == "%" or written.isdigit() or written in _BETWEEN):
            return {}  # a word or mark no format reads ("30th", "+", "W44")
        kept.append(written)
    if any(piece.isdigit() for piece in after):
        return {}
    numbers = [piece for piece in pieces if piece.isdigit()]
    named = sum(piece in ("%b", "%B") for piece in kept)
    formats: dict[str, str] = {}
    for order, directives in _directives(numbers, named).items():
        given = iter(directives)
        written = [next(given) if piece.isdigit() else piece for piece in kept]
        spec = "".join(written[: len(pieces)]) + time_of_day + "".join(written[len(pieces) :])
        if _takes(spec):
            formats[order] = spec
    return formats


def _directives(numbers: list[str], named: int) -> dict[str, tuple[str, ...]]:
    """The strptime directives of a date's `numbers` (its runs of digits, in the order written), by the order they
    may be read in, where `named` months are written by name: beside one, a day and a year ("30", "2026": %d, %Y;
    "30", "26": %d, %y); beside none, a day, a month and a year, the year first in four digits (year-month-day, then
    year-day-month) or last in two or four."""
    sizes = [len(number) for number in numbers]
    if named == 1 and len(sizes) == 2 and max(sizes) <= 2:  # 26-Nov-05: 26 November 2005, or 5 November 2026
        return {"named": ("%d", "%y"), "named, year first": ("%y", "%d")}
    if named == 1 and sorted(sizes) in ([1, 4], [2, 4]):
        return {"named": ("%d", "%Y") if sizes[1] == 4 else ("%Y", "%d")}
    if named or len(sizes) != 3:
        return {}
    if sizes[0] == 4 and max(sizes[1:]) <= 2:
        return {"ymd": ("%Y", "%m", "%d"), "ydm": ("%Y", "%d", "%m")}
    year = {2: "%y", 4: "%Y"}.get(sizes[2])
    if year is None or max(sizes[:2]) > 2:
        return {}
    return {"dmy": ("%d", "%m", year), "mdy": ("%m", "%d", year)}


def _takes(spec: str) -> bool:
    """Whether --date-format takes the strptime format `spec` (_check_spec)."""
    try:
        _check_spec(spec)
    except ConfigError:
        return False
    return True


def _each_reading(m: re.Match[str], formats: dict[str, str], named: dict[str, str], as_year_first: str) -> str:
    """The advice to a two-digit-year date (`m`, its match of _SHORT_YEAR) that reads year first (as `as_year_first`)
    as well as in the orders `named` (their formats in `formats`, what is said of each): each format with the day it
    reads, and the way on, as the file's dates do not show which is meant."""
    readings = [
        (formats[spec], said or _ORDERS[spec], day)
        for spec, said in named.items()
        if (day := _by_format(formats[spec], m.string)) is not None
    ]
    readings.append((f"%y{m[2]}%m{m[2]}%d{_clock_directives(m)}", "year first", as_year_first))
    return _which(readings)


def _which(readings: list[tuple[str, str, str]]) -> str:
    """The advice to a date the formats of `readings` (format, what is said of it or "", the day it reads) read:
    the one format where all read one day, else each with its day, and the way on, as the file does not show which
    is meant ("26-Nov-05": 2005-11-26 read %d-%b-%y, 2026-11-05 read %y-%b-%d)."""
    if len({day for _, _, day in readings}) == 1:
        return f"--date-format {shlex.quote(readings[0][0])} reads it"
    (spec, said, day), *others = ((spec, f" ({said})" if said else "", day) for spec, said, day in readings)
    told = "".join(f", --date-format {shlex.quote(spec)} as {day}{said}" for spec, said, day in others)
    return (
        f"--date-format {shlex.quote(spec)} reads it as {day}{said}{told}: the file's dates do not show which "
        "they are; give the one they are written in, or write them as ISO YYYY-MM-DD"
    )


def _clock_directives(m: re.Match[str]) -> str:
    """The strptime directives of the time of day a match of _CLOCK's groups found as it is written (" %I:%M %p",
    "T%H:%M:%S,%f"), "" for none: the format that reads a date of a shape dmy / mdy do not (a two-digit year)."""
    if m[6] is None:
        return ""
    clock = f"{m[5]}{'%I' if m[10] else '%H'}:%M" + ("" if m[8] is None else ":%S")
    if m[9] is not None:
        clock += m.string[m.start(9) - 1] + "%f"
    return clock + ("" if m[10] is None else m[10][:-2] + "%p")


def _expected(spec: str, text: str, order: str = "", year_first: bool = True) -> str:
    """What a date `text` that did not read with `spec` should have been, and the option that reads other dates;
    none for a date of the right shape that no calendar has (30 February). `order`, `year_first`: DateFormat's."""
    if (fault := _fault(spec, text)) is not None:
        return fault
    if spec not in _ORDERS and spec not in _NO_ORDER:
        read = f"format {spec} (--date-format) or YYYY-MM-DD"
    elif spec == NO_DATES:  # no date of the file reads, nor does a format read this one (else decide refuses it)
        read = "YYYY-MM-DD or D-M-YYYY"
    elif spec == ISO:
        read = "YYYY-MM-DD, as the file's other dates are"
    else:
        read = f"{_SHAPES[spec]} or YYYY-MM-DD, as the file's dates were read ({_ORDERS[spec]})"
    # "yesterday", "n/a", "-", "1.1": no format reads a day, a month and a year off fewer than three digits
    if text.strip() and sum(c.isdecimal() for c in text) < 3:
        return f"{_UNREADABLE}; write the row's date as {read}"
    if spec not in _ORDERS and spec not in _NO_ORDER:
        return f"expected {read}"
    if (advice := _example(text, order, year_first)) == _NO_DAY:  # 13/13/26: no format to give
        return advice
    return f"expected {read}; for dates of another format give --date-format: {advice}"


#: why a cell of fewer than three digits ("yesterday", "n/a", "1.1") is no date: a day, a month and a year take three
_UNREADABLE = (
    "it cannot be read as a date: it has not the digits of a day, a month and a year, so no --date-format reads it"
)


def _fault(spec: str, text: str) -> str | None:
    """Why `text`, a date of a shape that reads, is none ("no such day in the calendar", and the days of its month
    where a reading names one: _no_such_day; its time of day: as _clock_fault with `spec`); None where its shape is
    what does not read."""
    day = text.strip()[:10]
    if (_ISO_DATE(day) and _iso(day) is None) or (_parts(text) is not None and _order(text) is None):
        return _no_such_day(spec, text)
    if spec not in _ORDERS and spec not in _NO_ORDER and (other := _weekday_fault(spec, text.strip())) is not None:
        return other
    return _clock_fault(spec, text.strip()) or _past_month(spec, text) or _unnamed(spec, text)


def _unnamed(spec: str, text: str) -> str | None:
    """Why `text` does not read with a strptime format `spec` that reads names (%a, %A, %b, %B): a word of it no
    name strptime reads ("ons 02.12.2026", a Danish weekday: it reads its C locale's, English); None where every word
    is such a name, or `spec` reads none."""
    if not any(d in spec for d in ("%a", "%A", "%b", "%B")):
        return None
    word = next((w for w in re.findall(r"[^\W\d_]+", text) if w.lower() not in _NAMES), None)
    if word is None:
        return None
    return (
        f"{word!r} is no weekday or month name --date-format reads: it reads them in English (Mon or Monday, Jan or "
        "January, in any case)"
    )


_NO_SUCH_DAY = "no such day in the calendar"


def _no_such_day(spec: str, text: str) -> str:
    """What is said of `text`, a date of a shape that reads and no day of the calendar: "no such day in the
    calendar", and where a reading of it names a month and a day past its last, that month's days (_past_month)."""
    return _past_month(spec, text) or _NO_SUCH_DAY


def _past_month(spec: str, text: str) -> str | None:
    """The reason "no such day in the calendar: February 2026 has 28 days" where `text` is shaped as a date a
    format reads, but for its day, past the last of its month: read as YYYY-MM-DD ("2026-02-30"), D-M-YYYY or
    D-M-YY either way ("29/02/2025", "2/30/26", a time of day after it or not), with the strptime format `spec`,
    or with one of its shape (_shaped: "31-Feb-2026", "Feb 29, 2025"). The same for every format that reads the
    shape: no format reads the day, the row is to be fixed. None where no reading is so ("32/13/2026", "x")."""
    text = text.strip()
    for year, month, day in _days_read(spec, text):
        if year >= 1 and 1 <= month <= 12 and day > (last := calendar.monthrange(year, month)[1]):  # no year 0
            return f"{_NO_SUCH_DAY}: {_MONTHS[month]} {year} has {last} days"
    return None


def _days_read(spec: str, text: str) -> Iterator[tuple[int, int, int]]:
    """The (year, month, day) each reading of the date `text` (stripped) names, as _past_month reads it: its
    numbers where it is shaped YYYY-MM-DD (read as ISO whatever the format); the strptime format `spec`'s where it
    is one and reads the shape; else, where no format reads it (30-Feb-05 is 2030-02-05 read %y-%b-%d, 31-02-05
    2031-02-05 read %y-%m-%d: that reading may be meant), those of D-M-YYYY or D-M-YY either way (two readings),
    a time of day after it or nothing, or of each format of its shape (_shaped). A format's reads its day as a
    number of 0 to 59 (a minute's or second's directive for its %d)."""
    if (m := _YEAR_FIRST(text[:10])) is not None and m[2] == "-":
        yield int(m[1]), int(m[3]), int(m[4])
        return
    if spec not in _ORDERS and spec not in _NO_ORDER and (read := _day_as_number(spec, text)) is not None:
        yield read
        return
    if _read_off(text) or ((short := _SHORT_YEAR(text)) is not None and _as_year_first(short) is not None):
        return
    if (m := _LEADING(text)) is not None and text[m.end() : m.end() + 1] in ("", "T", " "):
        year = _full_year(m[4])
        yield year, int(m[3]), int(m[1])
        yield year, int(m[1]), int(m[3])
        return
    for each in _shaped(text).values():
        if (read := _day_as_number(each, text)) is not None:
            yield read


def _day_as_number(spec: str, text: str) -> tuple[int, int, int] | None:
    """(year, month, day) of `text` read with the strptime format `spec`, its %d read as a number of 0 to 59 (a
    minute's or second's directive, whichever `spec` has not): a day its month has not reads ("31-Feb-2026" with
    %d-%b-%Y). None where it does not read so, or `spec` has no one %d."""
    directives = re.findall(r"%(.)", spec)
    day = next((d for d in "MS" if d not in directives), None)
    if directives.count("d") != 1 or day is None:
        return None
    read = _by_format("".join(f"%{day}" if p == "%d" else p for p in re.split("(%.)", spec)), text)
    if read is None:
        return None
    when = datetime.fromisoformat(read)
    return when.year, when.month, when.minute if day == "M" else when.second


#: a D-M-YYYY date followed by a T or space and anything: its numbers (groups 1, 3, 4)
_DAY_MONTH_THEN = re.compile(r"([0-9]{1,2})([-./])([0-9]{1,2})\2([0-9]{4})[T ].*").fullmatch


def _clock_fault(spec: str, text: str) -> str | None:
    """Why `text` (stripped), a day followed by a time of day, is no date where its time is what does not read:
    "no such time of day" (25:00, 10:60, a second 60, 13:05 PM), or the shape a time of day is read in (12.30, an
    offset of no zone: no --date-format is the way on, the time is to be written again); "no such day in the
    calendar" where the day is none either. None where the time is not at fault: no time, a valid day YYYY-MM-DD
    checked before; a D-M-YYYY day `spec` (an order, "iso" or "none") does not read; a strptime `spec`, which reads
    a D-M-YYYY date-time of its own shape only."""
    if _ISO_DATE(text[:10]) and len(text) > 10 and text[10] in "T ":  # read as ISO whatever the spec
        m = _ISO_CLOCK.fullmatch(text, 10)
        if m is not None and (int(m[1]) > 23 or int(m[2]) > 59 or int(m[3] or 0) > 59):
            return "no such time of day"
        return (
            "its time of day does not read as ISO writes one: THH:MM or THH:MM:SS, with Z or an offset such as "
            "+01:00 after it or nothing"
        )
    m = _DAY_MONTH_THEN(text)
    if m is None or _parts(text) is not None:  # no time of day, or one that reads: the day's order is at fault
        return None
    first, second, year = int(m[1]), int(m[3]), int(m[4])
    if _DAY_MONTH(text) is not None:  # 24:00, 10:60, 13:05 PM, 0:05 AM: no format reads it either
        return "no such time of day" if _proof(first, second, year) is not None else _no_such_day(spec, text)
    if spec not in _ORDERS and spec not in _NO_ORDER:
        return None
    if _proof(first, second, year) is None:
        return _no_such_day(spec, text)
    if spec in _ORDERS and _convert(spec, text[: m.end(4)]) is None:
        return None
    return "its time of day does not read: write it H:MM or H:MM:SS, on a 24-hour clock or with AM/PM"


class DateFormat(NamedTuple):
    """How a file writes dates: `spec` is "dmy" (day first), "mdy" (month first), a strptime format such as
    "%d-%m-%Y", or "iso" / "none" (every date is ISO / the file has none: no order needed, ISO only); `reason`
    says what decided it, for the report; `order` is the one order the file's dates show ("dmy" / "mdy", "" for
    none or both; "" where a format was given), which the advice to a date that does not read names; `year_first`
    is False where a date of the file with a two-digit year is no day read year first (yy-mm-dd: "25-12-99", or a
    year of one digit, "5-11-26"), so that the advice to one that is ("26-11-05") names its other readings alone."""

    spec: str = "dmy"
    reason: str = ""
    order: str = ""
    year_first: bool = True

    def parse(self, text: str) -> str:
        """`text` as ISO: "YYYY-MM-DD", or the ISO date-time as given when it is one.

        YYYY-MM-DD and ISO date-times are accepted whatever the spec (one with a space for its T is given the T).
        "dmy"/"mdy" read D-M-YYYY, D.M.YYYY or D/M/YYYY (same separator twice, 1 or 2 digits), and a time of day
        after it ("03/04/2026 9:05" is "2026-04-03T09:05" day first, "03/04/2026 9:05 PM" "2026-04-03T21:05"); a
        strptime spec reads what it says (two-digit
        years only this way). ValueError "not a valid date: '30-02-2026' (...)" for anything else.
        """
        try:
            result = _CACHES[self.spec][text]
        except KeyError:
            cache = _CACHES.setdefault(self.spec, {})
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            result = cache[text] = _convert(self.spec, text)
        if result is None:
            raise ValueError(f"not a valid date: {text!r} ({_expected(self.spec, text, self.order, self.year_first)})")
        if result.startswith("00") and not _ISO_DATE(text.strip()[:10]):
            # "05.11.0026": a two-digit year padded with zeros (an export, a text-to-date conversion), never the
            # year 26 a book means; an ISO date is as written (.NET's 0001-01-01 for no date)
            raise ValueError(
                f"not a valid date: {text!r} (its year is written {result[:4]}: a two-digit year padded with zeros? "
                f"write the year in full, 20{result[2:4]} or 19{result[2:4]})"
            )
        return result


def _parts(text: str) -> tuple[int, str, int, int, str] | None:
    """A D-M-YYYY shaped `text` as (first number, separator, second number, year, time of day as ISO "HH:MM",
    "HH:MM:SS" or "HH:MM:SS.ffffff", or "" for none), else None (also for a time of day that is none). A time
    with AM or PM is on a 12-hour clock (1 to 12: "12:05 AM" is 00:05, "4:15 PM" 16:15), one without on a 24-hour
    one (0 to 23); whether a file writes both is decided for the file (DateEvidence.decide)."""
    m = _DAY_MONTH(text.strip())
    if m is None:
        return None
    clock = ""
    if m[6] is not None:
        hour, minute, second, fraction, meridiem = int(m[6]), int(m[7]), int(m[8] or 0), m[9], m[10]
        if meridiem is not None:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if meridiem[-2] in "Pp" else 0)
        if hour > 23 or minute > 59 or second > 59:
            return None
        clock = f"{hour:02d}:{m[7]}" + ("" if m[8] is None else f":{m[8]}")
        clock += "" if fraction is None else f".{fraction}"
    return int(m[1]), m[2], int(m[3]), int(m[4]), clock


def _clock_kind(text: str) -> str | None:
    """What DateEvidence records of the time of day of a D-M-YYYY `text` that _parts reads: `_MARKED` for one with
    AM or PM, `_UNMARKED` for one without whose hour (1 to 12) a 12-hour clock writes too, else None."""
    m = _DAY_MONTH(text.strip())
    if m is None or m[6] is None:
        return None
    return _MARKED if m[10] is not None else _UNMARKED if 1 <= int(m[6]) <= 12 else None


def _order(text: str) -> str | None:
    """What `text` proves: "dmy", "mdy", `_AMBIGUOUS` when it is a valid date both ways, None when nothing."""
    parts = _parts(text)
    if parts is None:
        return None
    first, _, second, year, _ = parts
    return _proof(first, second, year)


def _separator(text: str) -> str:
    """The separator ("-", "." or "/") of a D-M-YYYY shaped `text` (as _parts reads it)."""
    parts = _parts(text)
    assert parts is not None  # a date _order reads
    return parts[1]


def _readings(example: Example, path: str) -> str:
    """What a refusal says of a D-M-YYYY date `example` that reads both ways: its line, field and both days."""
    line, field, text = example
    return f"{path}: line {line}: {field} {text!r} could be {_both(text)}"


def _both(text: str) -> str:
    """The two days a D-M-YYYY date `text` that reads both ways may be: "1 November or 11 January"."""
    one, _, two, _, _ = _parts(text) or (0, "", 0, 0, "")
    return f"{one} {_MONTHS[two]} or {two} {_MONTHS[one]}"


def _if_too(spec: str, way: str) -> str:
    """The ways on for a file whose dates written with `way` ("points") read both ways, where only a date written
    another way shows an order, `spec`: one --date-format reads both ways of writing in that order only."""
    shown, other = _ORDERS[spec], _ORDERS[_OTHER[spec]]
    return (
        f"If the file's dates written with {way} are {shown} too, give --date-format {spec}; if they are {other}, no "
        "one --date-format reads both ways of writing: write one of them as ISO YYYY-MM-DD. Nothing was sent"
    )


def _proof(first: int, second: int, year: int) -> str | None:
    """What a date of the numbers `first`, `second` (day and month in some order) and `year` proves, as _order."""
    day_first = _date(year, second, first) is not None
    month_first = _date(year, first, second) is not None
    if day_first and month_first:
        return _AMBIGUOUS if first != second else None
    return "dmy" if day_first else "mdy" if month_first else None


def _shown(text: str) -> str | None:
    """The order ("dmy" / "mdy") a date at the start of `text` proves, with two or four digits of year and
    whatever after it ("2/13/26", "13.2.2026 10:00 PM"), else None; a two-digit year is of strptime's century."""
    m = _LEADING(text)
    if m is None:
        return None
    order = _proof(int(m[1]), int(m[3]), _full_year(m[4]))
    return None if order == _AMBIGUOUS else order


def _full_year(digits: str) -> int:
    """The year written `digits`, in four digits or in two of strptime's century ("26": 2026, "99": 1999)."""
    year = int(digits)
    return year if len(digits) == 4 else year + (2000 if year < 69 else 1900)


def _check_spec(spec: str) -> None:
    """ConfigError unless `spec` writes and reads back day, month and year (two dates that tell them apart), and
    has no offset directive (%z, %Z): a date-time read by a format is sent as written, without its offset."""
    if offset := next((d for d in re.findall(r"%(.)", spec) if d in "zZ"), None):
        raise ConfigError(
            f"--date-format {spec!r} reads an offset (%{offset}): a --date-format reads dates and times of day "
            "without one. Write date-times with an offset as ISO 8601 (2026-04-25T09:05:00+02:00), which is read "
            f"whatever --date-format says, and give the format without %{offset} for the file's other dates"
        )
    for when in (datetime(2026, 12, 31, 23, 59, 58), datetime(2001, 2, 3, 4, 5, 6)):
        try:
            written = when.strftime(spec)
            read = datetime.strptime(written, spec).date()
        except (ValueError, re.error) as exc:  # re.error: a directive given twice
            raise ConfigError(_NOT_A_FORMAT.format(spec=spec)) from exc
        if read != when.date():
            raise ConfigError(_NOT_A_FORMAT.format(spec=spec))
        if _ISO_DATE(written[:10]) and written[:10] != read.isoformat():
            raise ConfigError(
                f"--date-format {spec!r} writes dates like ISO YYYY-MM-DD in another order; YYYY-MM-DD is always "
                "read as ISO, so this format cannot be told apart from it"
            )


_NOT_A_FORMAT = (
    "--date-format {spec!r} is not a date format: give dmy, mdy, or a strptime format with day, month and year such "
    "as %d-%m-%Y"
)


def _suggest(spec: str, text: str) -> str:
    """The --date-format that reads `text` in order `spec`: with the separator `text` uses; `dmy` or `mdy` where it
    has a time of day (they read dates with and without one, where a strptime format reads only its own shape)."""
    m = _DAY_MONTH(text.strip())
    if m is not None and m[6] is not None:
        return f"--date-format {spec}"
    return f"--date-format {_strptime(spec, '-' if m is None else m[2])}"


def _strptime(spec: str, sep: str, year: str = "%Y") -> str:
    """The strptime format of the order `spec` ("dmy" or "mdy") with the separator `sep` and the year `year`."""
    return f"%d{sep}%m{sep}{year}" if spec == "dmy" else f"%m{sep}%d{sep}{year}"


def given_format(given: str) -> DateFormat:
    """--date-format `given` as the DateFormat it names: "dmy" / "mdy" (in any case) or the strptime format, its
    locale's directives written out (_C_LOCALE). ConfigError when it is none of them: a strptime format must write and
    read back day, month and year."""
    spec = given.lower() if given.lower() in _ORDERS else given
    if spec not in _ORDERS:
        spec = re.sub("%[%cxX]", lambda m: _C_LOCALE.get(m[0], m[0]), spec)
        _check_spec(spec)
    return DateFormat(spec, f"given: --date-format {shlex.quote(given)}")  # one word, as a shell and a way on read it


#: strptime's directives of the locale's date and time (`%c`, `%x`, `%X`) as the C locale writes them, which is the
#: locale bulkload reads dates in (it never sets one): written out, each of their parts is checked as a format's
#: own (a weekday against its date, the order of day and month), and `%c`'s day padded with a space reads (before,
#: `--date-format %c` read no date: tester, 2026-12)
_C_LOCALE = {"%c": "%a %b %d %H:%M:%S %Y", "%x": "%m/%d/%y", "%X": "%H:%M:%S"}


def _as_read_before(spec: str, proof: Example, ambiguous: Example | None, before: Reading | None, path: str) -> None:
    """ConfigError where the file's own dates prove `spec` (by `proof`) while the input whose rows it holds (a
    rejects file: loads.read_before) was read in the other order, and a date of it reads both ways (`ambiguous`):
    read `spec`, that date, as the input wrote it, would be booked as another day than the input's run read it (a
    date fixed in a day-first rejects file as 11/30/2026 booked its voucher's 05/11/2026 as 11 May: tester t42a)."""
    read = _order_read(before)
    if ambiguous is None or before is None or read is None or read == spec:
        return
    raise ConfigError(
        f"{path}: {proof} is {_ORDERS[spec]}, but its rows were read {_ORDERS[read]} {before.said}: read "
        f"{_ORDERS[spec]}, {ambiguous} and its other dates that read both ways would be booked as other days than "
        f"that run read them. Write the dates changed in it {_ORDERS[read]}, as the rest are (or as ISO "
        "YYYY-MM-DD); nothing was sent"
    )


def _order_read(before: Reading | None) -> str | None:
    """The day-month order ("dmy", "mdy") the run of `before` (loads.read_before) read its input in; None for none
    (no such run, ISO dates, a format of the year first or of a month by name)."""
    if before is None or re.search(r"%[yY].*%[dm]", before.date_format):  # a format of the year first
        return None
    return before.date_format if before.date_format in _ORDERS else (_swapped(before.date_format) or (None,))[0]


def _swapped(spec: str) -> tuple[str, str] | None:
    """The order of the strptime format `spec` ("dmy" when its %d comes before its %m, else "mdy") and `spec`
    with %d and %m swapped; None where it has no %m (a month by name: no order to swap)."""
    directives = re.findall(r"%(.)", spec)
    if "d" not in directives or "m" not in directives:
        return None
    order = "dmy" if directives.index("d") < directives.index("m") else "mdy"
    return order, re.sub(r"%(.)", lambda m: {"d": "%m", "m": "%d"}.get(m[1], m[0]), spec)


#: the orders dates are written in, the year first or last, the world's most written first
_WORLD = {"ymd": 0, "dmy": 1, "mdy": 2, "ydm": 3}


def _reordered(spec: str) -> tuple[str, ...]:
    """The strptime format `spec` with its day, month and year directives in each other order dates are written in
    (_WORLD: the year first or last), its separators and other directives kept ("%d-%m-%y": "%y-%m-%d", "%y-%d-%m"),
    but for the swap of %d and %m (_swapped) and an order no --date-format is (_check_spec: "%Y-%d-%m"); none where
    it has no %m (a month by name)."""
    directives = [d for d in re.findall(r"%(.)", spec) if d in "dmyY"]
    if len(directives) != 3 or "m" not in directives:
        return ()
    swap, pieces = _swapped(spec), re.split(r"%[dmyY]", spec)  # what is before, between and after them
    others = []
    written = (order for order in itertools.permutations(directives) if "".join(order).lower() in _WORLD)
    for order in sorted(written, key=lambda order: _WORLD["".join(order).lower()]):
        other = pieces[0] + "".join(f"%{directive}{piece}" for directive, piece in zip(order, pieces[1:], strict=True))
        if other == spec or (swap is not None and other == swap[1]):
            continue
        try:
            _check_spec(other)
        except ConfigError:
            continue
        others.append(other)
    return tuple(others)


class DateEvidence(Evidence):
    """What a file's dates prove about their order ("dmy" / "mdy" / "?" and the orderless kinds), collected over
    the whole file before any row is sent; with a bounded set of the values already looked at. Made with the
    --date-format given, it also finds the first date that contradicts it (see add)."""

    __slots__ = ("_seen", "_spec", "_against", "_reordered")

    def __init__(self, given: str | None = None) -> None:
        """`given`: --date-format, or None. ConfigError when it is no date format (given_format)."""
        super().__init__()
        self._seen: set[tuple[str, str]] = set()  # (field, text): a text read in one column proves nothing of another
        #: the --date-format given, as its DateFormat's spec, or None
        self._spec = None if given is None else given_format(given).spec
        #: (the given strptime format, it with %d and %m swapped, the order the swapped one reads)
        self._against: tuple[str, str, str] | None = None
        #: (the given strptime format, it in each other order of its day, month and year: _reordered)
        self._reordered: tuple[str, tuple[str, ...]] | None = None
        if (spec := self._spec) is not None and spec not in _ORDERS:
            if swap := _swapped(spec):
                self._against = (spec, swap[1], _OTHER[swap[0]])
            if others := _reordered(spec):
                self._reordered = (spec, others)

    def add(self, text: str, line: int, field: str) -> None:
        """Look at one cell's text. Values that are no date prove nothing: they are rejected later, per row.

        A date that proves the order other than a given strptime format's is read with it and with it swapped
        (only such a date: a file in the format's order has none, and pays no strptime for this): the first that
        only the swapped one reads contradicts the format."""
        if (field, text) in self._seen:
            return
        if len(self._seen) >= _CACHE_MAX:
            self._seen.clear()
        self._seen.add((field, text))
        self._in_column(text, line, field)
        if self._reordered is not None:
            self._in_other_orders(text, line, field)
        kind = _order(text)
        if kind is None:
            if _NOT_YEAR_FIRST not in self._first and _not_year_first(text):
                self._first[_NOT_YEAR_FIRST] = Example(line, field, text)
            if _convert("dmy", text) is not None:  # a date that needs no order: ISO, or 05-05-2026
                kind = _SAME if _parts(text) else _ISO
            else:
                if (shown := _shown(text)) is None:
                    if (ydm := _year_day_month(text)) is not None and ydm not in self._first:
                        self._first[ydm] = Example(line, field, text)
                    self._against_format(text, line, field)
                    return
                kind = _SHOWN[shown]
        first = self._first
        if kind not in first:
            first[kind] = Example(line, field, text)
        if kind in _BY_WAY and (way := kind + _separator(text)) not in first:
            first[way] = Example(line, field, text)
        if (kind in _BY_WAY or kind == _SAME) and (clock := _clock_kind(text)) is not None and clock not in first:
            first[clock] = Example(line, field, text)
        against = self._against
        if (
            against is not None
            and kind[:3] == against[2]
            and _AGAINST not in first
            and _convert(against[0], text) is None
            and _convert(against[1], text) is not None
        ):
            first[_AGAINST] = Example(line, field, text)

    def _in_column(self, text: str, line: int, field: str) -> None:
        """Record whether a cell of the column `field` reads (_READ), until one does, and its first that does not
        that the advice names a way on for (_ADVISED): not a day no calendar has of a shape that reads, nor one no
        format reads (its row's fault). Empty cells are no dates."""
        first, spec = self._first, self._spec
        if _READ + field in first or not text.strip():
            return
        if _convert(spec or "dmy", text) is not None or (spec is None and _convert("mdy", text) is not None):
            first[_READ + field] = Example(line, field, text)
        elif (
            _ADVISED + field not in first
            and _fault(NO_DATES, text) is None
            and _example(text) not in (_NO_FORMAT, _NO_DAY)
        ):
            first[_ADVISED + field] = Example(line, field, text)

    def _against_format(self, text: str, line: int, field: str) -> None:
        """Look at a date of a shape no order is read from (year first, numbers apart by spaces or not apart at all:
        "2026/13/02", "13 02 2026", "20261302") with the given strptime format and with it swapped: the first only the
        swapped one reads contradicts the format (_AGAINST), the first only the format reads shows its order (_MINE).
        A strptime for each text, two for one the format does not read; none without a format given."""
        against, first = self._against, self._first
        if against is None or (_AGAINST in first and _MINE in first) or not text.isascii():
            return
        given, swapped, _ = against
        if _convert(given, text) is not None:
            if _MINE not in first and _by_format(swapped, text.strip()) is None:
                first[_MINE] = Example(line, field, text)
        elif _AGAINST not in first and _by_format(swapped, text.strip()) is not None:
            first[_AGAINST] = Example(line, field, text)

    def _in_other_orders(self, text: str, line: int, field: str) -> None:
        """Read a date with the given strptime format and with each other order of its day, month and year: the
        first date only the other reads (_BY), only the given one (_NOT_BY), and both as two days (_BOTH). A strptime
        for each text, and one for each other order while a date of its kind may still show something of it."""
        assert self._reordered is not None
        (given, others), first = self._reordered, self._first
        mine = _convert(given, text)
        for other in others:
            if _BY + other in first if mine is None else (_NOT_BY + other in first and _BOTH + other in first):
                continue  # nothing more to learn of it from a date of this kind
            theirs = _convert(other, text)
            if mine is None:
                kind = _BY if theirs is not None else ""
            elif theirs is None:
                kind = _NOT_BY
            else:
                kind = _BOTH if theirs != mine else ""
            if kind and kind + other not in first:
                first[kind + other] = Example(line, field, text)

    def _other_order(self, given: str, path: str) -> None:
        """ConfigError where a date of the file that the given strptime format does not read reads in another order
        of its day, month and year that reads every date the given one reads, or that reads a date the given one
        reads as another day (the file writes both): its dates that read both ways would be booked as the wrong day
        ("%d-%m-%y" given, "32-11-05" read "%y-%m-%d" as 2032-11-05, and "26-11-05" read 2005-11-26 or 2026-11-05)."""
        if self._reordered is None:
            return
        spec, first = self._reordered[0], self._first
        found = [other for other in self._reordered[1] if _BY + other in first]
        whole = [other for other in found if _NOT_BY + other not in first]  # read every date the given one reads
        both = [other for other in found if _NOT_BY + other in first and _BOTH + other in first]
        if not whole and not both:
            return
        others = whole or both
        against = min(first[_BY + other] for other in others)
        readers = [(other, day) for other in others if (day := _convert(other, against.text)) is not None]
        given, (other, day) = shlex.quote(given), readers[0]
        said = (
            f"{path}: --date-format {given} does not read {against}, but --date-format {shlex.quote(other)} reads it "
            f"as {day}"
        )
        ambiguous = ""
        if (example := first.get(_BOTH + other)) is not None:
            mine, theirs = _convert(spec, example.text), _convert(other, example.text)
            ambiguous = f" ({example}: {mine} with {given}, {theirs} with {shlex.quote(other)})"
        if not whole:
            raise ConfigError(
                f"{said}, and {first[_NOT_BY + other]} only {given}: the file writes dates in both ways, so its dates "
                f"that read both ways cannot be known{ambiguous}: fix the file. Nothing was sent"
            )
        told = "".join(f" and --date-format {shlex.quote(other)} as {day}" for other, day in readers[1:])
        each = "each also" if told else "which also reads"
        raise ConfigError(
            f"{said}{told}, {each} every date of the file {given} reads: the file's dates may be written so, and read "
            f"with {given} its dates that read both ways would be booked as the wrong day{ambiguous}. Give the "
            "--date-format the file's dates are written in; if only this date is wrong, fix it. Nothing was sent"
        )

    def decide(self, given: str | None, path: str, before: Reading | None = None) -> DateFormat:
        """The file's DateFormat: `given` (--date-format) when set, else what the values prove; where they prove
        no order (a date reads two ways, none shows which), the format of `before` (how the input whose rows the
        file holds was read: a rejects file, loads.read_before), which then reads the file as that input was read.

        ConfigError as _decided says, and where a date column has dates none of which reads, with `given` or,
        without it, in the order decided or as ISO, and a format reads one of them (no row would load: _unread); a
        date no format reads ("tomorrow", "13/13/26", "31-Feb-2026") is its row's fault, whatever the column's others.
        """
        fmt = self._decided(given, path, before)
        self._unread(fmt, given, path)
        return fmt

    def _unread(self, fmt: DateFormat, given: str | None, path: str) -> None:
        """ConfigError for the first date column (by the line of the date named) no date of which reads and one of
        whose dates the advice names a way on for (a format that reads it: _in_column), named with that date and
        the way on. A column whose dates no format reads ("tomorrow", "13/13/26") is no property of the file to
        decide: each such date is rejected with its row, and the rows without one load."""
        first = self._first
        columns = [
            example
            for kind, example in first.items()
            if kind.startswith(_ADVISED) and _READ + example.field not in first
        ]
        if not columns:
            return
        line, field, text = min(columns)
        advice = _example(text, fmt.order, fmt.year_first)
        named = f"line {line}: {field} {text!r}"
        if given is None:
            said = f"{path}: {named} does not read as YYYY-MM-DD or D-M-YYYY, nor does any {field} of the file"
        else:
            said = f"{path}: --date-format {shlex.quote(given)} reads no {field} of the file ({named})"
        raise ConfigError(f"{said}, so no row would load: {advice}. Nothing was sent")

    def _decided(self, given: str | None, path: str, before: Reading | None = None) -> DateFormat:
        """The file's DateFormat, its columns' dates that do not read aside (_unread).

        ConfigError when `given` is not "dmy", "mdy" or a strptime format with day, month and year, or a date of
        the file proves the order other than `given`'s (a strptime format's: found by evidence made with it, see
        add), or another order of its day, month and year reads a date it does not (_other_order); when a date
        shaped year first is a day only year-day-month ("2026-13-02") and `given` does not read it (_year_first);
        when the file proves both orders, or when some date reads two ways and no date written the same way (with
        dashes, points or slashes: _each_way) shows which and `before` gives no order to read it in (one it gives
        is taken as given, and refused so; a format given to its run is named). Otherwise day first.
        """
        year_first = _NOT_YEAR_FIRST not in self._first
        if given is not None:
            fmt = self._given(given, path)
            self._year_first(fmt.spec, path)
            self._other_order(given, path)
            if fmt.spec in _ORDERS:
                self._one_clock(path)
            return fmt._replace(year_first=year_first)
        self._year_first(None, path)
        self._one_clock(path)
        day_first, month_first, ambiguous = (self._first.get(kind) for kind in ("dmy", "mdy", _AMBIGUOUS))
        if day_first and month_first:
            (first, first_spec), (second, second_spec) = sorted(((day_first, "dmy"), (month_first, "mdy")))
            if (ways := self._ways_apart()) is not None:
                raise ConfigError(
                    f"{path}: the file writes dates in both orders: {first} is {_ORDERS[first_spec]}, written with "
                    f"{ways[first_spec]}, {second} {_ORDERS[second_spec]}, written with {ways[second_spec]}; "
                    f"{self._one_as_iso(ways)}"
                )
            raise ConfigError(
                f"{path}: the file writes dates in both orders: {first} is {_ORDERS[first_spec]}, "
                f"{second} {_ORDERS[second_spec]}; its dates that read both ways cannot be known: fix the file "
                "(a --date-format given is refused as well: it would read them one way)"
            )
        shown = [order for order in _ORDERS if order in self._first or _SHOWN[order] in self._first]
        order = shown[0] if len(shown) == 1 else ""
        for spec, proof in (("dmy", day_first), ("mdy", month_first)):
            if proof:
                _as_read_before(spec, proof, ambiguous, before, path)
                if _order_read(before) != spec:  # a rejects file's dates of its input are read as its run read them
                    self._each_way(spec, proof, path)
                return DateFormat(spec, f"{_ORDERS[spec]} ({proof})", order, year_first)
        if ambiguous and not order and before is not None and before.date_format in _ORDERS:
            fmt = self._decided(before.date_format, path)
            return fmt._replace(reason=f"{_ORDERS[fmt.spec]}, {before.said}")
        if ambiguous:
            readings, text = _readings(ambiguous, path), ambiguous.text
            if order:  # shown by a date of another shape only ("2/13/26"), which no format reads with this one
                other_way = self._first[_SHOWN[order]]
                raise ConfigError(
                    f"{readings}, and no date written like it in the file shows the order: only {other_way} does "
                    f"({_ORDERS[order]}), written another way, perhaps by another system, and no one --date-format "
                    f"reads both it and {text!r}. Write the file's dates written like {other_way.text!r} as ISO "
                    f"YYYY-MM-DD, and give {_suggest('dmy', text)} (day first) or {_suggest('mdy', text)} (month "
                    f"first), whichever the dates like {text!r} are. Nothing was sent"
                )
            if before is not None and before.date_format not in (ISO, NO_DATES):  # a format given to that run
                raise ConfigError(
                    f"{readings}, and no other date in the file shows the order: give --date-format "
                    f"{shlex.quote(before.date_format)}, {before.said} with it"
                )
            raise ConfigError(
                f"{readings}, and no other date in the file shows the order: give {_suggest('dmy', text)} "
                f"(day first) or {_suggest('mdy', text)} (month first)"
            )
        if same := self._first.get(_SAME):
            shows = f"no date in the file shows an order ({same} reads the same either way)"
            return DateFormat("dmy", shows, order, year_first)
        if iso := self._first.get(_ISO):
            return DateFormat(ISO, f"every date is ISO YYYY-MM-DD ({iso})", order, year_first)
        return DateFormat(NO_DATES, "no date in the file", order, year_first)

    def _one_clock(self, path: str) -> None:
        """ConfigError where the file's D-M-YYYY dates write a time of day with AM or PM and one without that a
        12-hour clock writes too ("4:15"): read per cell, that one would be 04:15 where the file may mean 16:15."""
        marked, unmarked = self._first.get(_MARKED), self._first.get(_UNMARKED)
        if marked is None or unmarked is None:
            return
        m = _DAY_MONTH(unmarked.text.strip())
        assert m is not None  # recorded as one (_clock_kind)
        raise ConfigError(
            f"{path}: {marked} writes its time of day with AM/PM (a 12-hour clock), but {unmarked} has none: its "
            f"{m[6]}:{m[7]} may be AM or PM. Write the file's times of day one way: all with AM/PM, or all on a "
            "24-hour clock (or as ISO YYYY-MM-DDTHH:MM). Nothing was sent"
        )

    def _each_way(self, spec: str, proof: Example, path: str) -> None:
        """ConfigError for the file's first date that reads both ways written so (with dashes, points or slashes)
        that no date written so proves `spec` of, where only `proof`, written another way, does: a file's ways of
        writing dates may come from two systems (found by a tester: a US 12/31/2026 dueDate booked e-conomic's
        01.11.2026 date as 11 January)."""
        first = self._unproven(spec)
        if first is None:
            return
        sep = _separator(first.text)
        raise ConfigError(
            f"{_readings(first, path)}, and no other date written with {_WAYS[sep]} (D{sep}M{sep}YYYY) in the file "
            f"shows the order: only {proof} does ({_ORDERS[spec]}), written with {_WAYS[_separator(proof.text)]}, "
            f"perhaps by another system. {_if_too(spec, _WAYS[sep])}"
        )

    def _ways_apart(self) -> dict[str, str] | None:
        """Where the file's dates prove both orders, each by ways of writing D-M-YYYY (dashes, points, slashes) that
        prove no other ("dmy" -> "points"): one --date-format reads them in one order, but each way written as ISO
        reads; None where a way of writing proves both (its odd dates are to be fixed)."""
        first = self._first
        day, month = ([sep for sep in _WAYS if spec + sep in first] for spec in ("dmy", "mdy"))
        if not day or not month or set(day) & set(month):
            return None
        return {spec: " and ".join(_WAYS[sep] for sep in seps) for spec, seps in (("dmy", day), ("mdy", month))}

    def _one_as_iso(self, ways: dict[str, str]) -> str:
        """The way on for a file whose ways of writing dates show two orders (`ways`, as _ways_apart gives them):
        write one of them as ISO, each named with its first date that proves its order."""
        proofs = sorted((self._first[spec], spec) for spec in _ORDERS)
        named = " or those ".join(
            f"written with {ways[spec]} ({proof} as {(_convert(spec, proof.text) or '')[:10]})"
            for proof, spec in proofs
        )
        return (
            f"no one --date-format reads both ways of writing in two orders: write the dates {named} as ISO "
            "YYYY-MM-DD. Nothing was sent"
        )

    def _unproven(self, spec: str) -> Example | None:
        """The file's first D-M-YYYY date that reads both ways, of a way of writing (dashes, points or slashes) none
        of whose dates proves `spec`: a date of another way that proves it says nothing of it (_each_way)."""
        unproven = [
            example
            for sep in _WAYS
            if (example := self._first.get(_AMBIGUOUS + sep)) is not None and spec + sep not in self._first
        ]
        return min(unproven) if unproven else None

    def _year_first(self, spec: str | None, path: str) -> None:
        """ConfigError for the file's first date shaped year first that is a day only year-day-month ("2026-13-02",
        "2026/13/02") and that `spec` (the --date-format given, or None) does not read: the file may write its dates
        so. A YYYY-MM-DD one is read as ISO whatever the format, so its dates that read both ways ("2026-05-02")
        would be booked as the wrong day; one with / or . is read year-day-month only with a --date-format saying
        so."""
        shown = [
            example
            for sep in "-/."
            if (example := self._first.get(_YDM + sep)) is not None
            and (spec is None or _convert(spec, example.text) is None)
        ]
        if not shown:
            return
        first = min(shown)
        m = _YEAR_FIRST(first.text.strip()[:10])
        assert m is not None  # recorded as shaped so (_year_day_month)
        year, sep, middle, last = m[1], m[2], int(m[3]), int(m[4])
        said = (
            f"{path}: {first} is no day read year-month-day (there is no month {middle}), but {middle} "
            f"{_MONTHS[last]} {year} read year-day-month: the file may write its dates year-day-month"
        )
        if sep == "-":
            raise ConfigError(
                f"{said}, and then its dates that read both ways ({year}-05-02: 2 May as ISO, 5 February "
                "year-day-month) would be booked as the wrong day. bulkload reads a date written YYYY-MM-DD as ISO "
                "only, and no --date-format reads it year-day-month: write the file's dates as ISO YYYY-MM-DD (if "
                "only this date is wrong, fix it). Nothing was sent"
            )
        time = " followed by the directives of its time of day" if len(first.text.strip()) > 10 else ""
        raise ConfigError(
            f"{said}, and a date written YYYY{sep}MM{sep}DD is read so only with a --date-format that says so: if the "
            f"file's are, give --date-format %Y{sep}%d{sep}%m{time} ({year}{sep}05{sep}02 is then 5 February); if "
            "only this date is wrong, fix it. Nothing was sent"
        )

    def _given(self, given: str, path: str) -> DateFormat:
        """`given` as decide takes it: ConfigError where a date of the file proves the other order; for dmy / mdy
        the advice names the way of writing that shows it where another way's dates read both ways (_unproven)."""
        fmt = given_format(given)
        # (its order, the option that reads the other): dmy and mdy read the D-M-YYYY dates that prove an order
        swap = (fmt.spec, _OTHER[fmt.spec]) if fmt.spec in _ORDERS else _swapped(fmt.spec)
        if swap is None:
            return fmt
        own, instead = swap
        other = _OTHER[own]
        proof = self._first.get(other if fmt.spec in _ORDERS else _AGAINST)
        if proof is None:
            return fmt
        given, instead = shlex.quote(given), shlex.quote(instead)  # as a shell takes them back: '%d/%m/%Y %H:%M'
        said = f"{path}: --date-format {given} reads dates {_ORDERS[own]}, but {proof} is {_ORDERS[other]}"
        mine = [example for kind in (own, _SHOWN[own], _MINE) if (example := self._first.get(kind)) is not None]
        if fmt.spec in _ORDERS and own in self._first and (ways := self._ways_apart()) is not None:
            raise ConfigError(
                f"{said}, written with {ways[other]}, and {self._first[own]} {_ORDERS[own]}, written with "
                f"{ways[own]}; {self._one_as_iso(ways)}"
            )
        if mine:
            raise ConfigError(
                f"{said}, and {min(mine)} {_ORDERS[own]}: the file writes dates in both orders, so its dates that "
                "read both ways cannot be known: fix the file. Nothing was sent"
            )
        if fmt.spec in _ORDERS and (first := self._unproven(other)) is not None:
            # found by a helper: "the file's dates are month first" from a US 12/31/2026 dueDate alone, where the
            # dotted 01.11.2026 beside it, read month first, is 11 January however the file's system meant it
            sep = _separator(first.text)
            raise ConfigError(
                f"{said}, written with {_WAYS[_separator(proof.text)]}, and no date written with {_WAYS[sep]} "
                f"(D{sep}M{sep}YYYY) in the file shows their order: {first} could be {_both(first.text)}. "
                f"{_if_too(other, _WAYS[sep])}"
            )
        if fmt.spec not in _ORDERS and _ISO_DATE(datetime(2001, 2, 3).strftime(swap[1])[:10]):
            # the swap writes dates shaped as ISO in another order (%Y-%d-%m): no format reads them (_check_spec)
            raise ConfigError(
                f"{said}, which only the format {instead} reads: the file's dates are {_ORDERS[other]}, and read "
                f"{_ORDERS[own]} its dates that read both ways would be booked as the wrong day. No --date-format "
                "reads them, as a date written YYYY-MM-DD is always read as ISO: write the file's dates as ISO "
                "YYYY-MM-DD. Nothing was sent"
            )
        raise ConfigError(
            f"{said}, which only --date-format {instead} reads: the file's dates are {_ORDERS[other]}, and read "
            f"{_ORDERS[own]} its dates that read both ways would be booked as the wrong day; give --date-format "
            f"{instead}. Nothing was sent"
        )
