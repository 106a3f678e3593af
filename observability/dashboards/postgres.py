"""Postgres (postgres-exporter): availability, connections against the limit, oldest transaction,
commit/rollback and deadlock rates, cache hit ratio, size and locks."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.models.dashboard import DataSourceRef

from observability.dashboards.common import by, dashboard, graph, model, rate, section, sel, single

UID = "eks-obs-postgres"
_DB = "{{datname}}"


def build(ds: DataSourceRef) -> dict[str, Any]:
    board = dashboard(uid=UID, title="EKS / Postgres", ds=ds, description=__doc__ or "")
    # Slots only superusers may use are not the application's (as PostgresTooManyConnections counts).
    reserved = sel("pg_settings_superuser_reserved_connections")
    usable = f"sum({sel('pg_settings_max_connections')}) - sum({reserved})"
    hits = by("datname", rate("pg_stat_database_blks_hit"))
    reads = by("datname", rate("pg_stat_database_blks_read"))
    board = section(
        board,
        "Availability and connections",
        ds,
        single("Up", "short", f"min({sel('pg_up')})"),
        single("Connections used", "percentunit", f"sum({sel('pg_stat_activity_count')}) / ({usable})"),
        graph(
            "Connections by state",
            "short",
            (by("state", sel("pg_stat_activity_count")), "{{state}}"),
            (usable, "limit"),
        ),
        graph("Backends by database", "short", (sel("pg_stat_database_numbackends"), _DB)),
        graph(
            "Oldest transaction",
            "s",
            (by("datname, state", sel("pg_stat_activity_max_tx_duration"), "max"), "{{datname}} {{state}}"),
        ),
    )
    board = section(
        board,
        "Activity",
        ds,
        graph(
            "Commits and rollbacks",
            "ops",
            (by("datname", rate("pg_stat_database_xact_commit")), "{{datname}} commits"),
            (by("datname", rate("pg_stat_database_xact_rollback")), "{{datname}} rollbacks"),
        ),
        graph("Deadlocks", "ops", (by("datname", rate("pg_stat_database_deadlocks")), _DB)),
        graph("Cache hit ratio", "percentunit", (f"{hits} / ({hits} + {reads})", _DB)),
        graph("Database size", "bytes", (sel("pg_database_size_bytes"), _DB)),
        graph("Locks by mode", "short", (by("datname, mode", sel("pg_locks_count")), "{{datname}} {{mode}}")),
    )
    return model(board)
