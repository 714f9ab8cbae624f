"""The engine's connection settings: no prepared statements, timeouts, IAM tokens for RDS Proxy."""

from __future__ import annotations

import pytest
from moto import mock_aws
from sqlalchemy import event, make_url, text
from sqlalchemy.exc import OperationalError
from streamvault.config import configure, reset_settings
from streamvault.db.engine import dispose_engines, get_engine, health_check, transaction


def test_connections_never_prepare_and_carry_timeouts(engine):
    with engine.connect() as conn:
        assert conn.connection.driver_connection.prepare_threshold is None
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "3s"
        assert conn.execute(text("SHOW lock_timeout")).scalar_one() == "5s"
        assert conn.execute(text("SHOW timezone")).scalar_one() == "UTC"


def test_a_transaction_sets_its_own_statement_timeout(engine):
    with pytest.raises(OperationalError, match="statement timeout"), transaction(statement_timeout_ms=100) as conn:
        conn.execute(text("SELECT pg_sleep(2)"))
    with transaction(statement_timeout_ms=60_000) as conn:  # longer jobs raise it for themselves
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "1min"
    with transaction() as conn:  # and the setting ended with its transaction
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "3s"


def test_health_check_reports_failure_without_raising():
    dispose_engines()
    configure(database_url="postgresql://nobody@127.0.0.1:1/none", db_connect_timeout_s=1)
    try:
        result = health_check()
    finally:
        dispose_engines()
        reset_settings()
    assert result["ok"] is False
    assert result["error"] == "OperationalError"


def test_rds_proxy_mode_connects_with_a_fresh_iam_token(db_url):
    url = make_url(db_url)
    if not url.host:
        # IAM tokens sign a host name; the embedded server listens on a socket only. CI runs this
        # suite against a TCP server too (.ci/run), where this test does run.
        pytest.skip("needs a PostgreSQL reachable over TCP")
    host = url.host
    dispose_engines()
    configure(database_url=None, db_host=host, db_port=url.port or 5432, db_name=url.database,
              db_user=url.username, db_sslmode="disable", aws_region="eu-west-1")
    passwords: list[str] = []
    try:
        with mock_aws():
            engine = get_engine()
            event.listen(engine, "do_connect", lambda d, r, a, params: passwords.append(params["password"]))
            with engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        dispose_engines()
        reset_settings()
    assert len(passwords) == 1
    assert "Action=connect" in passwords[0] and f"DBUser={url.username}" in passwords[0]
    assert "X-Amz-Signature=" in passwords[0]


def test_a_read_replica_is_reached_directly_under_the_request_timeouts(db_url):
    """RDS Proxy cannot front an RDS read replica, so the replica gets no InitQuery: the
    connection itself must carry the timeouts, where a proxy connection must not (it would pin)."""
    url = make_url(db_url)
    if not url.host:
        pytest.skip("needs a PostgreSQL reachable over TCP")  # as above
    dispose_engines()
    configure(database_url=None, db_host=url.host, db_read_host=url.host, db_port=url.port or 5432,
              db_name=url.database, db_user=url.username, db_sslmode="disable", db_iam_auth=False)
    try:
        with get_engine(read=True).connect() as replica, get_engine().connect() as proxy:
            timeouts = "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')"
            assert replica.execute(text(timeouts)).one() == ("3s", "5s")
            assert proxy.execute(text(timeouts)).one() == ("0", "0")  # the server's defaults: no startup options
    finally:
        dispose_engines()
        reset_settings()


def test_a_connection_that_died_while_idle_is_replaced_transparently(engine, monkeypatch):
    from streamvault.db import engine as engine_module

    victim_conn, killer = engine.connect(), engine.connect()
    victim = victim_conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    victim_conn.close()  # back to the pool, first in line for the next checkout
    killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
    killer.close()
    monkeypatch.setattr(engine_module, "IDLE_PING_AFTER_S", 0.0)  # as after a long Lambda freeze

    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != victim
