-- Learning events that matter to the contract (completion events and attempts),
-- resolved to employee and course. completed/passed/satisfied complete a course;
-- failed and attempted are attempts.
-- Incremental: a night resolves the statements landed since the last build, and again every
-- statement built earlier whose actor now resolves to another employee (identity links) or
-- whose activity to another course; a statement voided later is removed (post_hook);
-- docs/internals.md.
-- depends_on: {{ ref('stg_xapi__statements') }}
{{ config(materialized='incremental', unique_key='statement_id', incremental_strategy='delete+insert',
          on_schema_change='fail', post_hook="{{ delete_voided() }}") }}

{%- set resolved_elsewhere -%}
    -- actors and activities of rows already built that the current links and courses resolve otherwise
    select 'actor' as kind, built.actor_key as key_value
    from (select distinct actor_key, employee_number from {{ this }}) as built
    left join actors on built.actor_key = actors.source_key
    where built.employee_number is distinct from actors.employee_number
    union all
    select 'activity', built.activity_id
    from (select distinct activity_id, course_id from {{ this }}) as built
    left join courses on built.activity_id = courses.xapi_activity_id
    where built.course_id is distinct from courses.course_id
{%- endset %}

with actors as (
    select source_key, employee_number from {{ ref('int_identity__links') }} where source_system = 'xapi'
),

courses as (
    select course_id, xapi_activity_id from {{ ref('stg_lms__courses') }}
),

{%- if is_incremental() %}
{#- read before the query: when nothing resolves otherwise (most nights), the statements are
    filtered by a constant the scan applies, not by a join over every statement built #}
{%- set rechecked = run_query('with actors as (select source_key, employee_number from '
        ~ ref('int_identity__links') ~ " where source_system = 'xapi'), courses as (select course_id, xapi_activity_id from "
        ~ ref('stg_lms__courses') ~ ') select count(*) from (' ~ resolved_elsewhere ~ ') as r') if execute else none %}
{%- set any_rechecked = rechecked is not none and (rechecked.columns[0].values()[0] | int) > 0 %}
{%- if any_rechecked %}

resolved_elsewhere as (
    {{ resolved_elsewhere }}
),
{%- endif %}
{%- endif %}

statements as (
    select * from {{ ref('int_learning__statements_unvoided') }}
    where verb_id in (
        'http://adlnet.gov/expapi/verbs/completed',
        'http://adlnet.gov/expapi/verbs/passed',
        'http://adlnet.gov/expapi/verbs/failed',
        'https://w3id.org/xapi/adl/verbs/satisfied',
        'http://adlnet.gov/expapi/verbs/attempted'
    )
    {%- if is_incremental() %}
    and (batch_seq > {{ built_batch_seq() }}
        {%- if any_rechecked %}
        or actor_key in (select key_value from resolved_elsewhere where kind = 'actor')
        or object_id in (select key_value from resolved_elsewhere where kind = 'activity')
        {%- endif %})
    {%- endif %}
)

select
    s.statement_id,
    actors.employee_number,
    c.course_id,
    s.object_id as activity_id,
    s.verb_id,
    case s.verb_id
        when 'http://adlnet.gov/expapi/verbs/completed' then 'completed'
        when 'http://adlnet.gov/expapi/verbs/passed' then 'passed'
        when 'http://adlnet.gov/expapi/verbs/failed' then 'failed'
        when 'https://w3id.org/xapi/adl/verbs/satisfied' then 'satisfied'
        when 'http://adlnet.gov/expapi/verbs/attempted' then 'attempted'
    end as verb,
    s.verb_id in (
        'http://adlnet.gov/expapi/verbs/completed',
        'http://adlnet.gov/expapi/verbs/passed',
        'https://w3id.org/xapi/adl/verbs/satisfied'
    ) as is_completion,
    s.verb_id <> 'http://adlnet.gov/expapi/verbs/attempted' as is_completion_event,
    s.success,
    s.score_scaled,
    s.duration_minutes,
    s.occurred_at,
    -- kept so that a later night knows what it built and from which landing
    s.actor_key,
    s.batch_seq
from statements as s
left join actors on s.actor_key = actors.source_key
left join courses as c on s.object_id = c.xapi_activity_id
