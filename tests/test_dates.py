"""Tests for dates.py: reading dates in one order, and deciding that order from the whole file."""

from __future__ import annotations

import pickle
import re
import shlex
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkload import dates
from bulkload.dates import DateEvidence, DateFormat
from bulkload.errors import ConfigError

DMY, MDY = DateFormat("dmy"), DateFormat("mdy")


def decide(values: list[str], given: str | None = None) -> DateFormat:
    """What a file whose date cells are `values` (from line 2 on) decides."""
    evidence = DateEvidence(given)
    for line, text in enumerate(values, start=2):
        evidence.add(text, line, "date")
    return evidence.decide(given, "entries.csv")


def refused(values: list[str], given: str | None = None, first: int = 0) -> str:
    """The refusal of a file whose date cells are `values`, none of which reads: the date named (on line `first`,
    by default the first of a non-empty cell), and the advice."""
    with pytest.raises(ConfigError) as info:
        decide(values, given)
    said = str(info.value)
    first = first or next(line for line, text in enumerate(values, start=2) if text.strip())
    if given is None:
        assert said.startswith(
            f"entries.csv: line {first}: date {values[first - 2]!r} does not read as YYYY-MM-DD or D-M-YYYY, nor "
            "does any date of the file, so no row would load: "
        ), said
    else:
        assert said.startswith(f"entries.csv: --date-format {shlex.quote(given)} reads no date of the file ("), said
    assert said.endswith(". Nothing was sent"), said
    return said.partition("so no row would load: ")[2].removesuffix(". Nothing was sent")


# --- DateFormat.parse ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        (DMY, "30-11-2026", "2026-11-30"),
        (DMY, "3.4.2026", "2026-04-03"),
        (DMY, "03/04/2026", "2026-04-03"),
        (MDY, "3/4/2026", "2026-03-04"),
        (MDY, "11-30-2026", "2026-11-30"),
        (DMY, "29.02.2028", "2028-02-29"),
        (DateFormat("%d-%m-%y"), "03-04-26", "2026-04-03"),
        (DateFormat("%m/%d/%Y"), "12/25/2026", "2026-12-25"),
        (DateFormat("%d %b %Y"), "3 Apr 2026", "2026-04-03"),
        (DateFormat("%d.%m.%Y %H:%M"), "30.11.2026 14:15", "2026-11-30T14:15:00"),
        (DateFormat("%Y-%m-%d %H:%M"), "2026-11-30 14:15", "2026-11-30T14:15"),  # ISO: taken as written
        # a time of day after the date is kept, as ISO writes it
        (DMY, "03/04/2026 9:05", "2026-04-03T09:05"),
        (MDY, "03/04/2026 23:59:59", "2026-03-04T23:59:59"),
        (DMY, "3.4.2026T10:15:30,25", "2026-04-03T10:15:30.25"),
        (DMY, "2026-11-30 10:00", "2026-11-30T10:00"),  # ISO with a space for its T (RFC 3339, SQL)
        (MDY, "2026-11-30 10:00:00+01:00", "2026-11-30T10:00:00+01:00"),
        (DMY, "2026-11-30 10:00:00,5", "2026-11-30T10:00:00.5"),  # ISO 8601's comma, as D-M-YYYY's is read
        (DMY, "2026-11-30T10:00:00,5Z", "2026-11-30T10:00:00.5Z"),
        # a 12-hour clock with AM/PM, as US Excel writes date-times, with or without seconds
        (MDY, "12/31/2026 11:59 PM", "2026-12-31T23:59"),
        (MDY, "11/30/2026 4:15 PM", "2026-11-30T16:15"),
        (MDY, "1/2/2026 9:05AM", "2026-01-02T09:05"),
        (MDY, "12/31/2026 12:00:30 pm", "2026-12-31T12:00:30"),
        (DMY, "30.11.2026 12:05 AM", "2026-11-30T00:05"),
        (DMY, "30.11.2026 12:05:07.5 am", "2026-11-30T00:05:07.5"),
    ],
)
def test_parse_reads_in_the_given_order(fmt: DateFormat, text: str, expected: str) -> None:
    assert fmt.parse(text) == expected


@pytest.mark.parametrize("spec", ["dmy", "mdy", "%d-%m-%y", "%m/%d/%Y"])
@pytest.mark.parametrize(
    "text",
    [
        "2026-11-30",
        "2026-11-30T14:15:22Z",
        "2026-11-30T10:00",
        "2026-11-30T10:00:00+01:00",
        "2026-11-30T10:00:00.5",
        "2026-11-30T16:47:12.8363753+01:00",  # as Visma Core's document writes its Created
        "2026-11-30T10:00-05:00",
    ],
)
def test_iso_is_accepted_whatever_the_order(spec: str, text: str) -> None:
    assert DateFormat(spec).parse(text) == text


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        (DMY, "30-02-2026"),
        (MDY, "30-11-2026"),
        (DMY, "3-4/2026"),  # two separators
        (DMY, "3-4-26"),  # two-digit years only through a strptime format
        (DMY, "003-4-2026"),
        (DMY, "3 4 2026"),
        (DMY, "2026-02-30"),
        (DMY, "2026-11-30T25:00"),
        (DMY, "2026-W44-1"),
        (DMY, "2026/11/30"),
        (DMY, "20261130"),
        (DMY, "+2026-11-30"),
        (DMY, "2026-1-30"),
        (DMY, "٢٠٢٦-11-30"),
        (DMY, "3-٤-2026"),
        (DMY, "2026-11-30  10:00"),
        (DMY, "30-11-2026 24:00"),
        (DMY, "30-11-2026 10:60"),
        (DMY, "30-11-2026 10:5"),
        (DMY, "30-11-2026 13:05 PM"),  # a 12-hour clock has no hour 13, nor 0
        (DMY, "30-11-2026 0:05 AM"),
        (DMY, "30-11-2026 10:05  PM"),
        (DMY, "30-11-2026 10:05 +01:00"),
        (DMY, "30-02-2026 10:05"),
        (DMY, ""),
        (DMY, "yesterday"),
        (DateFormat("%d-%m-%Y"), "3/4/2026"),
        (DateFormat("%d-%m-%Y"), "٣-04-2026"),
        (DateFormat("%m/%d/%Y"), "04/ 3/2026"),
    ],
)
def test_parse_refuses_what_is_not_a_date(fmt: DateFormat, text: str) -> None:
    if text in ("30-02-2026", "2026-02-30", "30-02-2026 10:05"):  # the shape of a date, but no day of the calendar
        why = "no such day in the calendar: February 2026 has 28 days"  # no --date-format helps
    elif text in ("30-11-2026 24:00", "30-11-2026 10:60", "30-11-2026 13:05 PM", "30-11-2026 0:05 AM"):
        why = "no such time of day"  # nor here
    elif text in ("2026-11-30T25:00", "2026-11-30  10:00"):
        why = "no such time of day" if "T" in text else ISO_CLOCK
    elif text in ("30-11-2026 10:5", "30-11-2026 10:05  PM", "30-11-2026 10:05 +01:00"):
        why = DMY_CLOCK
    elif text == "yesterday":
        why = (
            "it cannot be read as a date: it has not the digits of a day, a month and a year, so no --date-format "
            "reads it; write the row's date as day-month-year or YYYY-MM-DD, as the file's dates were read (day first)"
        )
    elif fmt.spec in ("dmy", "mdy"):
        order, way = {"dmy": ("day-month-year", "day first"), "mdy": ("month-day-year", "month first")}[fmt.spec]
        example = {
            "3-4-26": "--date-format %d-%m-%y (day first) or --date-format %m-%d-%y (month first)",
            "20261130": "--date-format %Y%m%d reads it",
            # a format read off the date's own shape, that reads it
            "30-11-2026": "--date-format %d-%m-%Y reads it",
            "3-4/2026": "--date-format %d-%m/%Y (day first) or --date-format %m-%d/%Y (month first)",
            "3 4 2026": "--date-format '%d %m %Y' (day first) or --date-format '%m %d %Y' (month first)",
            "2026/11/30": "--date-format %Y/%m/%d reads it",
            "2026-1-30": "--date-format %Y-%m-%d reads it",
        }.get(text, "no format is read off its shape: give the strptime format the file's dates are written in")
        why = (
            f"expected {order} or YYYY-MM-DD, as the file's dates were read ({way}); for dates of another format "
            f"give --date-format: {example}"
        )
    else:
        why = f"expected format {fmt.spec} (--date-format) or YYYY-MM-DD"
    for _ in range(2):  # the second time from the cache
        with pytest.raises(ValueError) as info:
            fmt.parse(text)
        assert str(info.value) == f"not a valid date: {text!r} ({why})"


def test_a_file_of_dates_read_only_with_a_format_is_told_to_give_it() -> None:
    # found by a tester: each date was refused "expected YYYY-MM-DD, as every other date of the file", where no
    # date of the file is ISO, and nothing named --date-format, with which the file loads
    values = {
        "45678": "it looks like a spreadsheet's day number: format the column as a date before the export",
        "1/2/26": "--date-format %d/%m/%y (day first) or --date-format %m/%d/%y (month first)",
        "2/13/26": "--date-format %m/%d/%y reads it",  # the 13th: month first, and said so (not %d/%m/%y)
        "13.2.26": "--date-format %d.%m.%y reads it",
        "20261101": "--date-format %Y%m%d reads it",
        "Feb 1, 2026": "--date-format '%b %d, %Y' reads it",
    }
    for text, example in values.items():  # no date of the file reads: the file is refused, naming its first
        assert refused([text, *(other for other in values if other != text)]) == example
    with pytest.raises(ValueError) as info:  # the odd one out of a file of ISO dates
        decide(["2026-02-01", "1/2/26"]).parse("1/2/26")
    assert str(info.value) == (
        "not a valid date: '1/2/26' (expected YYYY-MM-DD, as the file's other dates are; for dates of another "
        "format give --date-format: --date-format %d/%m/%y (day first) or --date-format %m/%d/%y (month first))"
    )
    assert decide(["2/13/26"], given="%m/%d/%y").parse("2/13/26") == "2026-02-13"
    assert decide(["1/2/26"], given="%d/%m/%y").parse("1/2/26") == "2026-02-01"
    assert decide(["Feb 1, 2026"], given="%b %d, %Y").parse("Feb 1, 2026") == "2026-02-01"


