"""One SQLAlchemy engine per Lambda container (built lazily, reused across invocations).

Direct mode (``DATABASE_URL``) is used locally and in tests. In AWS the functions connect to
RDS Proxy with a short-lived IAM auth token as password, over TLS.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DisconnectionError

from streamvault.config import Settings, get_settings

_engines: dict[tuple[bool, bool], Engine] = {}  # (on the replica, autocommit)
IDLE_PING_AFTER_S = 10.0


def psycopg_url(raw: str) -> URL:
    url = make_url(raw)
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername != "postgresql+psycopg":
        raise ValueError(f"only PostgreSQL through psycopg 3 is supported, not {url.drivername!r}")
    return url


def _connect_args(settings: Settings, *, through_proxy: bool) -> dict[str, Any]:
    args: dict[str, Any] = {
        # Prepared statements pin RDS Proxy connections to one client: never prepare.
        "prepare_threshold": None,
        "connect_timeout": settings.db_connect_timeout_s,
        "application_name": f"streamvault-{settings.stage}",
    }
    if settings.uses_rds_proxy:  # AWS: TLS to the proxy and to the read replica alike
        args["sslmode"] = settings.db_sslmode
        if settings.db_sslrootcert:
            args["sslrootcert"] = settings.db_sslrootcert
    if not through_proxy:
        # A startup `options` parameter is session state the proxy would pin on; the proxy's
        # InitQuery sets the same limits on every pooled connection instead (see infra/).
        args["options"] = (
            f"-c statement_timeout={settings.db_statement_timeout_ms}"
            f" -c lock_timeout={settings.db_lock_timeout_ms} -c timezone=UTC"
        )
    return args


def _build_engine(settings: Settings, read: bool, autocommit: bool) -> Engine:
    through_proxy = False
    if settings.uses_rds_proxy:
        # RDS Proxy cannot front an RDS read replica: the replica is reached directly.
        replica = settings.db_read_host if read else None
        through_proxy = replica is None
        url: URL = URL.create(
            "postgresql+psycopg", username=settings.db_user, host=replica or settings.db_host, port=settings.db_port,
            database=settings.db_name,
        )
    else:
        raw = (settings.read_database_url if read else None) or settings.database_url
        if not raw:
            raise RuntimeError("no database configured: set DATABASE_URL (or STREAMVAULT_DB_HOST for RDS Proxy)")
        url = psycopg_url(raw)

    engine = create_engine(
        url,
        connect_args=_connect_args(settings, through_proxy=through_proxy),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_recycle=600,
        # Set once per connection: switching a pooled connection to autocommit and back at every
        # checkout cost each API read ~150 Python calls (~15 µs).
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
    )
    _ping_after_idle(engine)
    if settings.uses_rds_proxy and settings.db_iam_auth:
        _use_iam_tokens(engine, settings, host=url.host or "")
    return engine


def _ping_after_idle(engine: Engine) -> None:
    """Ping a pooled connection only when it sat idle (a Lambda container thawed after a pause,
    when the proxy may have closed it): SQLAlchemy's pre-ping would cost a round trip on every
    request. A failed ping makes the pool replace the connection transparently."""

    @event.listens_for(engine, "checkin")
    def _mark_idle_since(dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy):
        if time.monotonic() - record.info.get("idle_since", time.monotonic()) < IDLE_PING_AFTER_S:
            return
        try:
            dbapi_connection.execute("SELECT 1")
        except Exception as exc:
            raise DisconnectionError("pooled connection went stale while idle") from exc


def _use_iam_tokens(engine: Engine, settings: Settings, host: str) -> None:
    import boto3  # only the RDS Proxy path needs it

    rds = boto3.client("rds", region_name=settings.aws_region)

    @event.listens_for(engine, "do_connect")
    def _token_as_password(dialect, conn_rec, cargs, cparams):
        # Tokens live 15 minutes and are signed locally: a fresh one for every new connection.
        cparams["password"] = rds.generate_db_auth_token(
            DBHostname=host, Port=settings.db_port, DBUsername=settings.db_user, Region=settings.aws_region
        )


def get_engine(read: bool = False, *, autocommit: bool = False) -> Engine:
    """The container's engine; ``read=True`` gives the replica's when one is configured, and
    ``autocommit=True`` an engine whose connections never open a transaction (``reading``)."""
    settings = get_settings()
    has_replica = bool(settings.read_database_url or settings.db_read_host)
    key = (read and has_replica, autocommit)
    if key not in _engines:
        _engines[key] = _build_engine(settings, read=key[0], autocommit=autocommit)
    return _engines[key]


def dispose_engines() -> None:
    """Close every pooled connection (tests, settings changes, forked workers)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


@contextmanager
def transaction(engine: Engine | None = None, statement_timeout_ms: int | None = None) -> Iterator[Connection]:
    """A connection inside one transaction; ``statement_timeout_ms`` sets the limit for it alone
    (``SET LOCAL`` semantics: a transaction-scoped setting does not pin an RDS Proxy connection)."""
    with (engine or get_engine()).begin() as conn:
        if statement_timeout_ms is not None:
            conn.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(statement_timeout_ms)})
        yield conn


@contextmanager
def reading(read: bool = False) -> Iterator[Connection]:
    """A connection in autocommit for reads (on the replica with ``read=True``, as ``get_engine``):
    no BEGIN/COMMIT round trips around a single query. Each statement still runs under the
    connection's statement_timeout."""
    with get_engine(read, autocommit=True).connect() as conn:
        yield conn


def health_check(engine: Engine | None = None) -> dict[str, Any]:
    """Round-trip the database; never raises, so a health endpoint can report the failure."""
    started = time.perf_counter()
    try:
        with (engine or get_engine()).connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            in_recovery = conn.execute(text("SELECT pg_is_in_recovery()")).scalar_one()
        return {
            "ok": True,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            "server_version": version,
            "replica": bool(in_recovery),
        }
    except Exception as exc:  # the caller reports it; the type is enough to diagnose
        return {
            "ok": False,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            "error": type(exc).__name__,
        }
