"""A record answered without its id where the answer's other records give theirs as text (a MongoDB ObjectId), or
under MongoDB's own key `_id`, may not have been stored (tester t71c: a server storing 18 of 20 customers answered
the other two with `"_id": null`, or with `"id": null` beside ids of text, and the run said 20 loaded, exit 0)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import sandbox_read, serving
from test_load_payorcrm import read_csv
from test_payorcrm_answers import answered, crm_app, customers_file, load_both, two_customers


@pytest.mark.parametrize(
    ("first", "second", "quoted"),
    [
        ({"id": "64b7f0c2e4b0a10000000011"}, {"id": None}, "id: null"),
        ({"id": "64b7f0c2e4b0a10000000011"}, {"id": ""}, 'id: ""'),
        ({"id": "64b7f0c2e4b0a10000000011"}, {}, "no id"),
        ({"_id": 11}, {"_id": None}, "_id: null"),
        ({"_id": "64b7f0c2e4b0a10000000011"}, {"_id": ""}, '_id: ""'),
    ],
)
def test_a_record_without_the_id_the_others_give_as_text_or_as_id_is_its_rows_failure(
    first: dict[str, Any], second: dict[str, Any], quoted: str
) -> None:
    kind, chunk = two_customers()
    body = json.dumps([{"customerno": "C1", **first}, {"customerno": "C2", **second}]).encode()
    assert kind.failed_items(body, chunk) == {1: ("", quoted)}


def test_records_all_without_an_id_or_under_both_keys_are_read_as_before() -> None:
    kind, chunk = two_customers()
    # none gives an id: none lacks one the others have
    body = json.dumps([{"customerno": "C1", "_id": None}, {"customerno": "C2", "_id": None}]).encode()
    assert kind.failed_items(body, chunk) == {}
    # `id` given: `_id` beside it is some other field of the record
    body = json.dumps([{"customerno": "C1", "id": 11, "_id": "a"}, {"customerno": "C2", "id": 12, "_id": None}])
    assert kind.failed_items(body.encode(), chunk) == {}
    assert kind.created_ids(body.encode(), chunk) == [11, 12]


@pytest.mark.parametrize("key", ["id", "_id"])
async def test_a_customer_answered_with_no_id_beside_ids_of_text_is_in_doubt(tmp_path: Path, key: str) -> None:
    def unsaved(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for r in results:
            r = {k: v for k, v in r.items() if k != "id"}
            r[key] = None if r["customerno"] == "C2" else f"64b7f0c2e4b0a1{r['customerno']:0>10}"
            out.append(r)
        return out

    with anyio.fail_after(60):
        async with serving(crm_app(answered(unsaved))) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path, 4))
            held = {c["customerno"] for c in await sandbox_read(url, "customers")}
    # the sandbox stored C2 too: the answer cannot say it did, so the row is in doubt, not loaded
    assert held == {"C1", "C2", "C3", "C4"}
    assert (report.loaded, report.in_doubt, report.exit_code) == (3, 1, 1), report
    doubt = {int(r["line"]): r["last_error"] for r in read_csv(tmp_path / "in_doubt.csv")}
    assert list(doubt) == [3] and f"{key}: null" in doubt[3], doubt