def test_a_date_of_eight_digits_is_told_the_format_that_reads_it_in_each_order() -> None:
    """Tester t73c: `30112026` (ddmmyyyy, as Excel exports of a "TTMMJJJJ" column write it) was told "no format is read
    off its shape", and rejected row by row, where `20261130` was told --date-format %Y%m%d and the file refused."""
    assert refused(["30112026", "15112026"]) == "--date-format %d%m%Y reads it"
    assert refused(["11302026"]) == "--date-format %m%d%Y reads it"
    assert refused(["20261130"]) == "--date-format %Y%m%d reads it"
    assert refused(["01122026"]) == (
        "--date-format %d%m%Y reads it as 2026-12-01, --date-format %m%d%Y as 2026-01-12: the file's dates do not "
        "show which they are; give the one they are written in, or write them as ISO YYYY-MM-DD"
    )
    assert decide(["30112026", "01122026"], given="%d%m%Y").parse("01122026") == "2026-12-01"
    with pytest.raises(ValueError, match="it is no date"):  # no reading of it is a day: its row's fault alone
        decide(["2026-11-30", "20261330"]).parse("20261330")


@pytest.mark.parametrize("text", ["45991", "45991.5", "45991,5", "45991.0"])
def test_a_spreadsheets_day_number_with_a_time_is_told_so(text: str) -> None:
    """Tester t73c: a date-time cell exported as Excel's General format is its day number and a fraction of the day
    (`45991.5`, noon on 2025-11-30); it was told "no format is read off its shape" and rejected row by row."""
    assert refused([text, "45992.25"]) == (
        "it looks like a spreadsheet's day number: format the column as a date before the export"
    )


@pytest.mark.parametrize(("text", "shown"), [("3011", "30.11."), ("0311", "3.11."), ("311", "3.11.")])
def test_a_day_and_month_without_a_year_is_told_so(text: str, shown: str) -> None:
    """Tester t73c: DATEV's Belegdatum (DDMM, the year in the export's first line) was told "give the strptime format
    the file's dates are written in", which no format given can be: --date-format takes only one with a year."""
    assert refused([text, "0112"]) == (
        f"it is a day and a month without a year ({shown}), as DATEV's Belegdatum writes them (the year is in the "
        "export's first line): no format reads a day without its year; write each date with its year (30.11.2026, "
        "or ISO 2026-11-30)"
    )
    assert dates._example("2026").startswith("no format is read off its shape")  # a year alone is no day and month


def test_the_advice_names_only_the_order_the_files_dates_show() -> None:
    # found by a tester: 1/2/26 was told both orders where 2/13/26 of the same file shows month first
    month_first = "--date-format %m/%d/%y reads it (month first, as the file's dates show)"
    assert refused(["1/2/26", "3/4/26", "2/13/26"]) == month_first  # no date of the file reads: refused whole
    for values, spec in (
        (["2026-01-02", "1/2/26", "2/13/26 10:00 PM"], "iso"),
        (["1/2/26", "10/31/2026"], "mdy"),  # a D-M-YYYY date shows it too
    ):
        found = decide(values)
        assert (found.spec, found.order) == (spec, "mdy"), found
        with pytest.raises(ValueError) as info:
            found.parse("1/2/26")
        assert str(info.value).endswith(f"{month_first})"), info.value
        assert DateFormat(spec, found.reason).parse("2/13/2026" if spec == "mdy" else "2026-02-13")
    # both orders shown: the date's own, or both
    assert (
        refused(["1/2/26", "13/2/26", "2/13/26"])
        == "--date-format %d/%m/%y (day first) or --date-format %m/%d/%y (month first)"
    )


def test_a_two_digit_year_date_that_reads_year_first_too_is_told_both_formats() -> None:
    # found by a tester: PayorCRM's postDate 26-11-05 was told only "--date-format %d-%m-%y reads it", and followed,
    # booked 26 November 2005, where 26-11-05 is 5 November 2026 read year first. Which is meant the file does not
    # show: each reading is named with the day it makes, and the file is never read one way by a guess
    assert refused(["26-11-05", "26-11-13"]) == (
        "--date-format %d-%m-%y reads it as 2005-11-26 (day first), --date-format %y-%m-%d as 2026-11-05 (year "
        "first): the file's dates do not show which they are; give the one they are written in, or write them as ISO "
        "YYYY-MM-DD"
    )
    # day first rather than month first, as 13-11-26 shows, but each of the file's dates reads year first as well
    assert refused(["05-11-26 10:30", "05-11-26", "13-11-26"]) == (
        "--date-format '%d-%m-%y %H:%M' reads it as 2026-11-05T10:30:00 (day first, as the file's dates show), "
        "--date-format '%y-%m-%d %H:%M' as 2005-11-26T10:30:00 (year first): the file's dates do not show which they "
        "are; give the one they are written in, or write them as ISO YYYY-MM-DD"
    )
    # three readings where nothing shows an order
    assert refused(["01/02/03"]).startswith(
        "--date-format %d/%m/%y reads it as 2003-02-01 (day first), --date-format %m/%d/%y as "
    )


@pytest.mark.parametrize("other", ["05-11-31", "5-11-26", "25-12-99"])
def test_a_date_of_the_file_that_is_no_day_year_first_leaves_the_advice_its_order(other: str) -> None:
    # 05-11-31 is no day read year first (30 days in November), nor 25-12-99, and no year is written in one digit
    # (5-11-26): the file's dates are not written year first, and the advice names the order they show alone
    assert (
        refused(["05-11-26", "13-11-26", other])
        == "--date-format %d-%m-%y reads it (day first, as the file's dates show)"
    )


@pytest.mark.parametrize(
    ("values", "readings", "shown", "formats"),
    [
        # found by a helper: told "only '2/13/26' shows the order, month first: give --date-format %m.%d.%Y", which
        # rejects the 2/13/26 rows and says nothing of the order of the dotted dates
        (["01.11.2026", "2/13/26"], "1 November or 11 January", "line 3 date '2/13/26' does (month first)",
         ("%d.%m.%Y", "%m.%d.%Y")),
        (["03-04-2026", "2/13/26"], "3 April or 4 March", "line 3 date '2/13/26' does (month first)",
         ("%d-%m-%Y", "%m-%d-%Y")),
        (["01/11/2026 10:00", "13/2/26"], "1 November or 11 January", "line 3 date '13/2/26' does (day first)",
         ("dmy", "mdy")),
    ],
)  # fmt: skip
def test_a_date_that_reads_both_ways_is_not_told_the_order_of_a_date_no_one_format_reads_with_it(
    values: list[str], readings: str, shown: str, formats: tuple[str, str]
) -> None:
    ambiguous, other = values
    with pytest.raises(ConfigError) as refused:
        decide(values)
    assert str(refused.value) == (
        f"entries.csv: line 2: date {ambiguous!r} could be {readings}, and no date written like it in the file "
        f"shows the order: only {shown}, written another way, perhaps by another system, and no one --date-format "
        f"reads both it and {ambiguous!r}. Write the file's dates written like {other!r} as ISO YYYY-MM-DD, and give "
        f"--date-format {formats[0]} (day first) or --date-format {formats[1]} (month first), whichever the dates "
        f"like {ambiguous!r} are. Nothing was sent"
    )
    # the way on it names reads the file: the other dates as ISO, and either order for these
    for option in formats:
        assert decide([ambiguous, "2026-02-13"], option).spec == option


def test_the_cache_stays_bounded() -> None:
    for day in range(dates._CACHE_MAX + 10):
        text = f"{day:08d}"
        with pytest.raises(ValueError):
            DMY.parse(text)
    assert len(dates._CACHES["dmy"]) <= dates._CACHE_MAX
    assert DMY.parse("30-11-2026") == "2026-11-30"


def test_format_is_a_small_frozen_picklable_value() -> None:
    fmt = DateFormat("%d-%m-%Y", "given: --date-format %d-%m-%Y")
    assert pickle.loads(pickle.dumps(fmt)) == fmt
    with pytest.raises(AttributeError):
        fmt.spec = "mdy"  # type: ignore[misc]


# --- DateEvidence.decide -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "spec"),
    [
        (["25/12/2026"], "dmy"),
        (["13.1.2026"], "dmy"),
        (["12/25/2026"], "mdy"),
        (["1-13-2026"], "mdy"),
        (["03-04-2026", "2026-01-01", "30-11-2026"], "dmy"),  # ambiguous, ISO, then a proof
        (["03-04-2026", "31-02-2026", "4-30-2026"], "mdy"),  # impossible both ways proves nothing
    ],
)
def test_one_proving_date_decides(values: list[str], spec: str) -> None:
    order = "day first" if spec == "dmy" else "month first"
    assert decide(values) == DateFormat(spec, f"{order} (line {len(values) + 1} date {values[-1]!r})", spec)


