"""Files a finance user makes at month end, loaded into the sandboxes with what the books then hold checked to the
cent (tester t71b): a rejects file fixed by hand with a row copied, and a column whose name says the currency of its
amounts beside rows of another currency."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import aiohttp
import anyio
import msgspec
import pytest
from conftest import CREDS

from bulkload import Job, load
from bulkload.columns import local_amounts
from bulkload.errors import ConfigError
from bulkload.sandbox import SandboxOptions, running
from bulkload.targets.payorcrm_records import Invoices

HEADERS = {
    "X-AppSecretToken": CREDS["ECONOMIC_APP_SECRET_TOKEN"],
    "X-AgreementGrantToken": CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"],
}
HEADER = "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,text\n"


class Stored(msgspec.Struct):
    voucherNumber: int
    amount: Decimal
    currency: str
    accountNumber: int | None = None


class Page(msgspec.Struct):
    items: list[Stored] | None = None
    cursor: str | None = None


async def journal(url: str) -> list[tuple[int, int | None, Decimal, str]]:
    """(voucher, account, amount, currency) of every entry of journal 1, read apart from bulkload (one page: these
    tests book a few)."""
    params = {"filter": "journalNumber$eq:1"}
    async with aiohttp.ClientSession(headers=HEADERS) as s, s.get(url + "/draft-entries", params=params) as r:
        assert r.status == 200
        page = msgspec.json.decode(await r.read(), type=Page)
    assert page.cursor is None
    return sorted((e.voucherNumber, e.accountNumber, e.amount, e.currency) for e in page.items or [])


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        delimiter = ";" if ";" in fh.readline() else ","
        fh.seek(0)
        return list(csv.DictReader(fh, delimiter=delimiter))


def job(data: Path, url: str, **kw: object) -> Job:
    return Job(target="economic", files=[str(data)], base_url=url, **kw)  # type: ignore[arg-type]


async def test_a_rejects_file_with_a_row_copied_by_hand_rejects_the_voucher_not_books_the_line_twice(
    tmp_path: Path,
) -> None:
    data = tmp_path / "nov.csv"
    data.write_text(
        HEADER
        + "5,1,1,2026-11-30,800.00,DKK,2800,Kontorartikler\n"
        + "5,1,1,2026-11-30,-800.00,DKK,5600,Bank\n"
        + "5,1,2,2026-11-30,500.00,DKK,9999,Husleje\n"  # an account the API refuses: voucher 2 rejected whole
        + "5,1,2,2026-11-30,-500.00,DKK,5600,Bank\n"
        + "5,1,3,2026-11-30,70.00,DKK,9999,Porto\n"
        + "5,1,3,2026-11-30,-70.00,DKK,5600,Bank\n"
    )
    rejects = tmp_path / "nov.csv.rejects.csv"
    with anyio.fail_after(90):
        async with running("economic", SandboxOptions()) as url:
            first = await load(job(data, url), env=CREDS)
            assert (first.loaded, first.rejected) == (2, 4), first
            # the user fixes the accounts in place, and copies voucher 2's rent line once too often (its last row)
            with rejects.open(newline="", encoding="utf-8-sig") as fh:
                table = list(csv.reader(fh))
            at = table[0].index("accountNumber")
            for row in table[1:]:
                row[at] = row[at].replace("9999", "2750")
            table.append(table[1])
            with rejects.open("w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerows(table)
            fixed = await load(job(rejects, url, ledger=str(tmp_path / "fixed.sqlite")), env=CREDS)
            books = await journal(url)
    # before: 500.00 rent booked twice in voucher 2, out of balance by 500.00, exit 0
    assert [b for b in books if b[0] == 2] == [], books
    assert [b for b in books if b[0] == 3] == [
        (3, 2750, Decimal("70.00"), "DKK"),
        (3, 5600, Decimal("-70.00"), "DKK"),
    ], books
    assert (fixed.loaded, fixed.rejected, fixed.exit_code) == (2, 3, 1), fixed
    reasons = {r["line"]: (r["field"], r["reason"]) for r in rows_of(Path(fixed.rejects_file))}
    field, reason = reasons["6"]
    assert field == "line", reasons
    assert reason.startswith("the row names line 4 of "), reason
    assert "as line 2 of this file does" in reason and "empty its `line` cell" in reason, reason
    assert reasons["2"][1].startswith("voucher 2 (journal 1) rejected: line 6 line: the row names line 4"), reasons


async def test_an_amount_column_named_with_its_currency_rejects_a_row_of_another_currency(tmp_path: Path) -> None:
    data = tmp_path / "dk.csv"
    data.write_text(
        "Type;Kassekladde;Bilagsnr;Dato;Konto;Tekst;Beløb DKK;Valuta;Kurs\n"
        "5;1;1;30-11-2026;5610;Indbetaling EUR;745,53;EUR;745,53\n"  # 745,53 is DKK, the column says: not EUR
        "5;1;1;30-11-2026;1050;Salg;-745,53;DKK;\n"
        "5;1;2;30-11-2026;2800;Papir;1.000,00;DKK;\n"
        "5;1;2;30-11-2026;5600;Bank;-1.000,00;DKK;\n",
        encoding="utf-8",
    )
    columns = {
        "Type": "entryTypeNumber",
        "Kassekladde": "journalNumber",
        "Bilagsnr": "voucherNumber",
        "Dato": "date",
        "Konto": "accountNumber",
        "Tekst": "text",
        "Beløb DKK": "amount",
        "Valuta": "currency",
        "Kurs": "exchangeRate",
    }
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            report = await load(job(data, url, columns=columns), env=CREDS)
            books = await journal(url)
    # before: EUR 745.53 (DKK 5,558) booked against DKK -745.53, exit 0 with a warning
    assert [b for b in books if b[0] == 1] == [], books
    assert [b for b in books if b[0] == 2] == [
        (2, 2800, Decimal("1000.00"), "DKK"),
        (2, 5600, Decimal("-1000.00"), "DKK"),
    ], books
    assert (report.loaded, report.rejected, report.exit_code) == (2, 2, 1), report
    reasons = {r["line"]: (r["field"], r["reason"]) for r in rows_of(Path(report.rejects_file))}
    assert reasons["2"] == (
        "amount",
        "the column 'Beløb DKK' holds amount in DKK, as its name says, and the row's currency is EUR: which currency "
        "the amount is in cannot be told. Map to amount a column of the amounts in the row's currency, or correct "
        "the row's currency",
    ), reasons
    assert reasons["3"][1].startswith("voucher 1 (journal 1) rejected: line 2 amount: the column 'Beløb DKK'"), reasons


@pytest.mark.parametrize("saved_as", ["", "dec-fixed.csv"])
async def test_a_rejects_file_with_a_voucher_s_line_deleted_by_hand_rejects_the_voucher_not_books_half(
    tmp_path: Path, saved_as: str
) -> None:
    data = tmp_path / "dec.csv"
    data.write_text(
        HEADER
        + "5,1,1,2026-12-31,500.00,DKK,9999,Husleje\n"  # the API refuses the account: voucher 1 rejected whole
        + "5,1,1,2026-12-31,-500.00,DKK,5600,Bank\n"
        + "5,1,2,2026-12-31,100.00,DKK,2800,Papir\n"
        + "5,1,2,2026-12-31,-100.00,DKK,5600,Bank\n"
        + "5,1,2,2026-12-31,100.00,DKK,,I alt\n"  # the export's total row: voucher 2 rejected whole
    )
    rejects = tmp_path / "dec.csv.rejects.csv"
    with anyio.fail_after(90):
        async with running("economic", SandboxOptions()) as url:
            first = await load(job(data, url), env=CREDS)
            assert (first.loaded, first.rejected) == (0, 5), first
            # fixed by hand: voucher 1's account corrected and its bank line deleted by mistake; voucher 2's total
            # row removed, as its reason tells
            with rejects.open(newline="", encoding="utf-8-sig") as fh:
                table = list(csv.reader(fh))
            at, text = table[0].index("accountNumber"), table[0].index("text")
            kept = [table[0], [c.replace("9999", "2750") for c in table[1]]]
            kept += [row for row in table[3:] if row[text] != "I alt"]
            with rejects.open("w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerows(kept)
            if saved_as:  # a spreadsheet's Save As: told by the one run that read dec.csv
                rejects = rejects.rename(tmp_path / saved_as)
            fixed = await load(job(rejects, url, ledger=str(tmp_path / "fixed.sqlite")), env=CREDS)
            books = await journal(url)
    # before: voucher 1 booked as its rent line alone, out of balance by 500.00, exit 0
    assert books == [
        (2, 2800, Decimal("100.00"), "DKK"),
        (2, 5600, Decimal("-100.00"), "DKK"),
    ], books
    assert kept[1][at] == "2750"
    assert (fixed.loaded, fixed.rejected, fixed.exit_code) == (2, 1, 1), fixed
    (row,) = rows_of(Path(fixed.rejects_file))
    assert (row["line"], row["field"]) == ("2", "line"), row
    assert row["reason"].startswith(f"line 3 of {data}, which the run of the ledger "), row
    assert "rejected only with voucher 1 (journal 1), is not in this file" in row["reason"], row
    assert "Give its row back" in row["reason"], row


PAYORCRM = {"PAYORCRM_API_KEY": "test-key", "PAYORCRM_API_SECRET": "test-secret"}


async def test_a_payorcrm_amount_column_named_with_its_currency_rejects_an_invoice_of_another_or_none(
    tmp_path: Path,
) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text("customerno,emailaddress1\n5001,a@example.com\n")
    major = tmp_path / "major.csv"
    major.write_text("customerNumber,invoiceNumber,Amount (EUR),currency\n5001,F-1,100.00,EUR\n5001,F-2,745.50,DKK\n")
    minor = tmp_path / "minor.csv"  # no currency column: each invoice would go without one
    minor.write_text("customerNumber,invoiceNumber,Amount (EUR)\n5001,F-3,10000\n")
    columns = {"Amount (EUR)": "invoiceAmount"}

    def payorcrm(files: dict[str, Path], unit: str, ledger: str, url: str) -> Job:
        options: dict[str, str] = {kind: str(path) for kind, path in files.items()}
        return Job(
            target="payorcrm",
            files=[],
            base_url=url,
            ledger=str(tmp_path / ledger),
            columns=columns,
            target_options={**options, "amount_unit": unit},
        )

    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            one = await load(
                payorcrm({"customers": customers, "invoices": major}, "major", "1.sqlite", url), env=PAYORCRM
            )
            with pytest.raises(ConfigError) as two:  # no row of EUR: the file refused once (tester t71h)
                await load(payorcrm({"invoices": minor}, "minor", "2.sqlite", url), env=PAYORCRM)
            async with aiohttp.ClientSession() as s, s.get(f"{url}/_sandbox/invoices") as r:
                held = sorted((i["invoiceNumber"], i["invoiceAmount"], i.get("currency")) for i in await r.json())
    # before: F-2 stored as 74550 DKK from a column of EUR, F-3 as 10000 of no currency, both exit 0
    assert held == [("F-1", 10000, "EUR")], held
    assert (one.loaded, one.rejected) == (2, 1), one
    (f2,) = rows_of(Path(major.with_name("major.csv.rejects.csv")))
    assert f2["reason"].startswith(
        "the column 'Amount (EUR)' holds invoiceAmount in EUR, as its name says, and the row's currency is DKK"
    ), f2
    said = str(two.value)
    assert "the column 'Amount (EUR)', mapped to invoiceAmount, has EUR in its name" in said, said
    assert "not one row of the file is in EUR (line 2 names no currency)" in said, said
    assert "where its amounts are in EUR, give the rows their currency EUR" in said, said


@pytest.mark.parametrize("saved_as", ["", "joined.csv"])
async def test_two_rejects_files_joined_by_hand_with_a_voucher_s_line_deleted_reject_that_voucher(
    tmp_path: Path, saved_as: str
) -> None:
    # found by a tester (t71h): a run's two rejects files joined in one (pasted into the first, or saved under
    # another name), voucher 2's bank line deleted by mistake: a file whose rows name two inputs was read against no
    # run, and voucher 2 was booked as its paper line alone, out of balance by 100.00, exit 0
    first_file, second_file = tmp_path / "dec-a.csv", tmp_path / "dec-b.csv"
    first_file.write_text(HEADER + "5,1,1,2026-12-31,500.00,DKK,9999,Husleje\n5,1,1,2026-12-31,-500.00,DKK,5600,Bank\n")
    second_file.write_text(HEADER + "5,1,2,2026-12-31,100.00,DKK,9999,Papir\n5,1,2,2026-12-31,-100.00,DKK,5600,Bank\n")
    with anyio.fail_after(90):
        async with running("economic", SandboxOptions()) as url:
            both = Job(target="economic", files=[str(first_file), str(second_file)], base_url=url)
            first = await load(both, env=CREDS)
            assert (first.loaded, first.rejected) == (0, 4), first
            tables = []
            for rejects in (tmp_path / "dec-a.csv.rejects.csv", tmp_path / "dec-b.csv.rejects.csv"):
                with rejects.open(newline="", encoding="utf-8-sig") as fh:
                    tables.append([[c.replace("9999", "2750") for c in row] for row in csv.reader(fh)])
            text = tables[1][0].index("text")
            joined = [*tables[0], *(row for row in tables[1][1:] if row[text] != "Bank")]
            into = tmp_path / (saved_as or "dec-a.csv.rejects.csv")
            with into.open("w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerows(joined)
            fixed = await load(job(into, url, ledger=str(tmp_path / "fixed.sqlite")), env=CREDS)
            books = await journal(url)
    assert books == [
        (1, 2750, Decimal("500.00"), "DKK"),
        (1, 5600, Decimal("-500.00"), "DKK"),
    ], books
    assert (fixed.loaded, fixed.rejected, fixed.exit_code) == (2, 1, 1), fixed
    (row,) = rows_of(Path(fixed.rejects_file))
    assert (row["line"], row["field"]) == ("4", "line"), row  # the joined file's line 4: voucher 2's paper line
    assert row["reason"].startswith(f"line 3 of {second_file}, which the run of the ledger "), row
    assert "rejected only with voucher 2 (journal 1), is not in this file" in row["reason"], row


async def test_a_rejects_file_saved_under_another_name_is_read_against_the_run_of_its_folder_s_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # found by a tester (t71h): dec.csv loaded in two folders, each given as `dec.csv`; a Save As copy of the second's
    # rejects file, voucher 2's bank line deleted, was read against neither run (two read an input so named), and
    # voucher 2 was booked as its paper line alone, out of balance by 100.00, exit 0
    with anyio.fail_after(90):
        async with running("economic", SandboxOptions()) as url:
            for folder, voucher in (("nov", 1), ("dec", 2)):
                (tmp_path / folder).mkdir()
                monkeypatch.chdir(tmp_path / folder)
                Path("dec.csv").write_text(
                    HEADER
                    + f"5,1,{voucher},2026-12-31,100.00,DKK,9999,Papir\n"  # the API refuses the account
                    + f"5,1,{voucher},2026-12-31,-100.00,DKK,5600,Bank\n"
                )
                first = await load(job(Path("dec.csv"), url, ledger="run.sqlite"), env=CREDS)
                assert (first.loaded, first.rejected) == (0, 2), first
            rejects, copy = tmp_path / "dec" / "dec.csv.rejects.csv", tmp_path / "dec" / "dec-fixed.csv"
            with rejects.open(newline="", encoding="utf-8-sig") as fh:
                table = list(csv.reader(fh))
            with copy.open("w", newline="", encoding="utf-8") as fh:  # the bank line deleted
                csv.writer(fh).writerows([table[0], [c.replace("9999", "2750") for c in table[1]]])
            fixed = await load(job(copy, url, ledger="fixed.sqlite"), env=CREDS)
            books = await journal(url)
    assert books == [], books
    assert (fixed.loaded, fixed.rejected, fixed.exit_code) == (0, 1, 1), fixed
    (row,) = rows_of(Path(fixed.rejects_file))
    assert row["reason"].startswith("line 3 of dec.csv, which the run of the ledger "), row
    assert "rejected only with voucher 2 (journal 1), is not in this file" in row["reason"], row


@pytest.mark.parametrize("moved", ["one", "all"])
async def test_a_rejects_file_with_a_voucher_s_line_moved_to_another_voucher_by_hand_books_neither_in_part(
    tmp_path: Path, moved: str
) -> None:
    # found by a tester (t71h): vouchers 1 and 2 rejected, their accounts fixed in the rejects file and voucher 1's
    # bank line given voucherNumber 2 by mistake: voucher 1 was booked as its rent line alone and voucher 2 with the
    # bank line besides its own, exit 0 with a "does not balance" note. Every line of voucher 1 renumbered is the
    # user's plain intent: voucher 1 booked whole under its new number
    data = tmp_path / "nov.csv"
    data.write_text(
        HEADER
        + "5,1,1,2026-11-30,500.00,DKK,9999,Husleje\n"  # the API refuses the account: each voucher rejected whole
        + "5,1,1,2026-11-30,-500.00,DKK,5600,Bank\n"
        + "5,1,2,2026-11-30,70.00,DKK,9999,Porto\n"
        + "5,1,2,2026-11-30,-70.00,DKK,5600,Bank\n"
    )
    rejects = tmp_path / "nov.csv.rejects.csv"
    with anyio.fail_after(90):
        async with running("economic", SandboxOptions()) as url:
            first = await load(job(data, url), env=CREDS)
            assert (first.loaded, first.rejected) == (0, 4), first
            with rejects.open(newline="", encoding="utf-8-sig") as fh:
                table = list(csv.reader(fh))
            at, voucher = table[0].index("accountNumber"), table[0].index("voucherNumber")
            for row in table[1:]:
                row[at] = row[at].replace("9999", "2750")
            for row in table[2:3] if moved == "one" else table[1:3]:
                row[voucher] = "2" if moved == "one" else "3"
            with rejects.open("w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerows(table)
            fixed = await load(job(rejects, url, ledger=str(tmp_path / "fixed.sqlite")), env=CREDS)
            books = await journal(url)
    if moved == "all":
        assert books == [
            (2, 2750, Decimal("70.00"), "DKK"),
            (2, 5600, Decimal("-70.00"), "DKK"),
            (3, 2750, Decimal("500.00"), "DKK"),
            (3, 5600, Decimal("-500.00"), "DKK"),
        ], books
        assert (fixed.loaded, fixed.rejected, fixed.exit_code) == (4, 0, 0), fixed
        return
    # before: voucher 1 booked as 500.00 alone, voucher 2 as 70.00, -70.00 and -500.00, exit 0
    assert books == [], books
    assert (fixed.loaded, fixed.rejected, fixed.exit_code) == (0, 4, 1), fixed
    reasons = {r["line"]: (r["field"], r["reason"]) for r in rows_of(Path(fixed.rejects_file))}
    field, reason = reasons["3"]
    assert field == "line", reasons
    whole = f"the run of the ledger {first.ledger} rejected voucher 1 (journal 1) of {data} whole, "
    assert reason.startswith(whole), reason
    assert (
        "puts its lines in 2 vouchers (line 2 of it in voucher 1 (journal 1) (line 2 of this file); line 3 of it in "
        "voucher 2 (journal 1) (line 3 of this file))"
    ) in reason, reason
    assert "journalNumber or voucherNumber edited on some of its rows" in reason, reason
    assert reasons["2"] == reasons["3"], reasons
    assert reasons["4"][1].startswith("voucher 2 (journal 1) rejected: line 3 line: the run of the ledger "), reasons


async def test_a_payorcrm_rejects_file_with_a_line_of_an_invoice_refused_whole_deleted_rejects_that_invoice(
    tmp_path: Path,
) -> None:
    # found checking t71h's fault on PayorCRM: invoice I-7 refused by the API as one record (its customer unknown),
    # each line's reason "invoice I-7 refused by the API as one record of lines 2, 3: …", so no line of it was held
    # to be needed: its customer fixed in the rejects file and its second line deleted, I-7 was booked as 1000 of the
    # 3000 meant, exit 0
    invoices = tmp_path / "j.csv"
    invoices.write_text(
        "customerNumber,invoiceNumber,lineItem,invoiceAmount,currency,dueDate\n"
        "C9,I-7,1,1000,EUR,2026-12-01\nC9,I-7,2,2000,EUR,2026-12-01\n"
        "C9,I-8,1,100,EUR,2026-12-01\nC9,I-8,2,200,EUR,2026-12-01\n"
    )
    customers = tmp_path / "c.csv"
    customers.write_text("customerno,emailaddress1\nC1,a@example.com\n")
    rejects = tmp_path / "j.csv.rejects.csv"

    def payorcrm(options: dict[str, str], url: str, ledger: str) -> Job:
        return Job(target="payorcrm", files=[], base_url=url, ledger=str(tmp_path / ledger), target_options=options)

    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            first = await load(payorcrm({"invoices": str(invoices)}, url, "1.sqlite"), env=PAYORCRM)
            assert (first.loaded, first.rejected) == (0, 4), first
            await load(payorcrm({"customers": str(customers)}, url, "c.sqlite"), env=PAYORCRM)
            with rejects.open(newline="", encoding="utf-8-sig") as fh:
                table = [[c.replace("C9", "C1") for c in row] for row in csv.reader(fh)]
            assert table[2][3].startswith("invoice I-7 refused by the API as one record of lines 2, 3: "), table
            with rejects.open("w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerows([row for row in table if row[:2] != [str(invoices), "3"]])
            fixed = await load(payorcrm({"invoices": str(rejects)}, url, "2.sqlite"), env=PAYORCRM)
            async with aiohttp.ClientSession() as s, s.get(f"{url}/_sandbox/invoices") as r:
                held = sorted((i["invoiceNumber"], i["invoiceAmount"]) for i in await r.json())
    assert held == [("I-8", 100), ("I-8", 200)], held
    assert (fixed.loaded, fixed.rejected, fixed.exit_code) == (2, 1, 1), fixed
    (row,) = rows_of(Path(fixed.rejects_file))
    assert row["field"] == "line", row
    assert row["reason"].startswith(f"line 3 of {invoices}, which the run of the ledger "), row
    assert "rejected only with invoice I-7, is not in this file" in row["reason"], row


@pytest.mark.parametrize("column", ["TOP amount", "Amount ALL", "amount ALL"])
async def test_an_amount_column_whose_name_reads_as_a_currency_no_row_is_in_refuses_the_file_once(
    tmp_path: Path, column: str
) -> None:
    # found by a tester (t71h): 'TOP amount' read as amounts in Tonga's paʻanga, 'Amount ALL' in Albania's lek, and
    # every row of DKK was rejected one by one, each with its voucher: the column's name is the file's, decided once
    data = tmp_path / "top.csv"
    data.write_text(
        f"entryTypeNumber,journalNumber,voucherNumber,date,{column},currency,accountNumber,text\n"
        "5,1,1,2026-11-30,100.00,DKK,2750,Papir\n"
        "5,1,1,2026-11-30,-100.00,DKK,5600,Bank\n"
    )
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            with pytest.raises(ConfigError) as refused:
                await load(job(data, url, columns={column: "amount"}), env=CREDS)
            books = await journal(url)
    assert books == [], books
    code = column.split()[0] if column.startswith("TOP") else "ALL"
    said = str(refused.value)
    assert said.startswith(
        f"{data}: the column {column!r}, mapped to amount, has {code} in its name as a word of its own, which reads as "
        f"the currency of its amounts (ISO 4217), but not one row of the file is in {code} (line 2 is in DKK): "
        "whether the name says a currency or is a word ('ALL', 'TOP') cannot be told, and every row would be "
        "rejected, so nothing was sent"
    ), said
    assert f"rename it (in the file's header and in [columns]) so that {code} is no word of its own" in said, said
    assert f"({column.replace(code, code.capitalize())!r})" in said, said


async def test_an_amount_column_named_as_the_local_currency_refuses_the_file_before_the_first_call(
    tmp_path: Path,
) -> None:
    # Business Central's general ledger export: Amount (LCY) is in the company's currency, Currency Code the
    # document's; mapped to amount and currency, EUR 7,455.00 was booked for DKK 7,455.00 (about EUR 1,000), exit 0
    # (tester t72c)
    data = tmp_path / "bc.csv"
    data.write_text(
        "Type,Journal,Document No.,Posting Date,G/L Account No.,Description,Currency Code,Amount (LCY)\n"
        "5,1,9601,2026-11-30,1010,Sale EUR inv,EUR,7455.00\n"
        "5,1,9601,2026-11-30,5600,Sale EUR inv,EUR,-7455.00\n"
    )
    names = ("entryTypeNumber", "journalNumber", "voucherNumber", "date", "accountNumber", "text", "currency")
    columns = dict(zip(data.read_text().split("\n")[0].split(","), (*names, "amount")))
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            with pytest.raises(ConfigError) as refused:
                await load(job(data, url, columns=columns), env=CREDS)
            books = await journal(url)
    assert books == [], books
    said = str(refused.value)
    assert "column 'Amount (LCY)' is mapped to amount, and its name says it holds amounts in the local currency" in said
    assert "(for example 'Amount (DKK)', in the file and the mapping)" in said and "nothing was sent" in said, said


@pytest.mark.parametrize(
    ("header", "field", "refused"),
    [
        ("customerNumber,invoiceNumber,Amount (LCY),currency", "invoiceAmount", True),
        ("customerNumber,invoiceNumber,Betrag in HW,currency", "invoiceAmount", True),
        ("customerNumber,invoiceNumber,Amount (LCY),currency", "localAmount", False),  # --local-currency says it
        ("customerNumber,invoiceNumber,Amount,currency", "invoiceAmount", False),
    ],
)
def test_a_payorcrm_invoice_amount_column_named_as_the_local_currency_is_refused(
    header: str, field: str, refused: bool
) -> None:
    kind = Invoices("major", local_currency="DKK")
    columns = {header.split(",")[2]: field}
    said = local_amounts("i.csv", header.split(","), columns, kind)
    assert (said is not None) == refused, said


async def test_an_amount_column_named_with_its_currencys_sign_rejects_a_row_of_another_currency(tmp_path: Path) -> None:
    # "Amount (€)" mapped to amount beside rows of USD: USD 100.00 was booked for EUR 100.00, exit 0 (tester t72c);
    # the rule of an ISO code in the name (300ed2a) read no sign. "kr" stands for four currencies: a row of one loads
    data = tmp_path / "signs.csv"
    data.write_text(
        "entryTypeNumber;journalNumber;voucherNumber;date;Beløb kr.;currency;accountNumber;text\n"
        "5;1;1;30-11-2026;100,00;EUR;1010;a\n5;1;1;30-11-2026;-100,00;EUR;5600;a\n"
        "5;1;2;30-11-2026;250,00;SEK;1010;b\n5;1;2;30-11-2026;-250,00;SEK;5600;b\n",
        encoding="utf-8",
    )
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            report = await load(job(data, url, columns={"Beløb kr.": "amount"}), env=CREDS)
            books = await journal(url)
    assert books == [(2, 1010, Decimal("250.00"), "SEK"), (2, 5600, Decimal("-250.00"), "SEK")], books
    assert (report.loaded, report.rejected, report.exit_code) == (2, 2, 1), report
    reasons = {r["line"]: r["reason"] for r in rows_of(Path(report.rejects_file))}
    assert reasons["2"].startswith(
        "the column 'Beløb kr.' holds amount in DKK, NOK, SEK or ISK (kr), as its name says, and the row's currency "
        "is EUR: which currency the amount is in cannot be told"
    ), reasons


@pytest.mark.parametrize(
    ("column", "said"),
    [
        (
            "Amount (€)",
            "€ in its name, which reads as the currency of its amounts (EUR), but not one row of the file is in it",
        ),
        (
            "Beløb kr.",
            "kr in its name, which reads as the "
            "currency of its amounts (DKK, NOK, SEK or ISK), but not one row of the file is in one of them",
        ),
    ],
)
async def test_an_amount_column_named_with_a_sign_no_row_is_in_refuses_the_file_once(
    tmp_path: Path, column: str, said: str
) -> None:
    # t72c's signs beside t72b's once-refusal: a column of EUR by its sign, every row in USD, was rejected row by
    # row with each voucher; no row can load, so the file is refused before the first call
    data = tmp_path / "usd.csv"
    data.write_text(
        f"entryTypeNumber,journalNumber,voucherNumber,date,{column},currency,accountNumber,text\n"
        "5,1,1,2026-11-30,100.00,USD,2750,Papir\n"
        "5,1,1,2026-11-30,-100.00,USD,5600,Bank\n",
        encoding="utf-8",
    )
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            with pytest.raises(ConfigError) as refused:
                await load(job(data, url, columns={column: "amount"}), env=CREDS)
            books = await journal(url)
    assert books == [], books
    text = str(refused.value)
    assert text.startswith(f"{data}: the column {column!r}, mapped to amount, has {said} (line 2 is in USD)"), text
    assert "every row would be rejected, so nothing was sent" in text and "rename it without the sign" in text, text
