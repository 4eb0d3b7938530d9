-- Audit finding: employees terminated (inactive) in the HRIS but paid in the
-- latest payroll period.
select
    e.employee_number,
    e.termination_date,
    e.termination_reason,
    p.period_end as paid_period_end,
    p.employment_status as payroll_status,
    p.cost_center as payroll_cost_center
from {{ ref('int_employees__current') }} as e
inner join {{ ref('int_payroll__latest_period_rows') }} as p on p.resolved_employee_number = e.employee_number
where not e.is_active and p.employment_status in ('active', 'on_leave')
