{# ISO 8601 text (with Z or offset) -> timestamp without time zone, in UTC #}
{% macro iso_timestamp(expr) -%}
    {{ return(adapter.dispatch('iso_timestamp', 'hris_lms_bridge')(expr)) }}
{%- endmacro %}

{% macro default__iso_timestamp(expr) -%}
    (cast(nullif(trim({{ expr }}), '') as timestamptz) at time zone 'UTC')
{%- endmacro %}

{% macro duckdb__iso_timestamp(expr) -%}
    cast(timezone('UTC', try_cast(nullif(trim({{ expr }}), '') as timestamptz)) as timestamp)
{%- endmacro %}

{% macro iso_date(expr) -%}
    {{ dbt.safe_cast("left(trim(" ~ expr ~ "), 10)", api.Column.translate_type("date")) }}
{%- endmacro %}

{# The business date of the run: var as_of_date (unit tests), env BRIDGE_AS_OF, else today.
   Business rules use this, never the wall clock directly. Read here rather than in
   dbt_project.yml: a project-level env var that changes forces dbt to re-parse everything.
   Read only when executing: dbt records the env vars a model reads while it is parsed,
   and re-parses that model (about 2 s here) whenever one changes, i.e. every night. #}
{% macro as_of_date() -%}
    {%- set v = var('as_of_date', '') or (env_var('BRIDGE_AS_OF', '') if execute else '') -%}
    {%- if v and v | trim != '' -%}
        cast('{{ v | trim }}' as date)
    {%- else -%}
        current_date
    {%- endif -%}
{%- endmacro %}

{# ISO 8601 duration (PnDTnHnMnS) -> minutes (numeric); null when absent #}
{% macro iso_duration_minutes(expr) -%}
    case when {{ expr }} is not null then
        coalesce(cast({{ regex_extract(expr, 'P([0-9.]+)D') }} as {{ dbt.type_numeric() }}), 0) * 1440
        + coalesce(cast({{ regex_extract(expr, 'T([0-9.]+)H') }} as {{ dbt.type_numeric() }}), 0) * 60
        + coalesce(cast({{ regex_extract(expr, 'T(?:[0-9.]+H)?([0-9.]+)M') }} as {{ dbt.type_numeric() }}), 0)
        + coalesce(cast({{ regex_extract(expr, 'T(?:[0-9.]+H)?(?:[0-9.]+M)?([0-9.]+)S') }} as {{ dbt.type_numeric() }}), 0) / 60.0
    end
{%- endmacro %}

{# latest version of each record of an append-only raw version log. In an incremental
   model's incremental run only the records with a version landed since the model's last
   build are read (all of their versions: first_landed_at is the earliest); the model keeps
   batch_seq, the landing sequence, which is what "since" compares (never a source's own
   timestamp: a late-arriving record lands with a new batch_seq whatever its timestamp). #}
{% macro latest_versions(relation, extra_columns=[]) -%}
    select *
    from (
        select
            r.*,
            min(r.landed_at) over (partition by r.record_id) as first_landed_at,
            row_number() over (partition by r.record_id order by r.batch_seq desc) as version_rank
        from {{ relation }} as r
        {%- if is_incremental() %}
        where r.record_id in (select record_id from {{ relation }} where batch_seq > {{ built_batch_seq() }})
        {%- endif %}
    ) as versions
    where version_rank = 1
{%- endmacro %}

{# type_double() is a 4-byte REAL on DuckDB and an 8-byte double on Postgres, so the
   same model rounds differently on the two; both spell an 8-byte float the same way. #}
{% macro type_double() -%}
    double precision
{%- endmacro %}
