-- LMS assignments resolved to employee, with the course's compliance flag.
with links as (
    select source_key, employee_number from {{ ref('int_identity__links') }} where source_system = 'lms'
)

select
    a.assignment_id,
    links.employee_number,
    a.course_id,
    a.assigned_at,
    a.due_date,
    a.reason,
    coalesce(c.is_compliance, false) as compliance
from {{ ref('stg_lms__assignments') }} as a
left join links on a.lms_user_id = links.source_key
left join {{ ref('stg_lms__courses') }} as c on a.course_id = c.course_id
