-- Learning events that matter to the contract (completion events and attempts),
-- resolved to employee and course. completed/passed/satisfied complete a course;
-- failed and attempted are attempts.
with statements as (
    select * from {{ ref('int_learning__statements_unvoided') }}
    where verb_id in (
        'http://adlnet.gov/expapi/verbs/completed',
        'http://adlnet.gov/expapi/verbs/passed',
        'http://adlnet.gov/expapi/verbs/failed',
        'https://w3id.org/xapi/adl/verbs/satisfied',
        'http://adlnet.gov/expapi/verbs/attempted'
    )
),

actors as (
    select source_key, employee_number from {{ ref('int_identity__links') }} where source_system = 'xapi'
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
    s.occurred_at
from statements as s
left join actors on s.actor_key = actors.source_key
left join {{ ref('stg_lms__courses') }} as c on s.object_id = c.xapi_activity_id
