-- Performance reviews, employee and reviewer resolved to employee numbers.
with links as (
    select source_key, employee_number from {{ ref('int_identity__links') }} where source_system = 'lms'
)

select
    r.review_id,
    r.cycle,
    employee.employee_number,
    reviewer.employee_number as reviewer_employee_number,
    r.overall_rating,
    r.status,
    r.meeting_date
from {{ ref('stg_lms__reviews') }} as r
left join links as employee on r.lms_user_id = employee.source_key
left join links as reviewer on r.reviewer_lms_user_id = reviewer.source_key
