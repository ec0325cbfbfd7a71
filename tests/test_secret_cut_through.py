"""A quote of an API's answer cut through a row's secret showed the secret's start: the scrubs after the cut match
whole values only. Tester t42b's HaloPSA server answered a create with its records, their `code` (an OAuth
authorization code, a secret of seed 001's schema that no generic name rule masks) among the first fields and an
id of 101.0: the run stopped "the answer is not what the API documents (…; it begins '[{"_warning": null, …, "code":
"sk_test_bb049a79d7a7a3c'…)", 23 of the code's 32 characters in the log, the report, the ledger and the in-doubt
file. A cut never ends in the middle of a token now: the token's start is left out."""

from __future__ import annotations

import json

from bulkload.http import unreadable
from bulkload.masking import scrub
from bulkload.redact import cut

CODE = "sk_test_bb049a79d7a7a3cc8c3d5f16"


def test_a_cut_through_a_token_leaves_the_token_out() -> None:
    text = json.dumps({"_warning": None, "code": CODE, "id": 1})
    at = text.index(CODE) + 10  # ten characters into the code
    shown = cut(text, at, "…")
    assert CODE[:4] not in shown and shown.endswith('"code": "…'), shown
    # a cut at a token's end, or between tokens, cuts nothing off
    end = text.index(CODE) + len(CODE)
    assert cut(text, end) == text[:end]
    assert cut("one two three", 7) == "one two"
    assert cut("one two three", 8) == "one two "
    assert cut("short", 80) == "short"


def test_an_answer_not_as_documented_never_quotes_part_of_a_secret() -> None:
    record = {"_warning": None, "new_client_secret": "***", "code": CODE, "id": 101.0, "name": "Acme"}
    body = json.dumps([record]).encode()
    message = str(
        unreadable("POST /api/XeroDetails", body, "item 0 has an id that is not a whole number", acted_on=True)
    )
    scrubbed = scrub(message, [CODE])  # the run's own scrub of its rows' secret values, as pipeline.Loader.hidden
    assert CODE[:8] not in scrubbed, scrubbed
