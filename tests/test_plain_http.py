"""Credentials never cross the network unencrypted by a slip: an `http://` address of another machine than this one
(`--base-url`, HaloPSA's `HALO_AUTH_URL`) is refused before anything is sent, exit 2, unless the user sets
BULKLOAD_ALLOW_PLAIN_HTTP=1 (tester t69b: `--base-url http://…` of a real instance, a typo of https, sent the
agreement's tokens, and HaloPSA's client secret, in clear before any answer). Loopback stays plain http (the sandboxes).
No test here connects anywhere: the refusal comes before the first call, and the allowed cases are checked alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_entries

from bulkload.cli import main
from bulkload.errors import ConfigError
from bulkload.http import check_encrypted

CREDENTIALS = {"ECONOMIC_APP_SECRET_TOKEN": "app-s3cret-token", "ECONOMIC_AGREEMENT_GRANT_TOKEN": "grant-s3cret-token"}


def test_a_load_to_plain_http_of_another_machine_is_refused_before_anything_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BULKLOAD_ALLOW_PLAIN_HTTP", raising=False)
    write_entries(tmp_path / "e.csv", 3)
    ledger = tmp_path / "l.sqlite"
    # 192.0.2.1 (TEST-NET-1, RFC 5737): nothing answers there, and nothing is sent
    url = "http://192.0.2.1/journalsapi/v11.0.2"
    code = main(["load", "economic", str(tmp_path / "e.csv"), "--base-url", url, "--ledger", str(ledger), "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"--base-url '{url}' is plain http to another machine" in err, err
    assert "BULKLOAD_ALLOW_PLAIN_HTTP=1" in err and "Nothing was sent" in err, err
    assert not ledger.exists()
    assert "s3cret" not in err


def test_halopsas_token_endpoint_over_plain_http_of_another_machine_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The base URL on this machine, the token endpoint (which is sent the client secret) on another."""
    monkeypatch.setenv("HALO_CLIENT_ID", "client-id")
    monkeypatch.setenv("HALO_CLIENT_SECRET", "client-s3cret")
    monkeypatch.setenv("HALO_AUTH_URL", "http://auth.example.com/auth")
    monkeypatch.delenv("BULKLOAD_ALLOW_PLAIN_HTTP", raising=False)
    (tmp_path / "x.csv").write_text("client_top_level,tenant_id\n1,t1\n")
    args = ["load", "halopsa", str(tmp_path / "x.csv"), "--resource", "XeroDetails"]
    code = main([*args, "--base-url", "http://127.0.0.1:9/api", "--ledger", str(tmp_path / "l.sqlite"), "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "HALO_AUTH_URL 'http://auth.example.com/auth' is plain http to another machine" in err, err
    assert "s3cret" not in err


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/api",
        "http://127.0.0.2/api",
        "http://[::1]:8000/api",
        "http://localhost:8000/api",
        "http://LOCALHOST/api",
        "http://app.localhost/api",
        "https://api.example.com/api",
        "HTTPS://api.example.com/api",
    ],
)
def test_this_machine_over_http_and_any_machine_over_https_are_taken(url: str) -> None:
    check_encrypted("--base-url", url, allowed=False)


@pytest.mark.parametrize(
    "url", ["http://api.example.com/api", "HTTP://10.0.0.5:8080/api", "http://[2001:db8::1]/api", "http://0.0.0.0/api"]
)
def test_another_machine_over_http_is_refused_unless_allowed(url: str) -> None:
    with pytest.raises(ConfigError, match="is plain http to another machine"):
        check_encrypted("--base-url", url, allowed=False)
    check_encrypted("--base-url", url, allowed=True)
