-- Current state of every HRIS employee with title, manager and source presence.
with employees as (
    select * from {{ ref('int_identity__hris_employees') }}
),

scim_to_employee as (
    select scim_id, employee_number from {{ ref('stg_hris__users') }} where employee_number is not null
),

hris_titles as (
    select source_title, canonical_job_title
    from {{ ref('int_job_titles__matched') }}
    where source_system = 'hris'
),

present_in as (
    select
        employee_number,
        max(case when source_system = 'payroll' then 1 else 0 end) as in_payroll,
        max(case when source_system = 'lms' then 1 else 0 end) as in_lms
    from {{ ref('int_identity__links') }}
    where employee_number is not null
    group by employee_number
)

select
    e.employee_number,
    e.scim_id,
    e.full_name,
    e.email,
    e.source_title,
    t.canonical_job_title,
    a.job_family,
    a.job_level,
    e.department,
    e.division,
    e.cost_center,
    m.employee_number as manager_employee_number,
    e.location,
    e.employment_type,
    e.fte,
    e.frontline,
    e.hire_date,
    e.termination_date,
    e.termination_reason,
    -- a past termination date ends activity even if the SCIM flag lags
    (e.is_scim_active and (e.termination_date is null or e.termination_date > {{ as_of_date() }})) as is_active,
    coalesce(p.in_payroll, 0) = 1 as in_payroll,
    coalesce(p.in_lms, 0) = 1 as in_lms,
    e.scim_user_count,
    e.last_modified_at
from employees as e
left join hris_titles as t on e.source_title = t.source_title
left join {{ ref('int_job_titles__attributes') }} as a on t.canonical_job_title = a.canonical_job_title
left join scim_to_employee as m on e.manager_scim_id = m.scim_id
left join present_in as p on e.employee_number = p.employee_number
