"""The `streamvault` command line: database chores, API keys, the local stack, the oracle.

Database: ``--database-url``, else ``DATABASE_URL``, else (locally) the embedded server under
the data dir. ``--json`` prints one JSON document for scripts.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from streamvault.api_keys import parse_scopes
from streamvault.config import configure, get_settings
from streamvault.db.engine import dispose_engines, get_engine
from streamvault.db.repositories.monitoring import PARTITION_MONTHS_AHEAD, PARTITION_MONTHS_BACK


def _use_database(url: str | None) -> None:
    settings = get_settings()
    if url:
        configure(database_url=url)
    elif not settings.database_url and not settings.db_host:
        if settings.stage != "local":
            raise SystemExit("no database configured: set DATABASE_URL or STREAMVAULT_DB_HOST")
        from streamvault.local.postgres import start_embedded

        configure(database_url=start_embedded((settings.data_dir / "pgdata").resolve()))
    dispose_engines()


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def _print(args: argparse.Namespace, result: Any, text: Callable[[Any], str]) -> None:
    if args.json:
        print(json.dumps(result, default=_jsonable))
    else:
        print(text(result))


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    widths = [max([len(c), *(len(str(r[c])) for r in rows)]) for c in columns]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(str(r[c]).ljust(w) for c, w in zip(columns, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def _usage_error(command: str, message: str) -> int:
    print(f"streamvault {command}: {message}", file=sys.stderr)
    return 2


def _cli_actor() -> str:
    """Who the audit log names for a CLI action: ``cli:<OS user>``."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no LOGNAME/USER and no passwd entry (e.g. a container's arbitrary uid)
        user = f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"cli:{user}"[:128]  # audit_log.actor is varchar(128)


def cmd_migrate(args: argparse.Namespace) -> int:
    from alembic.util import CommandError

    from streamvault.db import migrate

    # Alembic's upgrade to an older revision silently does nothing: say so, and what rolls back.
    if migrate.is_below_current(args.revision):
        return _usage_error("db migrate", f"the database is at revision {migrate.current_revision()}, above "
                                          f"{args.revision!r}, and migrate only upgrades; to roll back, use "
                                          f"`streamvault db downgrade --revision {args.revision}`")
    try:
        migrate.upgrade(revision=args.revision)
    except CommandError as exc:  # e.g. an unknown revision
        return _usage_error("db migrate", str(exc))
    _print(args, {"revision": migrate.current_revision()}, lambda r: f"database at revision {r['revision']}")
    return 0


def cmd_downgrade(args: argparse.Namespace) -> int:
    from alembic.util import CommandError

    from streamvault.db import migrate

    try:
        target = migrate.resolve_revision(args.revision)
        if target is None and not args.drop_everything:
            return _usage_error("db downgrade", "downgrading to base drops every table and all their data; "
                                                "add --drop-everything if that is what you mean")
        before = migrate.current_revision()
        migrate.downgrade(revision=target or "base")
    except CommandError as exc:  # an unknown revision, or one the database is not above
        return _usage_error("db downgrade", str(exc))
    _print(args, {"from": before, "revision": migrate.current_revision()},
           lambda r: f"database at revision {r['revision'] or 'base (empty)'} (was {r['from']})")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from streamvault.db.seed import seed_database

    report = seed_database(get_engine(), creators=args.creators, plays=args.plays, seed=args.seed)
    _print(args, report, lambda r: f"seeded {r.plays:,} plays for {r.creators:,} creators in {r.seconds:.1f} s")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from streamvault.db.repositories.monitoring import index_usage, table_sizes

    with get_engine().connect() as conn:
        result = {"tables": table_sizes(conn), "indexes": index_usage(conn)}
    _print(args, result, lambda r: _table(r["tables"], ["table_name", "total_bytes", "index_bytes", "estimated_rows",
                                                         "partitions"])
           + "\n\n" + _table(r["indexes"], ["table_name", "index_name", "scans", "size_bytes"]))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from streamvault.db import migrate
    from streamvault.db.engine import health_check
    from streamvault.db.repositories.monitoring import database_health

    result: dict[str, Any] = {"connection": health_check()}
    if result["connection"]["ok"]:
        result["revision"] = migrate.current_revision()
        result["head"] = migrate.head_revision()
        if result["revision"] is not None:  # the health SQL reads our tables
            with get_engine().connect() as conn:
                result["database"] = database_health(conn)
    ok = result["connection"]["ok"] and result.get("revision") == result.get("head")
    result["ok"] = ok
    _print(args, result, lambda r: ("OK" if ok else "NOT OK") + f": {json.dumps(r, default=_jsonable, indent=2)}")
    return 0 if ok else 1


