-- Training assignments with their status as of the run's business date.
select
    assignment_id,
    employee_number,
    course_id,
    assigned_at,
    due_date,
    reason,
    compliance,
    completed_at,
    status,
    days_overdue
from {{ ref('int_training__assignment_status') }}