def test_dates_that_read_the_same_either_way_read_day_first() -> None:
    assert decide(["2026-11-30", "05/05/2026", "12.12.2026"]) == DateFormat(
        "dmy", "no date in the file shows an order (line 3 date '05/05/2026' reads the same either way)"
    )


#: why a day followed by a time of day of no shape bulkload reads is rejected: its time, not its date's format
ISO_CLOCK = (
    "its time of day does not read as ISO writes one: THH:MM or THH:MM:SS, with Z or an offset such as +01:00 after "
    "it or nothing"
)
DMY_CLOCK = "its time of day does not read: write it H:MM or H:MM:SS, on a 24-hour clock or with AM/PM"


@pytest.mark.parametrize("spec", ["iso", "none", "dmy", "mdy", "%d-%m-%Y"])
@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2026-11-05T25:00", "no such time of day"),
        ("2026-11-05T23:60:00Z", "no such time of day"),
        ("2026-11-05T18:59:60Z", "no such time of day"),
        ("2026-11-05 24:00:00.5+01:00", "no such time of day"),
        ("2026-11-05T10:00+25:00", ISO_CLOCK),
        ("2026-11-05T1", ISO_CLOCK),
        # found by a developer: fromisoformat reads 10.30 as 10:00:00.3 (a fraction of an hour, as ISO allows), where
        # Danish and Finnish notation writes 10:30 so; sent unchanged, an API may read it either way
        ("2026-11-05T10.30", ISO_CLOCK),
        ("2026-11-05T10,30", ISO_CLOCK),
        ("2026-11-05 10.30", ISO_CLOCK),
        ("2026-11-05T10.5Z", ISO_CLOCK),
        ("2026-11-05T10:30.5", ISO_CLOCK),  # a fraction of a minute: seconds, or 10:30:30?
        ("2026-11-05T10:30,5+01:00", ISO_CLOCK),
        # ISO forms no API's document shows: the hour alone, no colons, an offset without its colon or minutes
        ("2026-11-05T10", ISO_CLOCK),
        ("2026-11-05T1030", ISO_CLOCK),
        ("2026-11-05T103000", ISO_CLOCK),
        ("2026-11-05T10:30:00+0100", ISO_CLOCK),
        ("2026-11-05T10:30:00+01", ISO_CLOCK),
        ("2026-02-30T25:00", "no such day in the calendar: February 2026 has 28 days"),
    ],
)
def test_an_iso_date_with_no_such_time_of_day_is_told_so_not_another_format(spec: str, text: str, why: str) -> None:
    # found by a tester: 2026-11-05T25:00 was told "expected YYYY-MM-DD, as the file's other dates are; ... e.g.
    # --date-format %d/%m/%y", and in a file of no other date "no date of the file reads as YYYY-MM-DD" (false),
    # where 13.11.2026 24:30 is told "no such time of day": an ISO date is read whatever the format, none helps
    with pytest.raises(ValueError) as info:
        DateFormat(spec).parse(text)
    assert str(info.value) == f"not a valid date: {text!r} ({why})"


@pytest.mark.parametrize("spec", ["iso", "none", "dmy"])
def test_a_d_m_yyyy_date_with_a_time_of_day_of_no_shape_read_is_told_its_time(spec: str) -> None:
    # found by a tester: 31/12/2026 12.30 was told to give a --date-format (e.g. %d/%m/%y), which reads none of the
    # file's other dates (a file has one format): the time of day is what to write again
    with pytest.raises(ValueError) as info:
        DateFormat(spec).parse("31/12/2026 12.30")
    assert str(info.value) == f"not a valid date: '31/12/2026 12.30' ({DMY_CLOCK})"
    with pytest.raises(ValueError, match=re.escape("(no such day in the calendar: February 2026 has 28 days)")):
        DateFormat(spec).parse("31/02/2026 12.30")
    with pytest.raises(ValueError, match=re.escape("(expected month-day-year or YYYY-MM-DD, as the file's dates")):
        MDY.parse("31/12/2026 12.30")  # no day month first: the date is what does not read
    with pytest.raises(ValueError, match=re.escape("(expected format %d/%m/%Y (--date-format) or YYYY-MM-DD)")):
        DateFormat("%d/%m/%Y").parse("31/12/2026 12.30")  # a format given reads only what it says


def test_a_file_of_iso_dates_is_reported_as_iso_and_one_without_dates_as_needing_none() -> None:
    # before: both were reported as "dmy", an order nothing in the file had decided
    assert decide(["2026-11-30", "2026-11-30T10:00"]) == DateFormat(
        "iso", "every date is ISO YYYY-MM-DD (line 2 date '2026-11-30')"
    )
    for values in ([], ["31/02/2026", "13/13/2026"]):  # no day of the calendar: its row's fault
        assert decide(values) == DateFormat("none", "no date in the file")
    assert decide(["x", "31/02/2026"]).spec == "none"  # no format reads either: each is its row's fault
    # no order needed: ISO dates read, and a date of another shape is rejected as such
    assert DateFormat("iso").parse("2026-11-30") == "2026-11-30"
    with pytest.raises(ValueError, match="expected YYYY-MM-DD"):
        DateFormat("iso").parse("30/11/2026")
    with pytest.raises(ValueError, match="no such day in the calendar"):  # no format reads it: none is advised
        DateFormat("iso").parse("31/02/2026")


@pytest.mark.parametrize(
    ("text", "readings", "sep"),
    [
        ("03-04-2026", "3 April or 4 March", "-"),
        ("1/12/2026", "1 December or 12 January", "/"),
        ("11.10.2026", "11 October or 10 November", "."),
    ],  # fmt: skip
)
def test_only_ambiguous_dates_are_refused(text: str, readings: str, sep: str) -> None:
    with pytest.raises(ConfigError) as info:
        decide(["2026-01-01", text, "07-07-2026"])
    assert str(info.value) == (
        f"entries.csv: line 3: date {text!r} could be {readings}, and no other date in the file shows the order: "
        f"give --date-format %d{sep}%m{sep}%Y (day first) or --date-format %m{sep}%d{sep}%Y (month first)"
    )


def test_a_date_with_its_time_of_day_proves_its_order_or_is_refused_with_a_format_that_reads_it() -> None:
    assert decide(["13/04/2026 10:15"]).spec == "dmy"
    assert decide(["04/13/2026 10:15:00", "2026-01-01 00:00"]).spec == "mdy"
    # dmy / mdy read its dates with and without a time of day alike (a tester followed a strptime format given
    # here, and the dates without a time were rejected)
    with pytest.raises(ConfigError) as info:
        decide(["03.04.2026 10:15:30.5", "04.03.2026"])
    assert "give --date-format dmy (day first) or --date-format mdy (month first)" in str(info.value)


def test_a_date_time_with_am_or_pm_is_read_as_one_with_a_24_hour_clock() -> None:
    # found by a tester: US Excel's 12/31/2026 11:59 PM (HaloPSA token_expiry) and 11/30/2026 4:15 PM (Visma Core
    # entryDate) were rejected and told "--date-format %d/%m/%y", which reads neither; mdy rejected them too
    found = decide(["12/31/2026 11:59 PM", "12/30/2026 1:05 PM"])
    assert (found.spec, found.reason) == ("mdy", "month first (line 2 date '12/31/2026 11:59 PM')")
    assert found.parse("12/30/2026 1:05 PM") == "2026-12-30T13:05"
    assert decide(["11/30/2026 4:15 PM"]).parse("11/30/2026 4:15 PM") == "2026-11-30T16:15"
    assert decide(["01.02.2026 4:15:09 PM", "13.02.2026 1:00 AM"]).spec == "dmy"
    assert decide(["01/02/2026 4:15 PM"], given="mdy").parse("01/02/2026 4:15 PM") == "2026-01-02T16:15"
    with pytest.raises(ConfigError) as info:
        decide(["01/02/2026 4:15 PM"])
    assert "give --date-format dmy (day first) or --date-format mdy (month first)" in str(info.value)


@pytest.mark.parametrize("given", [None, "mdy", "DMY"])
def test_a_file_that_writes_times_of_day_with_and_without_am_or_pm_is_refused(given: str | None) -> None:
    # decided for the file: beside a 4:15 PM, a 4:15 without AM/PM may be morning or afternoon
    with pytest.raises(ConfigError) as info:
        decide(["02/02/2026 17:00", "11/11/2026 4:15 PM", "11/11/2026 12:30", "11/11/2026 9:00"], given)
    assert str(info.value) == (
        "entries.csv: line 3 date '11/11/2026 4:15 PM' writes its time of day with AM/PM (a 12-hour clock), but line "
        "4 date '11/11/2026 12:30' has none: its 12:30 may be AM or PM. Write the file's times of day one way: all "
        "with AM/PM, or all on a 24-hour clock (or as ISO YYYY-MM-DDTHH:MM). Nothing was sent"
    )
    # a time of day of 0 or 13 and on is a 24-hour clock's, and one as ISO is always
    found = decide(["11/11/2026 4:15 PM", "11/11/2026 0:30", "12/12/2026 13:00", "2026-11-28T09:00"], given)
    assert found.spec == (given or "dmy").lower()
    # a strptime format reads its own clock only: the rows of the other are rejected, each
    fmt = decide(["11/30/2026 4:15 PM", "11/29/2026 4:15"], "%m/%d/%Y %I:%M %p")
    assert fmt.parse("11/30/2026 4:15 PM") == "2026-11-30T16:15:00"
    with pytest.raises(ValueError, match="expected format"):
        fmt.parse("11/29/2026 4:15")


