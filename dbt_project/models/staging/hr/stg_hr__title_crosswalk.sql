-- The job-title crosswalk HR maintains. BRIDGE_TITLE_CROSSWALK names HR's own CSV, which
-- the pipeline lands as source hr.title_crosswalk (raw.hr__title_crosswalk) before each build; without it, the
-- project's seed for the demo organisation is used.
{% set landed = source('hr', 'title_crosswalk') %}
{% set override = adapter.get_relation(database=landed.database, schema=landed.schema, identifier=landed.identifier) if execute else none %}
{% if override %}
select
    cast(source_title as {{ dbt.type_string() }}) as source_title,
    cast(canonical_job_title as {{ dbt.type_string() }}) as canonical_job_title,
    cast(job_family as {{ dbt.type_string() }}) as job_family,
    cast(job_level as {{ dbt.type_string() }}) as job_level
from {{ override }}
{% else %}
select
    source_title,
    canonical_job_title,
    job_family,
    job_level
from {{ ref('job_title_crosswalk') }}
{% endif %}
