-- Canonical job titles (int_job_titles__canonical: the HRIS titles, plus any the crosswalk maps to) with
-- family and level from the crosswalk, the package payroll pays most often for
-- the title in the latest period (ties: the alphabetically first), and headcount.
with canonical_titles as (
    select canonical_job_title from {{ ref('int_job_titles__canonical') }}
),

packages as (
    select canonical_job_title, remuneration_package
    from (
        select
            canonical_job_title,
            remuneration_package,
            row_number() over (
                partition by canonical_job_title order by employees desc, remuneration_package
            ) as package_rank
        from {{ ref('int_job_titles__latest_packages') }}
    ) as ranked
    where package_rank = 1
),

headcount as (
    select canonical_job_title, count(*) as active_headcount
    from {{ ref('int_employees__current') }}
    where is_active
    group by canonical_job_title
)

select
    t.canonical_job_title,
    a.job_family,
    a.job_level,
    p.remuneration_package,
    coalesce(h.active_headcount, 0) as active_headcount
from canonical_titles as t
left join {{ ref('int_job_titles__attributes') }} as a on t.canonical_job_title = a.canonical_job_title
left join packages as p on t.canonical_job_title = p.canonical_job_title
left join headcount as h on t.canonical_job_title = h.canonical_job_title
