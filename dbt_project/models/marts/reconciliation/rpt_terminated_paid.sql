-- Audit finding: employees terminated (inactive) in the HRIS but paid in the
-- latest payroll period.
with latest_period as (
    select max(period_end) as period_end from {{ ref('stg_payroll__rows') }}
)

select
    e.employee_number,
    e.termination_date,
    e.termination_reason,
    p.period_end as paid_period_end,
    p.employment_status as payroll_status,
    p.cost_center as payroll_cost_center
from {{ ref('int_employees__current') }} as e
inner join {{ ref('int_identity__links') }} as links
    on links.source_system = 'payroll' and links.employee_number = e.employee_number
inner join {{ ref('stg_payroll__rows') }} as p on p.employee_number_raw = links.source_key
inner join latest_period on p.period_end = latest_period.period_end
where not e.is_active and p.employment_status in ('active', 'on_leave')
