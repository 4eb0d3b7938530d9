-- One row per active employee and required competency: assessed level, gap
-- and the course recommended to close it.
select
    employee_number,
    competency_id,
    required_level,
    assessed_level,
    self_rating,
    manager_rating,
    others_mean,
    gap,
    gap_status,
    recommended_course_id,
    recommended_course_completed,
    assessed_cycle
from {{ ref('int_competency__gaps') }}
