"""The seed's monitoring SQL: database health, table sizes, index usage, partition state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text


def database_health(conn: Connection) -> dict[str, Any]:
    row = conn.execute(
        text("""
            SELECT current_database() AS database,
                   current_setting('server_version') AS server_version,
                   pg_database_size(current_database()) AS size_bytes,
                   (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()) AS connections,
                   (SELECT count(*) FROM pg_stat_activity
                     WHERE datname = current_database() AND state = 'active') AS active_connections,
                   current_setting('max_connections')::int AS max_connections,
                   (SELECT coalesce(round(sum(blks_hit) * 100.0 / nullif(sum(blks_hit) + sum(blks_read), 0), 2), 100)
                      FROM pg_stat_database WHERE datname = current_database()) AS cache_hit_pct,
                   (SELECT coalesce(max(extract(epoch FROM now() - xact_start)), 0)
                      FROM pg_stat_activity
                     WHERE datname = current_database() AND xact_start IS NOT NULL
                       AND pid <> pg_backend_pid()) AS longest_transaction_s,
                   (SELECT count(*) FROM plays_default) AS plays_outside_partitions
        """)
    ).mappings().one()
    return {**row, "longest_transaction_s": round(float(row["longest_transaction_s"]), 1),
            "cache_hit_pct": float(row["cache_hit_pct"])}


def table_sizes(conn: Connection) -> list[dict[str, Any]]:
    """Largest first; a partitioned table reports the sum of its partitions."""
    rows = conn.execute(
        text("""
            WITH tables AS (
                SELECT c.oid, c.relname, c.relkind,
                       coalesce(p.inhparent, c.oid) AS root
                FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN pg_inherits p ON p.inhrelid = c.oid
                WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
            )
            SELECT r.relname AS table_name,
                   sum(pg_total_relation_size(t.oid))::bigint AS total_bytes,
                   sum(pg_relation_size(t.oid))::bigint AS table_bytes,
                   sum(pg_indexes_size(t.oid))::bigint AS index_bytes,
                   sum(coalesce(s.n_live_tup, 0))::bigint AS estimated_rows,
                   count(*) FILTER (WHERE t.oid <> t.root) AS partitions
            FROM tables t
            JOIN pg_class r ON r.oid = t.root
            LEFT JOIN pg_stat_user_tables s ON s.relid = t.oid
            GROUP BY r.relname
            ORDER BY total_bytes DESC, table_name
        """)
    ).mappings()
    return [dict(r) for r in rows]


def index_usage(conn: Connection) -> list[dict[str, Any]]:
    """Scans per index (partition indexes summed into their parent): unused ones are candidates to drop."""
    rows = conn.execute(
        text("""
            SELECT coalesce(pt.relname, s.relname) AS table_name,
                   coalesce(pi.relname, s.indexrelname) AS index_name,
                   sum(s.idx_scan)::bigint AS scans,
                   sum(s.idx_tup_read)::bigint AS tuples_read,
                   sum(pg_relation_size(s.indexrelid))::bigint AS size_bytes
            FROM pg_stat_user_indexes s
            LEFT JOIN pg_inherits ii ON ii.inhrelid = s.indexrelid
            LEFT JOIN pg_class pi ON pi.oid = ii.inhparent
            LEFT JOIN pg_inherits ti ON ti.inhrelid = s.relid
            LEFT JOIN pg_class pt ON pt.oid = ti.inhparent
            WHERE s.schemaname = current_schema()
            GROUP BY 1, 2
            ORDER BY scans, size_bytes DESC
        """)
    ).mappings()
    return [dict(r) for r in rows]


# The months of plays partitions kept around today (the daily maintenance's window).
PARTITION_MONTHS_BACK = 1
PARTITION_MONTHS_AHEAD = 3


def ensure_play_partitions(conn: Connection, months_back: int = PARTITION_MONTHS_BACK,
                           months_ahead: int = PARTITION_MONTHS_AHEAD) -> int:
    """Run the partition maintenance (daily in AWS); returns how many partitions it created."""
    return conn.execute(
        text("SELECT streamvault_ensure_play_partitions(:back, :ahead)"), {"back": months_back, "ahead": months_ahead}
    ).scalar_one()
