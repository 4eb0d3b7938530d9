-- Remuneration packages paid per canonical title in the latest payroll period,
-- with how many employees each pays (the payroll row's own title is resolved).
with latest_period as (
    select max(period_end) as period_end from {{ ref('stg_payroll__rows') }}
)

select
    m.canonical_job_title,
    p.remuneration_package,
    count(distinct p.employee_number) as employees
from {{ ref('stg_payroll__rows') }} as p
inner join latest_period on p.period_end = latest_period.period_end
inner join {{ ref('int_job_titles__matched') }} as m
    on m.source_system = 'payroll' and p.source_title = m.source_title
where m.canonical_job_title is not null and p.remuneration_package is not null
group by m.canonical_job_title, p.remuneration_package
