-- Completion events (completed, passed, failed, satisfied) from xAPI; voided
-- statements never appear.
select
    statement_id,
    employee_number,
    course_id,
    activity_id,
    verb,
    success,
    score_scaled,
    duration_minutes,
    occurred_at as completed_at,
    verb_id
from {{ ref('int_learning__events') }}
where is_completion_event