def test_a_date_time_with_a_two_digit_year_is_told_a_format_that_reads_it() -> None:
    # found by a tester: told "e.g. --date-format %d/%m/%y", which reads no date with a time of day
    values = ["12/31/26 11:59 PM", "1/2/26 9:05:30 AM", "1/2/26 09:05"]
    for text, option in (
        ("12/31/26 11:59 PM", "'%m/%d/%y %I:%M %p' reads it"),
        ("1/2/26 9:05:30 AM", "'%m/%d/%y %I:%M:%S %p' reads it (month first, as the file's dates show)"),
        ("1/2/26 09:05", "'%m/%d/%y %H:%M' reads it (month first, as the file's dates show)"),
    ):
        assert refused([text, *(other for other in values if other != text)]) == f"--date-format {option}"
        spec = shlex.split(option.partition(" reads it")[0])[0]
        assert decide([text], spec).parse(text).startswith("20")
    either = "--date-format '%d.%m.%y %I:%M %p' (day first) or --date-format '%m.%d.%y %I:%M %p' (month first)"
    assert refused(["1.2.26 9:05 PM"]) == either


def test_both_orders_are_refused_naming_both_lines() -> None:
    with pytest.raises(ConfigError) as info:
        decide(["03-04-2026", "12/25/2026", "25.12.2026", "25/12/2026"])
    assert str(info.value) == (
        "entries.csv: the file writes dates in both orders: line 3 date '12/25/2026' is month first, line 4 date "
        "'25.12.2026' day first; its dates that read both ways cannot be known: fix the file (a --date-format given "
        "is refused as well: it would read them one way)"
    )


def test_two_ways_of_writing_in_two_orders_are_told_to_write_one_as_iso() -> None:
    # found by a tester: dotted dates proven day first (13.11.2026) beside US dueDates proven month first
    # (12/31/2026) were told "fix the file", where the docs said each way of writing proves its own order: no one
    # --date-format reads them, and writing one way's dates as ISO does
    def evidence(due: str, later: str) -> DateEvidence:
        found = DateEvidence()
        for line, (day, due_date) in enumerate([("01.11.2026", due), ("13.11.2026", later)], start=2):
            found.add(day, line, "date")
            found.add(due_date, line, "dueDate")
        return found

    said = {}
    for option in (None, "dmy", "mdy"):
        with pytest.raises(ConfigError) as info:
            evidence("12/31/2026", "01/02/2027").decide(option, "entries.csv")
        said[option] = str(info.value)
        assert said[option].endswith(
            "no one --date-format reads both ways of writing in two orders: write the dates written with slashes "
            "(line 2 dueDate '12/31/2026' as 2026-12-31) or those written with points (line 3 date '13.11.2026' as "
            "2026-11-13) as ISO YYYY-MM-DD. Nothing was sent"
        ), said
    assert said[None].startswith(
        "entries.csv: the file writes dates in both orders: line 2 dueDate '12/31/2026' is month first, written with "
        "slashes, line 3 date '13.11.2026' day first, written with points; no one"
    )
    assert said["dmy"].startswith(
        "entries.csv: --date-format dmy reads dates day first, but line 2 dueDate '12/31/2026' is month first, "
        "written with slashes, and line 3 date '13.11.2026' day first, written with points; no one"
    )
    # followed: the dueDates written as ISO, the dotted dates are read day first
    fmt = evidence("2026-12-31", "2027-01-02").decide(None, "entries.csv")
    assert fmt.spec == "dmy" and fmt.parse("01.11.2026") == "2026-11-01"


@pytest.mark.parametrize(
    ("values", "readings", "sep", "order", "proof", "its"),
    [
        # found by a tester: a US dueDate beside e-conomic's dotted date booked 01.11.2026 as 11 January, exit 0
        (["01.11.2026", "12/31/2026"], "1 November or 11 January", ".", "mdy", "line 3 date '12/31/2026'", "slashes"),
        (["2026-01-01", "03-04-2026", "13.1.2026", "1/2/2026"], "3 April or 4 March", "-", "dmy",
         "line 4 date '13.1.2026'", "points"),
        (["1/12/2026 10:00", "4-30-2026"], "1 December or 12 January", "/", "mdy", "line 3 date '4-30-2026'",
         "dashes"),
    ],
)  # fmt: skip
def test_dates_that_read_both_ways_are_not_decided_by_a_date_written_another_way(
    values: list[str], readings: str, sep: str, order: str, proof: str, its: str
) -> None:
    way = {".": "points", "/": "slashes", "-": "dashes"}[sep]
    (shown, other) = ("day first", "month first") if order == "dmy" else ("month first", "day first")
    ambiguous = next(text for text in values if not text.startswith("2026"))
    with pytest.raises(ConfigError) as info:
        decide(values)
    assert str(info.value) == (
        f"entries.csv: line {values.index(ambiguous) + 2}: date {ambiguous!r} could be {readings}, and no other date "
        f"written with {way} (D{sep}M{sep}YYYY) in the file shows the order: only {proof} does ({shown}), written "
        f"with {its}, perhaps by another system. If the file's dates written with {way} are {shown} too, give "
        f"--date-format {order}; if they are {other}, no one --date-format reads both ways of writing: write one of "
        "them as ISO YYYY-MM-DD. Nothing was sent"
    )
    assert decide(values, order).spec == order  # the way on it names reads the file


def test_a_shape_that_shows_the_order_itself_or_needs_none_is_read_in_the_order_proven() -> None:
    # each way of writing proves its own order, or all of its dates read one way: nothing changes
    assert decide(["01.11.2026", "13.11.2026", "31/12/2026", "1/2/2026"]).spec == "dmy"
    assert decide(["01.11.2026", "11.13.2026", "12/31/2026"]).spec == "mdy"
    assert decide(["05.05.2026", "12/31/2026", "2026-01-02"]).spec == "mdy"
    # two ways of writing in two orders: refused as before
    with pytest.raises(ConfigError, match="the file writes dates in both orders"):
        decide(["13.11.2026", "12/31/2026"])


def test_the_field_named_is_the_one_that_proved() -> None:
    evidence = DateEvidence()
    evidence.add("25/12/2026", 4, "dueDate")
    evidence.add("12/25/2026", 9, "date")
    with pytest.raises(ConfigError, match="line 4 dueDate '25/12/2026' is day first, line 9 date '12/25/2026' "):
        evidence.decide(None, "e.csv")


@pytest.mark.parametrize(("given", "spec"), [("dmy", "dmy"), ("MDY", "mdy"), ("%d-%m-%Y", "%d-%m-%Y")])
def test_given_order_decides_dates_that_read_both_ways(given: str, spec: str) -> None:
    assert decide(["03-04-2026", "2026-01-01", "1.2.2026"], given) == DateFormat(spec, f"given: --date-format {given}")
    # a date of another shape is no date of the given order's: it is rejected with its row
    assert decide(["03-04-2026", "12/25/26", "25/12/26 10:00"], given).spec == spec


@pytest.mark.parametrize(
    ("given", "values", "proof", "instead"),
    [
        # found by a tester: 2/13/26 was rejected, and 1/2/26 and 3/4/26 booked as 1 February and 3 April
        ("%d/%m/%y", ["1/2/26", "3/4/26", "2/13/26"], "line 4 date '2/13/26' is month first", "%m/%d/%y"),
        ("%m-%d-%Y", ["01-02-2026", "2026-01-01", "13-02-2026"], "line 4 date '13-02-2026' is day first", "%d-%m-%Y"),
        ("%d.%m.%Y %H:%M", ["1.2.2026 9:00", "2.13.2026 10:15"], "line 3 date '2.13.2026 10:15' is month first",
         "%m.%d.%Y %H:%M"),
        ("%m/%d/%y %I:%M %p", ["1/2/26 9:00 AM", "13/2/26 1:00 PM"], "line 3 date '13/2/26 1:00 PM' is day first",
         "%d/%m/%y %I:%M %p"),
        ("dmy", ["01/02/2026", "2026-01-01", "02/13/2026"], "line 4 date '02/13/2026' is month first", "mdy"),
        ("MDY", ["01/02/2026 10:00", "13/02/2026 10:00"], "line 3 date '13/02/2026 10:00' is day first", "dmy"),
    ],
)  # fmt: skip
def test_a_given_format_a_date_of_the_file_contradicts_is_refused(
    given: str, values: list[str], proof: str, instead: str
) -> None:
    own, other = ("day first", "month first") if "day first" not in proof else ("month first", "day first")
    with pytest.raises(ConfigError) as info:
        decide(values, given)
    # quoted as a shell takes it back (found by a tester: `%m.%d.%Y %H:%M` pasted as shown lost its time)
    said, told = shlex.quote(given), shlex.quote(instead)
    assert str(info.value) == (
        f"entries.csv: --date-format {said} reads dates {own}, but {proof}, which only --date-format {told} "
        f"reads: the file's dates are {other}, and read {own} its dates that read both ways would be booked as the "
        f"wrong day; give --date-format {told}. Nothing was sent"
    )
    assert (" " in instead) == told.startswith("'")
    assert decide(values, shlex.split(told)[0]).spec == instead  # the format it names reads the file


