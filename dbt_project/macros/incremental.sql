{# Helpers of the incremental models (docs/internals.md, "Incremental models"). latest_versions
   (time.sql) reads only what landed since a model's last build when the model is incremental. #}

{# the highest landing sequence an incremental model already holds (-1 when empty), as a
   literal: read before the model's query runs, so the warehouse filters the raw scan by it
   (DuckDB prunes row groups by a constant, Postgres plans with it). As a scalar subquery it
   was not pushed into the scan: every night projected every column of every row landed,
   which made the incremental models slower than the tables they replaced. #}
{% macro built_batch_seq() -%}
    {%- if execute -%}
        {%- set found = run_query("select coalesce(max(batch_seq), -1) from " ~ this) -%}
        {{- found.columns[0].values()[0] | int -}}
    {%- else -%}
        -1
    {%- endif -%}
{%- endmacro %}

{# post_hook of an incremental model over a version log whose deletions it drops: a record
   whose deletion (a tombstone version) landed after the version the model holds is removed.
   The incremental batch cannot do it: delete+insert only replaces keys the batch holds. #}
{% macro delete_tombstoned(relation, key) -%}
    delete from {{ this }} as built
    where exists (
        select 1 from {{ relation }} as r
        where r.record_id = built.{{ key }} and r.is_deleted and r.batch_seq > built.batch_seq
    )
{%- endmacro %}

{# post_hook of int_learning__statements_unvoided: a voiding statement landed on a later night
   removes the statement it voids, built on an earlier one #}
{% macro delete_voided() -%}
    delete from {{ this }}
    where statement_id in (
        select object_id from {{ ref('stg_xapi__statements') }}
        where verb_id = 'http://adlnet.gov/expapi/verbs/voided' and object_type = 'StatementRef'
    )
{%- endmacro %}
