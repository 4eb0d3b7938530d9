"""The PostgreSQL warehouse target: connection, raw/audit mirror, publication swap, roles.

Connectors still land into the DuckDB work file (raw versions and cursors commit
together there); `mirror` copies them to Postgres in bulk, dbt-postgres builds into
`*__build` schemas, and `publish` swaps those into `reporting`/`restricted` atomically.
"""
