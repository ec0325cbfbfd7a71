"""The HaloPSA schema module against the API document: field counts, order, kinds, the secret rule."""

from __future__ import annotations

import pytest

from bulkload.targets.halopsa_schema import (
    LIST_FILTERS,
    PLURAL,
    RESOURCES,
    SECRET_FIELDS,
    canonical_resource,
    is_secret,
)

#: counted by hand in the document's schema tables (001 then 000)
EXPECTED_COUNTS = {
    "XeroDetails": 41,
    "QuickBooksDetails": 51,
    "SageBusinessCloudDetails": 29,
    "MYOBdetails": 49,
    "KashflowDetails": 25,
    "FortnoxDetails": 22,
    "ExactDetails": 32,
    "BusinessCentralDetails": 54,
    "AvalaraDetails": 29,
}
KINDS = {"int", "float", "str", "bool", "datetime", "object", "array"}


def test_every_resource_with_the_documents_field_count_id_first_and_no_duplicates() -> None:
    assert {name: len(fields) for name, fields in RESOURCES.items()} == EXPECTED_COUNTS
    for fields in RESOURCES.values():
        names = [f.name for f in fields]
        assert names[0] == "id" and fields[0].kind == "int"
        assert len(set(names)) == len(names)
        assert names[-1] == "_warning" and fields[-1].read_only
        assert {f.kind for f in fields} <= KINDS
        assert all(f.description for f in fields)
    assert set(LIST_FILTERS) == set(PLURAL) == set(RESOURCES)


def test_kinds_and_order_as_the_document_has_them() -> None:
    xero = {f.name: f for f in RESOURCES["XeroDetails"]}
    assert xero["token_expiry"].kind == "datetime"
    assert xero["sync_entities_list"].kind == "array"
    assert xero["rounding_adjustment_account_code"].kind == "int"
    assert xero["authorized"].kind == "bool"
    assert [f.name for f in RESOURCES["FortnoxDetails"]][:5] == [
        "id",
        "name",
        "new_access_token",
        "new_refresh_token",
        "token_expiry",
    ]
    avalara = {f.name: f for f in RESOURCES["AvalaraDetails"]}
    assert avalara["company_object"].kind == "object" and "KeyPair" in avalara["company_object"].description
    assert avalara["environment"].kind == "int"
    bc = {f.name: f for f in RESOURCES["BusinessCentralDetails"]}
    assert (bc["environment"].kind, bc["company"].kind, bc["vendor_mappings"].kind) == ("object", "object", "array")
    assert {f.name: f.kind for f in RESOURCES["ExactDetails"]}["division_object"] == "object"
    myob = {f.name: f for f in RESOURCES["MYOBdetails"]}
    assert myob["halointegrator_lastsync"].kind == "datetime" and myob["halointegrator_lastsync"].read_only
    assert not myob["_exchangecode"].read_only  # a trigger the client sets


def test_the_secret_rule() -> None:
    for name in SECRET_FIELDS:
        assert is_secret(name)
    for name in ("client_secret", "api_secret_key", "Password", "user_password", "access_token", "NEW_TOKEN"):
        assert is_secret(name), name
    for name in (
        "token_expiry",  # a timestamp
        "tokenexpiry",
        "password_expires",
        "_exchangecodefortoken",  # a boolean trigger, not a stored value
        "refresh_token_url",
        "token_type",
        "client_id",
        "username",
        "redirect_uri",
        "name",
    ):
        assert not is_secret(name), name


@pytest.mark.parametrize(
    ("resource", "secrets"),
    [
        ("XeroDetails", {"new_access_token", "new_refresh_token", "code", "new_client_secret"}),
        ("QuickBooksDetails", {"new_access_token", "new_refresh_token", "authorization_code", "new_client_secret"}),
        (
            "SageBusinessCloudDetails",
            {"new_client_secret", "code", "new_access_token", "new_refresh_token", "code_verifier"},
        ),
        ("MYOBdetails", {"code", "new_client_secret", "new_password", "new_access_token", "new_refresh_token"}),
        ("KashflowDetails", {"new_password"}),
        ("FortnoxDetails", {"new_access_token", "new_refresh_token", "new_client_secret", "code"}),
        ("ExactDetails", {"new_client_secret", "code", "new_access_token", "new_refresh_token"}),
        (
            "BusinessCentralDetails",
            {"new_client_secret", "new_access_token", "new_refresh_token", "authorization_code", "code_verifier"},
        ),
        ("AvalaraDetails", {"new_password"}),
    ],
)
def test_secret_fields_per_resource(resource: str, secrets: set[str]) -> None:
    assert {f.name for f in RESOURCES[resource] if f.secret} == secrets
    assert all(f.secret == is_secret(f.name) for f in RESOURCES[resource])


def test_filters_plurals_and_spellings() -> None:
    assert LIST_FILTERS["XeroDetails"] == ("connectedonly", "tenantid")
    assert LIST_FILTERS["KashflowDetails"] == ("includedisabled", "includeenabled", "tenantid")
    assert LIST_FILTERS["ExactDetails"] == ("connectedonly", "division")
    assert LIST_FILTERS["MYOBdetails"] == LIST_FILTERS["FortnoxDetails"] == LIST_FILTERS["AvalaraDetails"] == ()
    assert PLURAL["XeroDetails"] == "xerodetails" and PLURAL["MYOBdetails"] == "myobdetails"
    assert canonical_resource("MYOBDetails") == canonical_resource("myobdetails") == "MYOBdetails"
    with pytest.raises(KeyError, match="no HaloPSA resource"):
        canonical_resource("Invoices")
