-- Competency ratings, subject and rater resolved to employee numbers.
select
    assessment_id,
    cycle,
    employee_number,
    rater_employee_number,
    rater_type,
    competency_id,
    rating,
    submitted_at
from {{ ref('int_competency__assessments_resolved') }}
