-- Remuneration packages paid per canonical title in the latest payroll period,
-- with how many employees each pays (the payroll row's own title is resolved).
select
    m.canonical_job_title,
    p.remuneration_package,
    count(distinct p.employee_number) as employees
from {{ ref('int_payroll__latest_period_rows') }} as p
inner join {{ ref('int_job_titles__matched') }} as m
    on m.source_system = 'payroll' and p.source_title = m.source_title
where m.canonical_job_title is not null and p.remuneration_package is not null
group by m.canonical_job_title, p.remuneration_package