@pytest.mark.parametrize(
    ("given", "values", "proof", "ambiguous", "way"),
    [
        # found by a helper: told "the file's dates are month first … give --date-format mdy" from the slashed date
        # alone, which books 01.11.2026 as 11 January where the dotted dates are day first
        ("dmy", ["01.11.2026", "12/31/2026"], "line 3 date '12/31/2026' is month first, written with slashes",
         "line 2 date '01.11.2026' could be 1 November or 11 January", "points (D.M.YYYY)"),
        ("mdy", ["2026-01-01", "31-12-2026", "1/2/2026 10:00"], "line 3 date '31-12-2026' is day first, written with "
         "dashes", "line 4 date '1/2/2026 10:00' could be 1 February or 2 January", "slashes (D/M/YYYY)"),
    ],
)  # fmt: skip
def test_a_given_order_is_not_told_the_order_of_a_date_written_another_way(
    given: str, values: list[str], proof: str, ambiguous: str, way: str
) -> None:
    own, other = ("day first", "month first") if given == "dmy" else ("month first", "day first")
    instead = "mdy" if given == "dmy" else "dmy"
    with pytest.raises(ConfigError) as info:
        decide(values, given)
    points = way.split()[0]
    assert str(info.value) == (
        f"entries.csv: --date-format {given} reads dates {own}, but {proof}, and no date written with {way} in the "
        f"file shows their order: {ambiguous}. If the file's dates written with {points} are {other} too, give "
        f"--date-format {instead}; if they are {own}, no one --date-format reads both ways of writing: write one of "
        "them as ISO YYYY-MM-DD. Nothing was sent"
    )
    assert decide(values, instead).spec == instead  # the way on it names reads the file


@pytest.mark.parametrize(
    ("given", "mine", "against", "instead"),
    [
        # found by testers: only dates apart by -, . or / with the day or month first were checked against the format
        ("%Y/%m/%d", "2026/02/13", "2026/13/02", "%Y/%d/%m"),
        ("%Y.%d.%m", "2026.13.02", "2026.02.13", "%Y.%m.%d"),
        ("%d %m %Y", "13 02 2026", "02 13 2026", "'%m %d %Y'"),
        ("%d%m%Y", "13022026", "02132026", "%m%d%Y"),
        ("%Y%m%d", "20260213", "20261302", "%Y%d%m"),
        ("%m%d%y", "021326", "130226", "%d%m%y"),
    ],
)  # fmt: skip
def test_a_given_format_is_refused_for_a_date_of_any_shape_that_only_its_swap_reads(
    given: str, mine: str, against: str, instead: str
) -> None:
    own, other = ("day first", "month first") if given.index("d") < given.index("m") else ("month first", "day first")
    said = f"--date-format {shlex.quote(given)} reads dates {own}, but line 3 date {against!r} is {other}"
    with pytest.raises(ConfigError, match=re.escape(f"{said}, which only --date-format {instead} reads")):
        decide(["2026-01-01", against], given)
    assert decide(["2026-01-01", against], shlex.split(instead)[0]).spec == shlex.split(instead)[0]
    # a file of both orders is refused, as one of dates apart by -, . or /
    with pytest.raises(ConfigError, match=re.escape(f"{said}, and line 2 date {mine!r} {own}: the file writes dates")):
        decide([mine, against], given)
    assert decide([mine, "2026-01-01"], given).spec == given


def test_a_given_format_is_refused_for_a_date_only_the_year_first_reading_reads() -> None:
    # found by a developer: given %d-%m-%y, 32-11-05 (no day 32; 2032-11-05 read %y-%m-%d) was rejected with its row
    # and 26-11-05 booked as 2005-11-26: the check of the given format only swapped %d and %m
    with pytest.raises(ConfigError) as info:
        decide(["26-11-05", "2026-01-01", "32-11-05"], "%d-%m-%y")
    assert str(info.value) == (
        "entries.csv: --date-format %d-%m-%y does not read line 4 date '32-11-05', but --date-format %y-%m-%d reads "
        "it as 2032-11-05 and --date-format %y-%d-%m as 2032-05-11, each also every date of the file %d-%m-%y reads: "
        "the file's dates may be written so, and read with %d-%m-%y its dates that read both ways would be booked as "
        "the wrong day (line 2 "
        "date '26-11-05': 2005-11-26 with %d-%m-%y, 2026-11-05 with %y-%m-%d). Give the --date-format the file's "
        "dates are written in; if only this date is wrong, fix it. Nothing was sent"
    )
    fmt = decide(["26-11-05", "2026-01-01", "32-11-05"], "%y-%m-%d")  # the format it names reads the file
    assert (fmt.parse("26-11-05"), fmt.parse("32-11-05")) == ("2026-11-05", "2032-11-05")


def test_a_given_format_is_refused_for_a_file_whose_dates_read_in_two_orders_of_year_day_and_month() -> None:
    with pytest.raises(ConfigError) as info:
        decide(["25-12-99", "26-11-05", "32-11-05"], "%d-%m-%y")
    assert str(info.value) == (
        "entries.csv: --date-format %d-%m-%y does not read line 4 date '32-11-05', but --date-format %y-%m-%d reads "
        "it as 2032-11-05, and line 2 date '25-12-99' only %d-%m-%y: the file writes dates in both ways, so its dates "
        "that read both ways cannot be known (line 3 date '26-11-05': 2005-11-26 with %d-%m-%y, 2026-11-05 with "
        "%y-%m-%d): fix the file. Nothing was sent"
    )


@pytest.mark.parametrize(
    ("given", "values"),
    [
        ("%d-%m-%y", ["26-11-05", "13-11-05", "2026-01-01"]),  # reads every date: not second-guessed
        ("%d-%m-%y", ["26-11-05", "32-13-45", "n/a"]),  # what no format reads is its row's fault
        ("%d-%m-%Y", ["05-11-2026", "05-2026-11"]),  # %d-%Y-%m reads it, but no date of the file reads both ways
        ("%d/%m/%y %H:%M", ["26/11/05 10:00", "26/11/05"]),
    ],
)
def test_a_given_format_is_kept_where_no_other_order_of_its_directives_reads_what_it_does_not(
    given: str, values: list[str]
) -> None:
    assert decide(values, given).spec == given


def test_a_given_format_like_iso_is_refused_for_a_date_only_its_swap_reads() -> None:
    # a date shaped as ISO in another order: no --date-format reads it (a YYYY-MM-DD date is always ISO)
    with pytest.raises(ConfigError) as info:
        decide(["2026-01-02", "2026-13-02"], "%Y-%m-%d")
    assert str(info.value) == (
        "entries.csv: --date-format %Y-%m-%d reads dates month first, but line 3 date '2026-13-02' is day first, "
        "which only the format %Y-%d-%m reads: the file's dates are day first, and read month first its dates that "
        "read both ways would be booked as the wrong day. No --date-format reads them, as a date written YYYY-MM-DD "
        "is always read as ISO: write the file's dates as ISO YYYY-MM-DD. Nothing was sent"
    )
    assert decide(["2026-01-02", "2026-02-30", "20260102"], "%Y-%m-%d").spec == "%Y-%m-%d"  # no day: rejected by row


@pytest.mark.parametrize("given", [None, "dmy", "%d/%m/%Y", "%Y/%d/%m"])
@pytest.mark.parametrize("cell", ["2026-13-02", "2026-13-02T10:00", "2026-13-02 10:00:00+01:00"])
def test_a_file_with_a_date_shaped_iso_that_is_a_day_only_year_day_month_is_refused(
    cell: str, given: str | None
) -> None:
    # found by testers: without a format, 2026-13-02 was rejected as no day while the file's 2026-05-02 (5 February)
    # loaded as 2 May. A YYYY-MM-DD date is read as ISO whatever the format, so no format given reads the file
    with pytest.raises(ConfigError) as info:
        decide(["2026-05-02", "01/02/2026", cell, "2026-14-03"], given)
    assert str(info.value) == (
        f"entries.csv: line 4 date {cell!r} is no day read year-month-day (there is no month 13), but 13 February "
        "2026 read year-day-month: the file may write its dates year-day-month, and then its dates that read both "
        "ways (2026-05-02: 2 May as ISO, 5 February year-day-month) would be booked as the wrong day. bulkload reads "
        "a date written YYYY-MM-DD as ISO only, and no --date-format reads it year-day-month: write the file's dates "
        "as ISO YYYY-MM-DD (if only this date is wrong, fix it). Nothing was sent"
    )


@pytest.mark.parametrize("sep", ["/", "."])
def test_a_date_written_year_first_with_slashes_or_points_that_is_a_day_only_year_day_month_is_refused(
    sep: str,
) -> None:
    cell = f"2026{sep}31{sep}12"
    for option in (None, "dmy", f"%Y{sep}%m{sep}%d %H:%M"):
        with pytest.raises(ConfigError) as info:
            decide([f"2026{sep}05{sep}02", cell], option)
        assert str(info.value) == (
            f"entries.csv: line 3 date {cell!r} is no day read year-month-day (there is no month 31), but 31 December "
            f"2026 read year-day-month: the file may write its dates year-day-month, and a date written "
            f"YYYY{sep}MM{sep}DD is read so only with a --date-format that says so: if the file's are, give "
            f"--date-format %Y{sep}%d{sep}%m (2026{sep}05{sep}02 is then 5 February); if only this date is wrong, fix "
            "it. Nothing was sent"
        )
    # the format it names reads the file: 2026/05/02 is 5 February
    fmt = decide([f"2026{sep}05{sep}02", cell], f"%Y{sep}%d{sep}%m")
    assert (fmt.parse(f"2026{sep}05{sep}02"), fmt.parse(cell)) == ("2026-02-05", "2026-12-31")
    with pytest.raises(ConfigError, match=re.escape(f"%Y{sep}%d{sep}%m followed by the directives of its time of")):
        decide([f"{cell} 10:00"])


