"""The rule a secret's name follows at any depth of a row, and the masking of what such a key holds in what is
shown of a row (masking.py, Source.cells), never in what is sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bulkload.masking import (
    MASK,
    mask_under,
    masked,
    masked_secret_keys,
    masked_text,
    scrub,
    secret_name,
    secret_rule,
    secret_texts,
)
from bulkload.sources import Source
from bulkload.targets.halopsa_records import Resource
from bulkload.targets.halopsa_schema import RESOURCES, SECRET_FIELDS, is_secret

SECRETS = Resource("XeroDetails").secret_fields
RULE = secret_rule(SECRETS)


def test_a_nested_key_is_a_secret_by_the_schema_s_rule() -> None:
    names = {f.name for fields in RESOURCES.values() for f in fields}
    names |= {"password", "Api_Token", "clientSecret", "code", "token_expiry", "token_url", "_exchangecodefortoken"}
    for name in names | {"key", "value"}:
        assert RULE(name) == is_secret(name) == (name.lower() in SECRET_FIELDS or secret_name(name)), name


def test_what_a_secret_key_holds_is_masked_at_every_depth() -> None:
    row = {
        "name": "n",
        "sync_entities_list": [{"key": "a", "password": "hunter22", "more": {"API_TOKEN": 5, "note": "x"}}],
        "sync_entities": '{"client_secret": "s3cret", "n": 1.50}',  # JSON text in a string
        "empty": [{"password": ""}],
    }
    assert masked(row, RULE) == {
        "name": "n",
        "sync_entities_list": [{"key": "a", "password": MASK, "more": {"API_TOKEN": MASK, "note": "x"}}],
        "sync_entities": '{"client_secret":"***","n":1.50}',
        "empty": [{"password": ""}],
    }


@pytest.mark.parametrize(
    "text",
    ['[{"key": "a",  "n": 1.50e0}]', "not json", "{broken, but nothing secret", "[1, 2"],
)
def test_a_text_without_a_secret_is_kept_byte_for_byte(text: str) -> None:
    assert masked_text(text, RULE) == text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('[{"key":"a","password":"hunter22"', '[{"key":"a","password":"***"'),
        (
            '{"a": {"token": "t0k3n", "b": 1}, "c": [{"secret": x',
            '{"a": {"token": "***", "b": 1}, "c": [{"secret": ***',
        ),
        ("{'list': [{'password': 'hunter22'}]", "{'list': [{'password': '***'}]"),
    ],
)
def test_a_broken_json_text_masks_the_value_after_each_secret_key(text: str, shown: str) -> None:
    assert masked_text(text, RULE) == shown


def test_the_secret_texts_of_a_row_include_those_inside_nested_values() -> None:
    row = {
        "new_client_secret": "top-secret",
        "sync_entities_list": [{"key": "a", "password": "hunter22"}],
        "sync_entities": '[{"token": "t0k3n"}]',
        "name": "[not json",
    }
    assert sorted(secret_texts(row, SECRETS)) == ["hunter22", "t0k3n", "top-secret"]


def test_the_rejects_cells_of_a_csv_row_mask_the_json_in_a_cell(tmp_path: Path) -> None:
    path = tmp_path / "XeroDetails.csv"
    path.write_text(
        "name,new_client_secret,sync_entities_list\n"
        'a,s1,"[{""key"":""k"",""password"":""hunter22""}]"\n'
        'b,s2,"[{""key"":""k""}]"\n'
    )
    cells = [c for _, c in Source(path, secrets=SECRETS).cells()]
    assert cells == [["a", MASK, '[{"key":"k","password":"***"}]'], ["b", MASK, '[{"key":"k"}]']]


def test_the_rejects_cells_of_a_jsonl_row_mask_its_nested_objects(tmp_path: Path) -> None:
    path = tmp_path / "XeroDetails.jsonl"
    rows = [
        {"name": "a", "sync_entities_list": [{"key": "k", "password": "hunter22"}], "n": 1},
        {"name": "b", "new_client_secret": "s2"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"name": "c", "x": [{"password": "hunter22"}\n')
    source = Source(path, secrets=SECRETS)
    cells = [c for _, c in source.cells()]
    assert cells[:2] == [
        # each cell as the line writes it (a nested value its JSON text), a nested secret masked in it
        {"name": "a", "sync_entities_list": f'[{{"key":"k","password":"{MASK}"}}]', "n": "1"},
        {"name": "b", "new_client_secret": MASK},
    ]
    assert "hunter22" not in str(cells[2])
    assert [r for r in source if not isinstance(r, tuple) or True][0][1]["sync_entities_list"][0][
        "password"
    ] == "hunter22"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("{password: ***, user: x}", "password"),
        ('{"password": "***", "x": ', "password"),
        ("{'a': {'Token': '***'}", "Token"),
        ('[{"k": 1}, {secret=***&b=2}', "secret"),
        ('{"cfg": "{password: ***, user: x}"}', "password"),  # broken text inside a JSON string
        ("{note: ***, password: s}", None),  # *** under a key that holds no secret is a value
        ("{password: ***x}", None),  # no mask the rejects file writes
        ("password: ***", None),  # no text the rejects file looks into (no object, no array)
    ],
)
def test_a_mask_the_rejects_file_wrote_in_broken_text_is_found(text: str, key: str | None) -> None:
    # found by a tester: {password: ***, user: x} (the rejects file's mask of a cell that is not JSON) was sent
    assert mask_under(text, RULE) == key


#: text made of what the broken-text rule (masking.masked_keys) reads: keys, quotes, separators, brackets
_PIECES = st.sampled_from(
    ["{", "}", "[", "]", ",", ":", "=", "&", ";", " ", "\n", '"', "'", "\\", "-", "***", "password", "Token", "x"]
)
BROKEN = st.builds(
    lambda start, parts: start + "".join(parts),
    st.sampled_from(["{", "[", " {", "[{"]),
    st.lists(st.one_of(_PIECES, st.text(max_size=3)), max_size=16),
)


@given(BROKEN)
@example("{password: FORMPW6, user: x}")
@example('{"password": "FORMPW6", "x": ')
@example('{"password": "\\x"}')  # not JSON, and JSON once masked
def test_every_text_the_rejects_file_masks_is_refused_when_read_back(text: str) -> None:
    # the reader's check (mask_under) and the writer's masking (masked_text) follow one rule: whatever the writer
    # masks, the reader refuses as it comes back, so that no *** is sent as a secret
    shown = masked_text(text, RULE)
    if shown != text:
        assert mask_under(shown, RULE) is not None, shown


def _escaped(record: dict[str, object], times: int) -> str:
    """`record` as JSON, quoted as a JSON string `times` times over (a body quoting a record, a message quoting it)."""
    text = json.dumps(record)
    for _ in range(times):
        text = json.dumps({"message": f"refused: {text}"})
    return text


@pytest.mark.parametrize("times", [0, 1, 2, 3])
def test_every_text_written_masks_what_a_secret_key_holds_however_often_its_json_was_escaped(times: int) -> None:
    # tester t21b: a 400's message quoted the refused record as JSON, escaped inside the answer's body; written to
    # the in-doubt file and the ledger, its new_client_secret was in clear. Every writer passes its text through
    # redact: the value of a key in quotes that names a secret is ***, whatever the depth, none registered
    from bulkload import redact

    record = {"name": "Halo", "new_client_secret": 'S3cr"et\\x', "nested": {"api_token": "T0k3n"}, "token_expiry": "1"}
    shown = redact.redact(_escaped(record, times))
    assert "S3cr" not in shown and "T0k3n" not in shown, shown
    assert "Halo" in shown and "token_expiry" in shown, shown
    for _ in range(times):
        shown = json.loads(shown)["message"].removeprefix("refused: ")
    assert json.loads(shown) == {**record, "new_client_secret": MASK, "nested": {"api_token": MASK}}


def test_a_python_repr_masks_its_secret_keys_and_other_values_are_kept() -> None:
    from bulkload.masking import masked_secret_keys

    assert masked_secret_keys("{'password': 'pw1234', 'name': 'x'}") == "{'password': '***', 'name': 'x'}"
    kept = 'the token: abc; {"password": 12345, "client_secret": "", "_exchangecodefortoken": "yes"}'
    assert masked_secret_keys(kept) == kept  # prose, a number, nothing, a trigger: no quoted secret string


def test_a_rows_secret_is_scrubbed_however_often_a_message_escaped_it() -> None:
    from bulkload.masking import scrub

    secret = 'a"b\\c ø'
    assert scrub(_escaped({"x": secret}, 2), [secret]) == _escaped({"x": MASK}, 2)


def test_the_strings_a_secret_key_holds_in_an_apis_error_items_are_masked() -> None:
    from bulkload import redact

    items = [{"index": 0, "password": "pw1234", "count": 2, "detail": '{"client_secret": "cs9876"}'}]
    assert redact.redact_data(items) == [
        {"index": 0, "password": MASK, "count": 2, "detail": '{"client_secret": "***"}'}
    ]


@pytest.mark.parametrize(
    "written",
    [
        "a%2bB%2FC%3d%3D é",  # percent-encoded, hex in either case; a space as itself
        "a%2BB%2fC%3D%3d+%c3%a9",  # ... a space as "+", UTF-8 bytes in lower case
        "\\u0061\\u002b\\u0042/\\u0043\\u003d\\u003D\\u0020\\u00E9",  # every character \\uXXXX-escaped
        "a\\\\u002BB\\\\/C\\\\u003d=\\\\u0020\\\\u00e9",  # JSON-escaped twice over, mixed
        "a+B\\x2fC==\\x20\\xe9",  # repr()'s \\xXX
    ],
)
def test_a_secret_is_found_however_its_escapes_are_spelled(written: str) -> None:
    # scrub (a row's secret in a reason) and redact (a credential) find the same spellings: masking.spelled
    secret = "a+B/C== é"
    masked_both_ways(secret, f"<{written}>", "<***>")
    # in any case too (tester t29b: a server echoing a header upper-cased gave a hex key away whole)
    assert scrub("a+b/c== É", [secret]) == "***"


@pytest.mark.parametrize(
    "written",
    [
        "a&amp;b&lt;&quot;c&gt;&#39;d",  # html.escape: named entities, ' as &#39;
        "a&AMP;b&LT;&QUOT;c&GT;&#x27;d",  # named entities in capitals, ' in hex
        "a&#38;b&#x3C;&#X22;c&#0062;&apos;d",  # numeric references, hex in either case, leading zeros
        "&#97;&#x26;&#98;&#60;&#34;&#99;&#62;&#x27;&#100;",  # every character a numeric reference
        "a&amp;amp;b&amp;lt;&amp;quot;c&amp;gt;&amp;#39;d",  # HTML-escaped twice over
    ],
)
def test_a_secret_is_found_however_html_escapes_it(written: str) -> None:
    # an error page quoting the secret HTML-escaped (a web server's 500 page): masking.spelled, for scrub and redact
    masked_both_ways("a&b<\"c>'d", f"<p>{written}</p>", "<p>***</p>")


@pytest.mark.parametrize(
    ("secret", "written"),
    [
        # found by tester t30a: a HaloPSA token refusal's error_uri quoting the form body URL-encoded twice over
        ("Zx9+q/Lm=Tr7-SeCrEt-4411", "Zx9%252Bq%252FLm%253DTr7-SeCrEt-4411"),
        ("Zx9+q/Lm=Tr7-SeCrEt-4411", "Zx9%25252bq%25252fLm%25253dTr7-SeCrEt-4411"),
        ("a b=secret", "a%252Bb%253Dsecret"),  # its space as + (a form body), then encoded again
        # ... and echoed upper-cased as Java's or Python's upper() does, ß as SS; lower-cased, SS is ss
        ("ZX9straße-secret-4411", "ZX9STRASSE-SECRET-4411"),
        ("ZX9straße-secret-4411", "zx9strasse-secret-4411"),
    ],
)
def test_a_secret_encoded_more_than_once_or_in_another_case_of_more_letters_is_found(secret: str, written: str) -> None:
    masked_both_ways(secret, f"<{written}>", "<***>")


def masked_both_ways(secret: str, text: str, shown: str) -> None:
    """`text` is `shown` both as scrub masks a row's secret and as redact masks a registered credential."""
    from bulkload import redact

    assert scrub(text, [secret]) == shown, text
    redact.register(secret)
    try:
        assert redact.redact(text) == shown, text
    finally:
        redact.forget()


