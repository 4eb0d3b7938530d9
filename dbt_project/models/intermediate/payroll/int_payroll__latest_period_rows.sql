-- The payroll rows of the latest period, each with the HRIS employee its employee number
-- resolves to (int_identity__links; null when unresolved): the period the reconciliation
-- findings and the packages paid per title are read from.
with latest_period as (
    select max(period_end) as period_end from {{ ref('stg_payroll__rows') }}
),

links as (
    select source_key, employee_number from {{ ref('int_identity__links') }} where source_system = 'payroll'
)

select
    p.payroll_row_id,
    p.period_end,
    p.employee_number_raw,
    p.employee_number,
    links.employee_number as resolved_employee_number,
    p.source_title,
    p.remuneration_package,
    p.cost_center,
    p.employment_status
from {{ ref('stg_payroll__rows') }} as p
inner join latest_period on p.period_end = latest_period.period_end
left join links on p.employee_number_raw = links.source_key
