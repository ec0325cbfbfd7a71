"""A credential missing where a variable of a near name is set: the message names that variable (never its value)
and the name it was meant as, so a typo in an export is found without reading the docs again."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkload.errors import ConfigError
from bulkload.job import Job
from bulkload.targets.base import Credentials

CREDENTIALS = Credentials(("ECONOMIC_APP_SECRET_TOKEN", "ECONOMIC_AGREEMENT_GRANT_TOKEN"))


def refusal(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as refused:
        CREDENTIALS.read(env)
    return str(refused.value)


@pytest.mark.parametrize("typed", ["ECONOMIC_APP_SECRET", "economic_app_secret_token", "ECONOMIC_APPSECRET_TOKEN"])
def test_a_near_name_set_is_named_with_the_one_meant(typed: str) -> None:
    said = refusal({typed: "s3cret-value", "ECONOMIC_AGREEMENT_GRANT_TOKEN": "grant"})
    assert said.startswith("missing credential: set ECONOMIC_APP_SECRET_TOKEN in the environment"), said
    assert said.endswith(f"; {typed} is set: did you mean ECONOMIC_APP_SECRET_TOKEN?"), said
    assert "s3cret-value" not in said


def test_no_near_name_no_guess() -> None:
    said = refusal({"PATH": "/usr/bin", "HOME": "/root", "ECONOMIC_AGREEMENT_GRANT_TOKEN": "grant"})
    assert "did you mean" not in said, said


def test_the_targets_own_names_are_never_offered_for_each_other() -> None:
    twins = Credentials(("PAYORCRM_API_KEY", "PAYORCRM_API_SECRET"))
    with pytest.raises(ConfigError) as refused:
        twins.read({"PAYORCRM_API_SECRET": "x"})
    assert "did you mean" not in str(refused.value)


@pytest.mark.parametrize("value", ["", "  ", "\t"])
def test_a_credential_set_empty_is_said_to_be_set_empty(value: str) -> None:
    # `export ECONOMIC_APP_SECRET_TOKEN=$TOKN` (a typo of the shell variable) sets it empty: "set it" alone read as
    # if the export had not happened
    said = refusal({"ECONOMIC_APP_SECRET_TOKEN": value, "ECONOMIC_AGREEMENT_GRANT_TOKEN": "grant"})
    assert said.endswith("; ECONOMIC_APP_SECRET_TOKEN is set, but empty or only white space"), said


def test_a_credential_exported_empty_is_said_to_be_set_empty_by_the_command_too(tmp_path: Path) -> None:
    """The job's reading of the environment dropped empty variables before the check, so `bulkload load` (and
    resume, reconcile, rollback) never said "is set, but empty": only "set X", as if the export had not happened."""
    job = Job(target="economic", files=[str(tmp_path / "e.csv")])
    with pytest.raises(ConfigError) as refused:
        job.credentials({"ECONOMIC_APP_SECRET_TOKEN": "", "ECONOMIC_AGREEMENT_GRANT_TOKEN": "grant"})
    assert str(refused.value).endswith("; ECONOMIC_APP_SECRET_TOKEN is set, but empty or only white space")


def test_a_credential_exported_empty_gives_way_to_the_job_files(tmp_path: Path) -> None:
    job = Job(target="economic", files=[str(tmp_path / "e.csv")], config_credentials={"ECONOMIC_APP_SECRET_TOKEN": "a"})
    found = job.credentials({"ECONOMIC_APP_SECRET_TOKEN": "", "ECONOMIC_AGREEMENT_GRANT_TOKEN": "grant"})
    assert found["ECONOMIC_APP_SECRET_TOKEN"] == "a"
