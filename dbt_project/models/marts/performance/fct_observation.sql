-- Observations (ideas, feedback, recognition); the free text stays in staging.
with links as (
    select source_key, employee_number from {{ ref('int_identity__links') }} where source_system = 'lms'
)

select
    o.observation_id,
    subject.employee_number,
    author.employee_number as author_employee_number,
    o.observed_at,
    o.kind
from {{ ref('stg_lms__observations') }} as o
left join links as subject on o.subject_lms_user_id = subject.source_key
left join links as author on o.author_lms_user_id = author.source_key
