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
    -- bigint on both adapters (the contract's type)
    cast(days_overdue as {{ dbt.type_bigint() }}) as days_overdue
from {{ ref('int_training__assignment_status') }}