def cmd_maintain(args: argparse.Namespace) -> int:
    from streamvault.services.maintenance import maintain

    done = maintain(months_back=args.months_back, months_ahead=args.months_ahead)
    _print(args, done, lambda r: f"created {r['partitions_created']} play partitions, "
                                 f"refreshed {r['scores_refreshed']} engagement scores")
    return 0


def _audited_key(info: Any) -> dict[str, Any]:  # info: ApiKeyInfo (imported lazily)
    """A key as the audit log shows it: never the key, its hash, or its displayed prefix."""
    return {"name": info.name, "scopes": info.scopes, "rate_limit_per_s": info.rate_limit_per_s,
            "burst": info.burst, "revoked": info.revoked_at is not None}


def cmd_keys_create(args: argparse.Namespace) -> int:
    from streamvault.api.usage_plans import check_key_limits, register_key
    from streamvault.db.repositories.api_keys import create_key
    from streamvault.db.repositories.audit import write_audit

    try:
        check_key_limits(args.rate, args.burst)
    except ValueError as exc:
        return _usage_error("keys create", str(exc))
    # In the database's transaction: a key API Gateway could not register is not created (nor audited) either.
    with get_engine().begin() as conn:
        key, info = create_key(conn, args.name, args.scope, rate_limit_per_s=args.rate, burst=args.burst)
        write_audit(conn, _cli_actor(), "api_key.create", "api_key", info.id, None, _audited_key(info))
        register_key(str(info.id))
    _print(args, {"key": key, "id": info.id, "scopes": info.scopes},
           lambda r: f"created API key {r['id']} ({args.name}; scopes {','.join(r['scopes'])})\n{r['key']}\n"
                     "the key is shown this once and only its hash is stored: keep it now")
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    from streamvault.api.usage_plans import disable_key
    from streamvault.db.repositories.api_keys import revoke_key
    from streamvault.db.repositories.audit import write_audit

    with get_engine().begin() as conn:
        info = revoke_key(conn, args.id)
        if info is not None:
            after = _audited_key(info)
            write_audit(conn, _cli_actor(), "api_key.revoke", "api_key", info.id, {**after, "revoked": False}, after)
    revoked = info is not None
    if revoked:
        disable_key(str(args.id))
    _print(args, {"id": args.id, "revoked": revoked},
           lambda r: f"revoked API key {r['id']}" if revoked else f"no live API key {r['id']}")
    return 0 if revoked else 1


def cmd_keys_list(args: argparse.Namespace) -> int:
    from streamvault.db.repositories.api_keys import list_keys

    with get_engine().connect() as conn:
        keys = list_keys(conn, include_revoked=args.all)
    # ApiKeyInfo holds no hash: there is nothing secret to leak here.
    _print(args, keys, lambda rows: _table(
        [{**asdict(k), "scopes": ",".join(k.scopes), "rate_limit_per_s": k.rate_limit_per_s or "default",
          "burst": k.burst or "default", "revoked_at": k.revoked_at or "-"} for k in rows],
        ["id", "name", "key_prefix", "scopes", "rate_limit_per_s", "burst", "created_at", "revoked_at"]))
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    from streamvault.local.devserver import serve

    serve(port=args.port, host=args.host, demo_creators=args.creators, demo_plays=args.plays)
    return 0


