-- Training status, the first that holds (CONTRACT 3): completed (a completion
-- event on or after assigned_at), overdue (as-of date after due_date),
-- in_progress (an attempted or failed event on or after assigned_at), not_started.
with assignments as (
    select * from {{ ref('int_training__assignments') }}
),

events as (
    select employee_number, course_id, verb, is_completion, occurred_at
    from {{ ref('int_learning__events') }}
    where employee_number is not null and course_id is not null
),

progress as (
    select
        a.assignment_id,
        min(case when e.is_completion then e.occurred_at end) as completed_at,
        max(case when e.verb in ('attempted', 'failed') then 1 else 0 end) as has_attempt
    from assignments as a
    inner join events as e
        on a.employee_number = e.employee_number
        and a.course_id = e.course_id
        and e.occurred_at >= a.assigned_at
    group by a.assignment_id
)

select
    a.assignment_id,
    a.employee_number,
    a.course_id,
    a.assigned_at,
    a.due_date,
    a.reason,
    a.compliance,
    p.completed_at,
    case
        when p.completed_at is not null then 'completed'
        when {{ as_of_date() }} > a.due_date then 'overdue'
        when p.has_attempt = 1 then 'in_progress'
        else 'not_started'
    end as status,
    case
        when p.completed_at is null and {{ as_of_date() }} > a.due_date
            then {{ dbt.datediff('a.due_date', as_of_date(), 'day') }}
        else 0
    end as days_overdue
from assignments as a
left join progress as p on a.assignment_id = p.assignment_id
