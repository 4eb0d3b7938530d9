-- LMS assessments with subject and rater resolved to employee numbers.
with links as (
    select source_key, employee_number
    from {{ ref('int_identity__links') }}
    where source_system = 'lms'
)

select
    a.assessment_id,
    a.cycle,
    subject.employee_number,
    rater.employee_number as rater_employee_number,
    a.rater_type,
    a.competency_id,
    a.rating,
    a.submitted_at
from {{ ref('stg_lms__assessments') }} as a
left join links as subject on a.subject_lms_user_id = subject.source_key
left join links as rater on a.rater_lms_user_id = rater.source_key