@pytest.mark.parametrize(
    ("secret", "written"),
    [
        ('Pa$$ w&rd<"x>/+=%', "Pa%24%24+w%26rd%3C%22x%3E%2F%2B%3D%25"),  # a form body: the last % as %25
        ("secret\\", "secret\\\\"),  # JSON: the last \ as \\
        ("secret&", "secret&amp;"),  # HTML: the last & as &amp;
    ],
)
def test_a_secrets_last_character_is_masked_whole_however_it_is_escaped(secret: str, written: str) -> None:
    # the escape of a character that is its own first character (% in %25, \ in \\, & in &amp;) is masked whole
    # where it ends the secret, not as that first character with the rest of its escape shown (`***25`)
    from bulkload import redact

    assert scrub(f"client_secret={written}&x=1", [secret]) == "client_secret=***&x=1"
    redact.register(secret)
    assert redact.redact(f"client_secret={written}&x=1") == "client_secret=***&x=1"


_TEXT = st.text(alphabet=st.sampled_from("aAzZ09 -_.:/=&%+\\\"'{}İıſKßé"), max_size=40)


@given(st.text(alphabet=st.sampled_from("aAzZ09-_.İſßé"), min_size=4, max_size=8), _TEXT, _TEXT)
@example("abcd", "no secret here", "")
@example("grant-x", "X-GRANT-X: ", "")  # upper-cased, as a server echoes a header
@example("ab\u0130c", "AB", "IC")  # İ matches I in any case: no shortcut for a value that is not ASCII
def test_redact_masks_what_its_whole_regex_masks(secret: str, before: str, after: str) -> None:
    """redact tells an ASCII text that holds no form of an ASCII credential without its regex (t46d: 16 µs a
    reason, 10 s of a load's CPU): what it masks is what the whole regex masks, in every case."""
    from bulkload import redact

    if len(secret.strip()) < redact.MIN_LENGTH:
        return
    redact.register(secret)
    for text in (before + after, before + secret + after, before + secret.upper() + after):
        pattern = redact._compiled(urlencoded=False)
        assert pattern is not None
        assert redact.redact(text) == pattern.sub(redact.MASK, masked_secret_keys(text)), text
