-- SCD type 2 from all versions in raw.hris__users: one row per employee and
-- period in which the tracked columns held. Rebuilt in full every run, which
-- gives the same history as incremental runs because the raw log is append-only.
with versions as (
    select * from {{ ref('base_hris__user_versions') }} where employee_number is not null
),

scim_to_employee as (
    select scim_id, employee_number
    from (
        select scim_id, employee_number,
               row_number() over (partition by scim_id order by batch_seq desc) as version_rank
        from versions
    ) as ranked
    where version_rank = 1
),

hris_titles as (
    select source_title, canonical_job_title
    from {{ ref('int_job_titles__matched') }}
    where source_system = 'hris'
),

-- several versions on one date collapse to the last one landed
last_of_day as (
    select *
    from (
        select
            v.*,
            row_number() over (
                partition by v.employee_number, v.version_date order by v.batch_seq desc
            ) as day_rank
        from versions as v
    ) as ranked
    where day_rank = 1
),

tracked as (
    select
        d.employee_number,
        d.version_date,
        coalesce(t.canonical_job_title, d.source_title) as canonical_job_title,
        d.department,
        d.cost_center,
        m.employee_number as manager_employee_number,
        d.fte,
        (d.is_scim_active and (d.termination_date is null or d.termination_date > d.version_date)) as is_active
    from last_of_day as d
    left join hris_titles as t on d.source_title = t.source_title
    left join scim_to_employee as m on d.manager_scim_id = m.scim_id
),

-- consecutive versions equal in every tracked column merge into one period
flagged as (
    select
        tracked.*,
        case
            when lag(version_date) over w is null then 1
            when canonical_job_title is distinct from lag(canonical_job_title) over w then 1
            when department is distinct from lag(department) over w then 1
            when cost_center is distinct from lag(cost_center) over w then 1
            when manager_employee_number is distinct from lag(manager_employee_number) over w then 1
            when fte is distinct from lag(fte) over w then 1
            when is_active is distinct from lag(is_active) over w then 1
            else 0
        end as starts_period
    from tracked
    window w as (partition by employee_number order by version_date)
),

periods as (
    select *
    from flagged
    where starts_period = 1
)

select
    employee_number,
    version_date as valid_from,
    lead(version_date) over (partition by employee_number order by version_date) as valid_to,
    lead(version_date) over (partition by employee_number order by version_date) is null as is_current,
    canonical_job_title,
    department,
    cost_center,
    manager_employee_number,
    fte,
    is_active
from periods