def test_a_date_shaped_year_first_that_is_no_day_either_way_is_rejected_with_its_row() -> None:
    # 2026-02-30: no day as year-month-day nor year-day-month; 2026-13-45, 2026-00-05: neither; 2026-13-2: not shaped
    fmt = decide(["2026-05-02", "2026-02-30", "2026-13-45", "2026-00-05", "2026-13-2", "2026/02/30", "13-02-2026"])
    assert (fmt.spec, fmt.parse("2026-05-02")) == ("dmy", "2026-05-02")
    for text, month in (("2026-02-30", ": February 2026 has 28 days"), ("2026-13-45", ""), ("2026-00-05", "")):
        with pytest.raises(ValueError) as info:
            fmt.parse(text)
        assert str(info.value) == f"not a valid date: {text!r} (no such day in the calendar{month})"


def test_a_given_format_is_refused_for_a_file_of_both_orders_and_kept_for_dates_of_neither() -> None:
    with pytest.raises(ConfigError) as info:
        decide(["13/2/26", "1/2/26", "2/13/26"], "%d/%m/%y")
    assert str(info.value) == (
        "entries.csv: --date-format %d/%m/%y reads dates day first, but line 4 date '2/13/26' is month first, and "
        "line 2 date '13/2/26' day first: the file writes dates in both orders, so its dates that read both ways "
        "cannot be known: fix the file. Nothing was sent"
    )
    # no day of the calendar in either order, or of another shape than the format's: rejected with its row
    for values in (["1/2/26", "31/31/26", "2/30/26"], ["1/2/26", "2-13-26", "2/13/2026"], ["1/2/26", "Feb 13, 26"]):
        fmt = decide(values, "%d/%m/%y")
        assert fmt.parse("1/2/26") == "2026-02-01"
        with pytest.raises(ValueError, match=r"expected format %d/%m/%y \(--date-format\) or YYYY-MM-DD"):
            fmt.parse(values[1])
    assert decide(["Feb 13, 26", "Feb 1, 26"], "%b %d, %y").spec == "%b %d, %y"  # a month by name: no order to swap


def test_a_given_format_is_refused_before_the_file_is_looked_at() -> None:
    with pytest.raises(ConfigError, match="^--date-format '%d-%d-%Y' is not a date format"):
        DateEvidence("%d-%d-%Y")


@pytest.mark.parametrize("bad", ["", "ymd", "%d-%m", "%m-%Y", "%Y", "%H:%M", "%d-%m-%Q", "%d-%d-%Y"])
def test_given_format_is_validated(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        decide([], bad)
    assert str(info.value) == (
        f"--date-format {bad!r} is not a date format: give dmy, mdy, or a strptime format with day, month and year "
        "such as %d-%m-%Y"
    )


@pytest.mark.parametrize("spec", ["%d/%m/%Y %H:%M %z", "%d-%m-%Y %H:%M %Z"])
def test_a_given_format_with_an_offset_is_refused_for_the_offset(spec: str) -> None:
    # found by a tester: refused as no format "with day, month and year", which it has: the offset is what no
    # --date-format reads (a date-time is sent without one), and ISO 8601 is how such date-times load
    with pytest.raises(ConfigError) as info:
        decide([], spec)
    said = str(info.value)
    assert f"reads an offset ({spec[-2:]})" in said and f"without {spec[-2:]} " in said and "ISO 8601" in said, said


def test_a_format_that_looks_like_iso_in_another_order_is_refused() -> None:
    with pytest.raises(ConfigError, match="^--date-format '%Y-%d-%m' writes dates like ISO YYYY-MM-DD"):
        decide([], "%Y-%d-%m")


def test_evidence_keeps_only_the_first_example_and_a_bounded_set() -> None:
    evidence = DateEvidence()
    for line in range(2, 30_002):
        evidence.add(f"{line % 28 + 1}/12/{1900 + line % 200}", line, "date")
    assert len(evidence._seen) <= dates._CACHE_MAX
    assert evidence.decide(None, "e.csv").reason == "day first (line 12 date '13/12/1912')"
    assert set(evidence._first) == {"dmy", "?", "same", "dmy/", "?/", "read date"}  # 12/12: the same either way


# --- properties ----------------------------------------------------------------------------------------

DAYS = st.dates(date(1900, 1, 1), date(2100, 12, 31))


def write(when: date, spec: str, sep: str, padded: bool) -> str:
    day, month = (f"{when.day:02d}", f"{when.month:02d}") if padded else (str(when.day), str(when.month))
    first, second = (day, month) if spec == "dmy" else (month, day)
    return f"{first}{sep}{second}{sep}{when.year}"


@given(DAYS, st.sampled_from(["dmy", "mdy"]), st.sampled_from("-./"), st.booleans())
def test_every_written_date_reads_back(when: date, spec: str, sep: str, padded: bool) -> None:
    assert DateFormat(spec).parse(write(when, spec, sep, padded)) == when.isoformat()
    assert DateFormat(spec).parse(when.isoformat()) == when.isoformat()
    strptime = f"%d{sep}%m{sep}%Y" if spec == "dmy" else f"%m{sep}%d{sep}%Y"
    assert DateFormat(strptime).parse(write(when, spec, sep, padded)) == when.isoformat()


@given(st.sampled_from(["dmy", "mdy"]), st.lists(st.tuples(DAYS, st.sampled_from("-./"), st.booleans()), max_size=20))
def test_a_file_in_one_order_with_one_proof_decides_that_order(spec: str, rows: list[tuple[date, str, bool]]) -> None:
    # a proof for each way of writing the file uses: one written another way proves nothing of them
    proofs = [write(date(2026, 12, 25), spec, sep, True) for sep in "-./"]  # day 25 cannot be a month
    texts = [write(when, spec, sep, padded) for when, sep, padded in rows]
    assert decide([*texts, *proofs]).spec == spec


@given(
    st.sampled_from(["dmy", "mdy"]),
    st.sampled_from("-./"),
    st.lists(st.tuples(DAYS, st.sampled_from("-./"), st.booleans()), max_size=20),
    st.integers(1, 12),
    st.integers(1, 12).filter(lambda n: n != 1),
)
def test_dates_of_one_shape_that_read_both_ways_are_never_decided_by_the_other_shapes(
    spec: str, sep: str, rows: list[tuple[date, str, bool]], day: int, month: int
) -> None:
    ambiguous = write(date(2026, month, day if day != month else 1), spec, sep, False)
    others = [write(when, spec, other, padded) for when, other, padded in rows if other != sep]
    proofs = [write(date(2026, 12, 25), spec, other, True) for other in "-./" if other != sep]
    with pytest.raises(ConfigError, match=re.escape(f"line {len(others) + 2}: date {ambiguous!r} could be ")):
        decide([*others, ambiguous, *proofs])
    assert decide([*others, ambiguous, *proofs], spec).spec == spec


@pytest.mark.parametrize(
    ("said", "same"),
    [
        ("2026-11-01", True),
        ("2026-11-01T00:00:00+02:00", True),  # seed 003's form
        ("2026-10-31T18:15:00Z", True),  # midnight at +05:45
        ("2026-10-31T14:01:00Z", False),  # at +09:59: no quarter hour
        ("2026-10-31T12:15:00Z", True),  # at +11:45
        ("2026-11-01T09:45:00Z", True),  # at -09:45
        ("2026-11-01T10:00:00Z", False),  # at -10:00, or 2 November's at +14:00
        ("2026-11-01T23:00:00Z", False),  # 2 November's midnight at +01:00
        ("2026-11-01T00:00:00Z", True),  # midnight at its own offset
        ("2026-10-31T12:00:00Z", False),  # at +12:00, or 31 October's at -12:00
        ("2026-10-31T23:00:00", False),  # no offset: the date as written
        ("2026-10-31", False),
        ("31 October", False),
    ],
)
def test_a_date_answered_is_the_one_sent_where_it_is_its_local_midnight_in_one_zone_only(said: str, same: bool) -> None:
    assert dates.same_day("2026-11-01", said) is same
    assert dates.same_day("2026-11-01T00:00:00+03:00", said) is same  # the date of the clock sent


def test_a_date_time_answered_is_the_one_sent_where_it_is_its_time_in_one_zone_only() -> None:
    sent = "2026-11-01T15:30"
    assert dates.same_day(sent, "2026-11-01T15:30:00+01:00")
    assert dates.same_day(sent, "2026-11-01T14:30:00Z")
    assert dates.same_day(sent, "2026-11-01T00:00:00+01:00")  # its time dropped, the date kept
    assert not dates.same_day(sent, "2026-11-02T00:00:00+01:00")
    assert not dates.same_day(sent, "2026-11-01T01:30:00Z")  # at +14:00, or 31 October at -10:00


@pytest.mark.parametrize(
    ("other", "one"),
    [
        ("2026-11-05", True),
        ("2026-11-05T00:00", True),  # "2026-11-05 00:00" as DateFormat.parse gives it
        ("2026-11-05T00:00:00", True),
        ("2026-11-05T00:00:00.000", True),
        ("2026-11-05T10:00", False),  # a time of day
        ("2026-11-05T00:00:01", False),
        ("2026-11-05T00:00:00Z", False),  # an instant: the 4th west of UTC
        ("2026-11-05T00:00:00+01:00", False),
        ("2026-11-06", False),
        ("5 November", False),
    ],
)
def test_a_date_written_two_ways_is_one_date_and_a_time_of_day_or_an_offset_another(other: str, one: bool) -> None:
    assert dates.one_date("2026-11-05", other) is one
    assert dates.one_date(other, "2026-11-05") is one
    assert dates.one_date(other, other)


def test_one_date_at_one_offset_is_one_however_written() -> None:
    assert dates.one_date("2026-11-05T00:00+01:00", "2026-11-05T00:00:00.000+01:00")
    assert dates.one_date("2026-11-05T10:30", "2026-11-05T10:30:00")  # one clock reading
    assert not dates.one_date("2026-11-05T00:00:00+01:00", "2026-11-04T23:00:00Z")  # one instant, two dates


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("2026-11-01", "2026-11-01"),
        ("2026-11-01T00:00:00", "2026-11-01"),  # the e-conomic sandbox's form
        ("2026-11-01T00:00:00+02:00", "2026-11-01"),
        ("2026-10-31T23:00:00Z", "2026-11-01"),  # Copenhagen's midnight written in UTC (a tester's server)
        ("2026-10-31T23:00:00.000+00:00", "2026-11-01"),
        ("2026-11-01T23:00:00Z", "2026-11-02"),  # 2 November's midnight at +01:00
        ("2026-10-31T18:15:00Z", "2026-11-01"),  # at +05:45
        ("2026-11-01T09:45:00Z", "2026-11-01"),  # at -09:45
        ("2026-11-01T01:00:00+01:00", "2026-11-01"),  # midnight in UTC
        # midnight in no zone, or in two: its date part as written, as a time of day sent and kept
        ("2026-11-01T14:15:22Z", "2026-11-01"),
        ("2026-11-01T10:00:00Z", "2026-11-01"),
        ("2026-10-31T23:00:00", "2026-10-31"),  # no offset: the date as written
        ("31 October", "31 October"),
    ],
)
def test_a_date_listed_names_the_date_whose_midnight_it_is_in_one_zone(said: str, day: str) -> None:
    assert dates.listed_day(said) == day
    # as same_day reads it against a date sent, where the answer is a date, or a zone's midnight
    if dates.same_day(day, said) or dates.same_day("2026-11-01", said):
        assert dates.same_day("2026-11-01", said) is (day == "2026-11-01")


