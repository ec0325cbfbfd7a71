"""who.user_at_host: the one "user@host" that run_by.json and the records of loads beside the files both name."""

from __future__ import annotations

import getpass
import os
import socket

import pytest

from bulkload import loads_beside, who


def test_the_login_name_at_this_host() -> None:
    assert who.user_at_host() == f"{getpass.getuser()}@{socket.gethostname()}"


def test_a_user_the_system_has_no_name_for_is_its_uid(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_name() -> str:
        raise KeyError("getpwuid(): uid not found")

    monkeypatch.setattr(getpass, "getuser", no_name)
    assert who.user_at_host() == f"{os.getuid()}@{socket.gethostname()}"


def test_the_record_beside_the_files_is_named_so_as_a_file_name_may_hold_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(getpass, "getuser", lambda: "DOMAIN\\ann smith")
    assert loads_beside._writer() == f"DOMAIN_ann_smith@{socket.gethostname()}"
