"""The PostgreSQL side: the throwaway server the tests start (bulkload.sandbox.postgres)."""

from __future__ import annotations

import psycopg

from bulkload.sandbox.postgres import create_database


def test_each_test_has_a_fresh_database_of_its_own(postgres_server: str, postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        name = conn.execute("SELECT current_database()").fetchone()
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
    assert name is not None and postgres_url.endswith("/" + name[0]) and name[0] != "postgres"
    assert tables == (0,)
    other = create_database(postgres_server, "another one")
    assert other.endswith("/another%20one")
    with psycopg.connect(other) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("another one",)