def test_a_date_time_with_an_offset_is_told_from_a_date_and_a_time_of_day_without() -> None:
    # e-conomic refuses a date field's instant (which day it books for one is not documented): each way
    # DateFormat.parse writes one is told, and nothing else is
    for text in (
        "2026-10-31T23:00:00Z",
        "2026-11-01T00:00:00+01:00",
        "2026-11-30T10:00-05:00",
        "2026-11-30T10:00:00.5Z",
    ):
        assert dates.at_offset(text), text
    for text in ("2026-11-01", "2026-11-30T10:00", "2026-11-30T10:00:00.8363753", "2026-10-31T23:00:00"):
        assert not dates.at_offset(text), text
    assert DMY.parse("2026-11-30 10:00:00,5Z") == "2026-11-30T10:00:00.5Z" and dates.at_offset("2026-11-30T10:00:00.5Z")


#: a format the advice names: quoted, or a token from its first %
_NAMED_FORMAT = re.compile(r"'(%[^']+)'|(?<![\w'])(%[^\s),']+)")


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("30-Nov-2026", "%d-%b-%Y"),  # found by a tester: told %d/%m/%y or '%b %d, %Y', neither of which reads it
        ("30-Nov-26", "%d-%b-%y"),
        ("30 November 2026", "%d %B %Y"),
        ("Nov 30, 2026", "%b %d, %Y"),
        ("November 30, 2026", "%B %d, %Y"),
        ("30.nov.2026", "%d.%b.%Y"),
        ("Mon, 30 Nov 2026", "%a, %d %b %Y"),
        ("30-Nov-2026 14:15", "%d-%b-%Y %H:%M"),
        ("Nov 30, 2026 4:15:30 PM", "%b %d, %Y %I:%M:%S %p"),
        ("30-Nov-2026T14:15:22.5", "%d-%b-%YT%H:%M:%S.%f"),
        ("2026/11/30", "%Y/%m/%d"),
        ("2026.11.30", "%Y.%m.%d"),
        ("2026/30/11", "%Y/%d/%m"),
        ("30 11 2026", "%d %m %Y"),
        ("11 30 2026", "%m %d %Y"),
        ("1 2 2026", "%d %m %Y"),  # and %m %d %Y: both are named
        ("30/11 2026", "%d/%m %Y"),
        ("20261130", "%Y%m%d"),
        ("1/2/26", "%d/%m/%y"),
    ],
)
def test_the_format_advised_for_a_date_is_read_off_its_own_shape_and_reads_it(text: str, spec: str) -> None:
    with pytest.raises(ValueError) as info:
        DateFormat("none").parse(text)
    advised = [quoted or bare for quoted, bare in _NAMED_FORMAT.findall(str(info.value))]
    assert spec in advised, info.value
    for each in advised:  # every format named reads the date, as --date-format is read
        assert decide([text], each).parse(text).startswith("20"), (each, info.value)


@pytest.mark.parametrize("text", ["30th Nov 2026", "2026-W44-1", "003-4-2026", "+2026/11/30"])
def test_a_date_of_a_shape_no_format_is_read_off_is_told_to_give_the_files_own(text: str) -> None:
    with pytest.raises(ValueError) as info:
        DateFormat("none").parse(text)
    assert not _NAMED_FORMAT.findall(str(info.value)), info.value  # no format that does not read it
    assert str(info.value).endswith(
        "no format is read off its shape: give the strptime format the file's dates are written in)"
    ), info.value


@pytest.mark.parametrize(
    ("values", "advice"),
    [
        (["30-11-26", "", "1-12-26"], "--date-format %d-%m-%y reads it"),
        (["30-Nov-2026", "1-Dec-2026"], "--date-format %d-%b-%Y reads it"),
        (
            ["26-11-05", "26-11-13"],
            "--date-format %d-%m-%y reads it as 2005-11-26 (day first), --date-format %y-%m-%d as 2026-11-05",
        ),
        (["", "1/2/26", "2/13/26"], "--date-format %m/%d/%y reads it (month first, as the file's dates show)"),
    ],
)
def test_a_file_no_date_of_which_reads_is_refused_whole_naming_a_date_and_the_format(
    values: list[str], advice: str
) -> None:
    # found by a tester: a file of 30-11-26 dates rejected every row (exit 1, a ledger made), where one of 1/2/2026
    # dates is refused before anything is made: which years a file writes is the file's, as its order is
    assert advice in refused(values)


def test_a_file_some_of_whose_dates_read_rejects_the_others_with_their_rows() -> None:
    for values in (["30-11-26", "2026-11-30"], ["30-11-26", "30-11-2026"], ["30-11-26", "05-05-2026"]):
        with pytest.raises(ValueError, match="not a valid date: '30-11-26'"):
            decide(values).parse("30-11-26")
    assert decide(["", " "]) == DateFormat("none", "no date in the file")  # empty cells are no dates
    assert decide(["30-11-26"], "%d-%m-%y").parse("30-11-26") == "2026-11-30"


@pytest.mark.parametrize("text", ["13/13/26", "31/12/26 24:00", "12/31/26 0:00 AM", "2/13/26 25:00"])
def test_a_date_no_reading_of_which_is_a_day_is_told_no_format(text: str) -> None:
    # found by a tester: 13/13/26 was told "--date-format %d/%m/%y reads it", which does not read it: a format is
    # named only where it reads the cell, and a cell no reading of which is a day of the calendar is told so
    with pytest.raises(ValueError) as info:
        DateFormat("none").parse(text)
    assert not _NAMED_FORMAT.findall(str(info.value)), info.value
    assert str(info.value).endswith(f"{dates._NO_DAY})"), info.value
    # nor does the file: no format reads it, its row is rejected; a date some format reads is the file's to decide
    assert decide([text, "x"]).spec == "none"
    assert "--date-format %d-%m-%y reads it" in refused([text, "30-11-26"], None, 3)


@pytest.mark.parametrize(
    ("text", "readings"),
    [
        ("26-Nov-05", "--date-format %d-%b-%y reads it as 2005-11-26, --date-format %y-%b-%d as 2026-11-05"),
        ("26 November 05", "--date-format '%d %B %y' reads it as 2005-11-26, --date-format '%y %B %d' as 2026-11-05"),
    ],
)
def test_a_date_with_a_month_name_that_reads_two_days_is_told_both(text: str, readings: str) -> None:
    # found by a tester: 26-Nov-05 was told only %d-%b-%y, where %y-%b-%d reads it too, as 26-11-05 is told both
    with pytest.raises(ValueError) as info:
        DateFormat("none").parse(text)
    assert f"{readings}: the file's dates do not show which they are" in str(info.value), info.value
    with pytest.raises(ValueError) as info:  # read the same day both ways: one named
        DateFormat("none").parse("05-Nov-05")
    assert str(info.value).endswith("--date-format %d-%b-%y reads it)"), info.value


