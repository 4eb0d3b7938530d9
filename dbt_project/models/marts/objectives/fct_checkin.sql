-- Check-ins on objectives of the cascade, people resolved by email.
with people as (
    select source_key, employee_number from {{ ref('int_identity__links') }} where source_system = 'checkins'
)

select
    c.checkin_id,
    c.objective_id,
    employee.employee_number,
    manager.employee_number as manager_employee_number,
    c.meeting_date,
    c.progress_pct,
    c.confidence,
    coalesce(nullif(trim(c.impediment), ''), null) is not null as has_impediment,
    c.help_requested
from {{ ref('stg_checkins__checkins') }} as c
inner join {{ ref('int_objectives__hierarchy') }} as h on c.objective_id = h.objective_id
left join people as employee on c.employee_email_raw = employee.source_key
left join people as manager on c.manager_email_raw = manager.source_key
