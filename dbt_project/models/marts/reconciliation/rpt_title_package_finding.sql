-- Finding: canonical titles paid under more than one remuneration package in
-- the latest payroll period.
select
    canonical_job_title,
    count(*) as package_count,
    {{ dbt.listagg('remuneration_package', "', '", 'order by remuneration_package') }} as remuneration_packages,
    cast(sum(employees) as {{ dbt.type_bigint() }}) as employees
from {{ ref('int_job_titles__latest_packages') }}
group by canonical_job_title
having count(*) > 1