def test_a_date_column_no_cell_of_which_reads_is_refused_beside_one_that_reads() -> None:
    # found by a tester: date all 30-Nov-2026 beside an ISO dueDate rejected every row, where the file without the
    # dueDate is refused: the refusal is per date column
    evidence = DateEvidence()
    for line in (2, 3):
        evidence.add("30-Nov-2026", line, "date")
        evidence.add("2026-12-15", line, "dueDate")
    with pytest.raises(ConfigError) as info:
        evidence.decide(None, "entries.csv")
    assert str(info.value) == (
        "entries.csv: line 2: date '30-Nov-2026' does not read as YYYY-MM-DD or D-M-YYYY, nor does any date of the "
        "file, so no row would load: --date-format %d-%b-%Y reads it. Nothing was sent"
    )
    # a column some of whose cells read: the others are their rows' fault; so is an empty column
    evidence = DateEvidence()
    for line, (day, due) in enumerate([("2026-11-30", ""), ("30-Nov-2026", "2026-12-15")], start=2):
        evidence.add(day, line, "date")
        evidence.add(due, line, "dueDate")
    assert evidence.decide(None, "entries.csv").spec == "iso"
    # a text read in one column is no proof for another
    evidence = DateEvidence()
    evidence.add("2026-12-15", 2, "date")
    evidence.add("30-Nov-2026", 2, "dueDate")
    evidence.add("2026-12-15", 3, "dueDate")
    assert evidence.decide(None, "entries.csv").spec == "iso"


def test_a_date_format_that_reads_no_date_of_the_file_is_refused() -> None:
    # found by a tester: --date-format %d/%m/%Y over dates all 30-Nov-2026 rejected every row
    assert refused(["30-Nov-2026", "1-Dec-2026"], "%d/%m/%Y") == "--date-format %d-%b-%Y reads it"
    assert refused(["30-11-26", "5-11-26"], "dmy") == "--date-format %d-%m-%y reads it"  # 5-11-26: no yy-mm-dd
    assert decide(["13/13/26"], "%d/%m/%Y").spec == "%d/%m/%Y"  # no format reads it: its row's fault
    assert decide(["30-Nov-2026", "2026-11-30"], "%d/%m/%Y").spec == "%d/%m/%Y"  # ISO reads: the row's fault


@pytest.mark.parametrize(
    ("text", "files", "written"),
    [
        ("yesterday", ["2026-11-02"], "YYYY-MM-DD, as the file's other dates are"),
        ("n/a", ["25.11.2026"], "day-month-year or YYYY-MM-DD, as the file's dates were read (day first)"),
        ("-", [], "YYYY-MM-DD or D-M-YYYY"),
        ("Nov", ["11/25/2026"], "month-day-year or YYYY-MM-DD, as the file's dates were read (month first)"),
        ("1.1", ["2026-11-02"], "YYYY-MM-DD, as the file's other dates are"),
    ],
)
def test_a_date_no_format_reads_is_told_it_cannot_be_read_not_to_give_a_format(
    text: str, files: list[str], written: str
) -> None:
    """Helper t74d: `yesterday` (`n/a`, `-`) was told "for dates of another format give --date-format: no format is
    read off its shape: give the strptime format ...", where no format reads a day, a month and a year from it: the
    reason says it cannot be read, and how to write the row's date."""
    with pytest.raises(ValueError) as info:
        decide([*files, text]).parse(text)
    assert str(info.value) == (
        f"not a valid date: {text!r} (it cannot be read as a date: it has not the digits of a day, a month and a "
        f"year, so no --date-format reads it; write the row's date as {written})"
    )
    with pytest.raises(ValueError) as info:  # a format given reads it no more
        DateFormat("%d.%m.%Y").parse(text)
    assert "it cannot be read as a date" in str(info.value) and "as format %d.%m.%Y (--date-format)" in str(info.value)


def test_a_date_of_a_shape_whose_readings_are_no_day_is_told_it_is_no_date() -> None:
    """Helper t74d: 2026/31/31 (year first, as %Y/%m/%d and %Y/%d/%m are read off it, neither a day) was told to give
    the strptime format the file's dates are written in, as a date of no known shape is."""
    with pytest.raises(ValueError) as info:
        decide(["2026-11-02", "2026/31/31"]).parse("2026/31/31")
    assert str(info.value) == f"not a valid date: '2026/31/31' ({dates._NO_DAY})"


@pytest.mark.parametrize("given", [None, "%d/%m/%Y", "dmy"])
@pytest.mark.parametrize("text", ["tomorrow", "x", "32/13/2026", "13/13/26", "31-Feb-2026", "2/30/26", "30th Nov 2026"])
def test_a_column_whose_dates_no_format_reads_rejects_their_rows_not_the_file(text: str, given: str | None) -> None:
    # found by a helper: one dueDate 'tomorrow' (or 32/13/2026), every other cell empty, refused the whole file ("no
    # row would load"), where the rows without one load: no --date-format reads it, nothing is left to decide, and
    # unreadable is not ambiguous: its row is rejected, the reason naming the value
    fmt = decide(["", text, ""], given)
    with pytest.raises(ValueError, match=re.escape(f"not a valid date: {text!r} (")) as info:
        fmt.parse(text)
    if text == "tomorrow" and given is None:
        assert str(info.value) == (
            "not a valid date: 'tomorrow' (it cannot be read as a date: it has not the digits of a day, a month and a "
            "year, so no --date-format reads it; write the row's date as YYYY-MM-DD or D-M-YYYY)"
        )
    # so beside another such date, or one no calendar has
    assert decide([text, "yesterday", "31/02/2026"], given).spec == (given or "none")
    # a column of dates a format does read is the file's to decide, as before: refused, naming the format
    assert "--date-format %d-%b-%Y reads it" in refused(["", text, "30-Nov-2026"], given, 4)


@pytest.mark.parametrize(
    ("spec", "text", "month"),
    [
        ("none", "31-Feb-2026", "February 2026 has 28 days"),
        ("dmy", "31-Feb-2026", "February 2026 has 28 days"),
        ("%d-%b-%Y", "31-Feb-2026", "February 2026 has 28 days"),
        ("%d-%b-%Y", "29-Feb-2025", "February 2025 has 28 days"),
        ("none", "Feb 30, 2026", "February 2026 has 28 days"),
        ("iso", "31 April 2026", "April 2026 has 30 days"),
        ("iso", "2026-02-30", "February 2026 has 28 days"),
        ("dmy", "2026-02-30T10:00", "February 2026 has 28 days"),
        ("iso", "2026/02/30", "February 2026 has 28 days"),
        ("%Y/%m/%d", "2026/04/31", "April 2026 has 30 days"),
        ("%Y%m%d", "20260230", "February 2026 has 28 days"),
        ("dmy", "29/02/2025", "February 2025 has 28 days"),
        ("mdy", "02/29/2025", "February 2025 has 28 days"),
        ("dmy", "31.04.2026 10:00", "April 2026 has 30 days"),
        ("mdy", "31/04/2026", "April 2026 has 30 days"),
        ("%d/%m/%Y", "30/02/2026", "February 2026 has 28 days"),
        ("none", "2/30/26", "February 2026 has 28 days"),
        ("none", "2/29/27", "February 2027 has 28 days"),
        ("none", "30.02.45 10:00", "February 2045 has 28 days"),  # no day 45: 2030-02-45 is none either
        ("%d.%m.%y", "30.02.26", "February 2026 has 28 days"),
    ],
)
def test_a_day_its_month_has_not_is_told_so_whatever_format_reads_the_shape(spec: str, text: str, month: str) -> None:
    # found by a helper: 31-Feb-2026 was told "no format is read off its shape", where %d-%b-%Y reads the shape and
    # February has no day 31; 2026-02-30 and 30/02/2026 were told "no such day in the calendar" alone: one rule
    with pytest.raises(ValueError) as info:
        DateFormat(spec).parse(text)
    assert str(info.value) == f"not a valid date: {text!r} (no such day in the calendar: {month})"


@pytest.mark.parametrize("text", ["32/13/2026", "13/13/2026", "2026-13-45", "00/13/2026", "0000-02-30", "30/02/0000"])
def test_a_date_whose_month_is_none_either_way_is_no_day_without_a_month_named(text: str) -> None:
    for spec in ("none", "dmy", "mdy"):
        with pytest.raises(ValueError) as info:
            DateFormat(spec).parse(text)
        assert str(info.value) == f"not a valid date: {text!r} (no such day in the calendar)"


def test_a_date_another_format_reads_is_not_told_its_day_is_none() -> None:
    # 30-Feb-05 is 5 February 2030 read %y-%b-%d, 31-02-05 5 February 2031 read %y-%m-%d: no "no such day", the
    # format is named, and a column of them is refused naming it, as before; a format given that reads the shape
    # but not the day is told the month's days
    for text, spec in (("30-Feb-05", "%y-%b-%d"), ("31-02-05", "%y-%m-%d")):
        with pytest.raises(ValueError) as info:
            DateFormat("none").parse(text)
        assert "no such day" not in str(info.value) and f"--date-format {spec} reads it" in str(info.value)
        assert f"--date-format {spec} reads it" in refused([text])
    with pytest.raises(ValueError) as info:
        DateFormat("%d-%b-%y").parse("30-Feb-05")
    assert str(info.value) == "not a valid date: '30-Feb-05' (no such day in the calendar: February 2005 has 28 days)"


@pytest.mark.parametrize("text", ["01-okt-2026", "30. maj 2026", "1 März 2026", "3-dic-26"])
def test_a_month_named_in_another_language_is_told_so_not_to_give_a_format(text: str) -> None:
    """No --date-format reads `01-okt-2026` (strptime reads English month names alone): the advice to give one sent a
    tester looking for a format that does not exist (t46a)."""
    said = dates._example(text)
    assert said.startswith("its month is a name no format reads: --date-format reads month names in English alone")


@pytest.mark.parametrize("text", ["30-nov-2026", "30th Nov 2026", "tomorrow", "Q4 2026"])
def test_other_shapes_are_not_told_of_a_month_in_another_language(text: str) -> None:
    assert not dates._example(text).startswith("its month is a name")