def cmd_oracle_test(args: argparse.Namespace) -> int:
    from streamvault.services.oracle_sync import diagnose

    checks = diagnose()
    ok = all(c.ok for c in checks)
    _print(args, {"ok": ok, "checks": checks},
           lambda r: "\n".join(f"{'OK  ' if c.ok else 'FAIL'} {c.name}: {c.detail}" for c in checks))
    return 0 if ok else 1


def cmd_oracle_sync(args: argparse.Namespace) -> int:
    from streamvault.services.oracle_sync import build_runtime, retry_queue, run_sync

    rt = build_runtime()
    report = run_sync(rt, retry_queue(rt.settings), trigger="cli", limit=args.limit)
    _print(args, report, lambda r: f"skipped: {r.skipped}" if r.skipped else (
        f"run {r.run_id}: {r.creators} creators in {r.transactions} transactions: {r.confirmed} confirmed, "
        f"{r.failed} failed, {r.pending} pending; {r.gas_used:,} gas in {r.seconds:.1f} s"))
    return 0 if report.skipped is None and report.failed == 0 else 1


def cmd_oracle_stats(args: argparse.Namespace) -> int:
    from streamvault.db.repositories.oracle_logs import sync_stats

    with get_engine().connect() as conn:
        stats = sync_stats(conn, hours=args.hours)
    _print(args, stats, lambda s: "\n".join(f"{k}: {v}" for k, v in asdict(s).items()))
    return 0


def cmd_oracle_logs(args: argparse.Namespace) -> int:
    from streamvault.db.repositories.oracle_logs import recent_logs

    with get_engine().connect() as conn:
        rows = recent_logs(conn, limit=args.limit, status=args.status)
    _print(args, rows, lambda r: _table([{k: "-" if v is None else v for k, v in row.items()} for row in r],
                                        ["id", "created_at", "operation", "status", "creator_count", "tx_hash",
                                         "gas_used", "attempt", "error_class"]))
    return 0


def cmd_milestones_detect(args: argparse.Namespace) -> int:
    from streamvault.services.milestones import build_milestone_runtime, daily

    detection, actions = daily(build_milestone_runtime())
    _print(args, {"detection": detection, "actions": actions}, lambda r: (
        f"{detection.creators} creators checked, {detection.recorded} milestones recorded; coins created "
        f"{actions.coins}, revenue sharing enabled {actions.sharing_enabled}, failed {actions.failed}, "
        f"pending {actions.pending}"))
    return 0 if actions.failed == 0 else 1


