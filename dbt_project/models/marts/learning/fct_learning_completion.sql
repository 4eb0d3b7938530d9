-- Completion events (completed, passed, failed, satisfied) from xAPI; voided
-- statements never appear. Events of actors no identity rule resolves are not
-- reportable facts about an employee: they are counted in identity_exception.
select
    statement_id,
    employee_number,
    course_id,
    activity_id,
    verb,
    success,
    score_scaled,
    cast(duration_minutes as {{ type_double() }}) as duration_minutes,  -- numeric on Postgres
    occurred_at as completed_at,
    verb_id
from {{ ref('int_learning__events') }}
where is_completion_event
  and employee_number is not null
