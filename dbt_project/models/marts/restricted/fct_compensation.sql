-- Pay per employee and pay period (latest export of each period only). Pay rows of
-- people no identity rule resolves (e.g. purged from the HRIS long ago) are identity
-- exceptions, not an employee's pay: they stay out, so the key is complete.
with payroll_titles as (
    select source_title, canonical_job_title
    from {{ ref('int_job_titles__matched') }}
    where source_system = 'payroll'
),

links as (
    select source_key, employee_number from {{ ref('int_identity__links') }} where source_system = 'payroll'
)

select
    links.employee_number,
    p.pay_period_end,
    t.canonical_job_title,
    p.remuneration_package,
    p.pay_grade,
    p.annual_base_salary,
    p.currency,
    p.fte,
    p.employee_number as payroll_employee_number,
    p.source_title,
    p.cost_center,
    p.employment_status
from {{ ref('stg_payroll__rows') }} as p
left join links on p.employee_number_raw = links.source_key
left join payroll_titles as t on p.source_title = t.source_title
where links.employee_number is not null