def cmd_revenue_distribute(args: argparse.Namespace) -> int:
    from streamvault.services.milestones import build_milestone_runtime, distribute

    try:
        report = distribute(build_milestone_runtime(), args.quarter)
    except ValueError as exc:  # e.g. a quarter that has not ended yet: the user's to fix
        print(f"streamvault revenue distribute: {exc}", file=sys.stderr)
        return 2
    _print(args, report, lambda r: (
        f"{r.quarter}: {r.distributions} distributions at snapshot block {r.snapshot_block}, "
        f"{r.deposited_attofil} attoFIL deposited; {r.confirmed} confirmed, {r.failed} failed, {r.pending} pending"))
    return 0 if report.failed == 0 else 1


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", help="PostgreSQL URL (default: DATABASE_URL, else the embedded server)")
    common.add_argument("--json", action="store_true", help="print one JSON document")
    parser = argparse.ArgumentParser(prog="streamvault", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="database chores").add_subparsers(dest="db_command", required=True)
    p = db.add_parser("migrate", parents=[common], help="upgrade the schema (to head by default)")
    p.add_argument("--revision", default="head")
    p.set_defaults(func=cmd_migrate)
    p = db.add_parser("downgrade", parents=[common], help="roll the schema back to an older revision")
    # No default: a rollback names its target (an id such as 0006; no relative steps).
    p.add_argument("--revision", required=True, help="the revision to go back to; 'base' drops everything")
    p.add_argument("--drop-everything", action="store_true", help="confirm --revision base: drop every table")
    p.set_defaults(func=cmd_downgrade)
    p = db.add_parser("seed", parents=[common], help="load deterministic demo data into an empty database (COPY)")
    p.add_argument("--creators", type=_positive, default=50)
    p.add_argument("--plays", type=_positive, default=20_000)
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=cmd_seed)
    db.add_parser("stats", parents=[common], help="table sizes and index usage").set_defaults(func=cmd_stats)
    p = db.add_parser("check", parents=[common], help="connection test, server health, migration state")
    p.set_defaults(func=cmd_check)
    p = db.add_parser("maintain", parents=[common], help="daily: plays partitions, stored engagement scores")
    p.add_argument("--months-back", type=int, default=PARTITION_MONTHS_BACK)
    p.add_argument("--months-ahead", type=int, default=PARTITION_MONTHS_AHEAD)
    p.set_defaults(func=cmd_maintain)

    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="keys_command", required=True)
    p = keys.add_parser("create", parents=[common], help="create an API key (printed once)")
    p.add_argument("--scope", type=_scopes, required=True, help="comma-separated: read, ingest, admin")
    p.add_argument("--name", required=True, help="who or what the key is for")
    p.add_argument("--rate", type=_positive, help="requests per second (default: STREAMVAULT_API_RATE_LIMIT_PER_S)")
    p.add_argument("--burst", type=_positive, help="burst size (default: STREAMVAULT_API_BURST)")
    p.set_defaults(func=cmd_keys_create)
    p = keys.add_parser("revoke", parents=[common], help="revoke an API key")
    p.add_argument("id", type=uuid.UUID, help="the key's id (from keys list)")
    p.set_defaults(func=cmd_keys_revoke)
    p = keys.add_parser("list", parents=[common], help="list live API keys (never their secrets)")
    p.add_argument("--all", action="store_true", help="include revoked keys")
    p.set_defaults(func=cmd_keys_list)

    p = commands.add_parser("dev", parents=[common], help="run the local stack: database, demo data, API on 127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--creators", type=_positive, default=50, help="demo creators (seeded into an empty database)")
    p.add_argument("--plays", type=_positive, default=20_000, help="demo plays (seeded into an empty database)")
    p.set_defaults(func=cmd_dev)
    oracle = commands.add_parser("oracle", help="the on-chain metrics oracle").add_subparsers(
        dest="oracle_command", required=True)
    p = oracle.add_parser("test", parents=[common], help="database, RPC, contract, signer and balance: OK or why not")
    p.set_defaults(func=cmd_oracle_test)
    p = oracle.add_parser("sync", parents=[common], help="one sync run now")
    p.add_argument("--limit", type=_positive, help="at most this many creators")
    p.set_defaults(func=cmd_oracle_sync)
    p = oracle.add_parser("stats", parents=[common], help="success rate, failures, duration, last success")
    p.add_argument("--hours", type=_positive, default=24)
    p.set_defaults(func=cmd_oracle_stats)
    p = oracle.add_parser("logs", parents=[common], help="the newest oracle operations")
    p.add_argument("--limit", type=_positive, default=20)
    p.add_argument("--status", choices=["PENDING", "SUCCESS", "FAILED", "RETRYING"])
    p.set_defaults(func=cmd_oracle_logs)
    p = commands.add_parser("milestones", help="milestones and creator coins").add_subparsers(
        dest="milestones_command", required=True).add_parser(
        "detect", parents=[common], help="record every creator's new milestones, then create coins and enable sharing")
    p.set_defaults(func=cmd_milestones_detect)
    p = commands.add_parser("revenue", help="quarterly revenue sharing").add_subparsers(
        dest="revenue_command", required=True).add_parser(
        "distribute", parents=[common], help="deposit a finished quarter's holders' shares into the distributor")
    p.add_argument("--quarter", type=_quarter, required=True, help="e.g. 2026Q3")
    p.set_defaults(func=cmd_revenue_distribute)
    return parser


def _quarter(value: str):  # -> Quarter (imported lazily, like every command's code)
    from streamvault.domain.milestones import Quarter

    try:
        return Quarter.parse(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _scopes(value: str) -> list[str]:
    try:
        return parse_scopes(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _use_database(args.database_url)
    try:
        return args.func(args)
    finally:
        dispose_engines()


if __name__ == "__main__":
    sys.exit(main())
