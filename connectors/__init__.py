"""Protocol clients and the raw-layer lander; nothing here knows Dagster or dbt.

Entry points: `connectors.sync.extract_source` / `extract_all` (plain Python),
configured by the dataclasses of `connectors.config`; `connectors.landing.ensure_schema`
creates the raw, bridge_state and audit tables; `connectors.payroll.pending_files`
lists unloaded payroll exports for a sensor.
"""
