-- Required competencies per active employee: the profile for the employee's
-- title and division takes precedence over the organisation-wide one; a
-- framework with a business unit applies only to employees of that division.
with employees as (
    select employee_number, canonical_job_title, division
    from {{ ref('int_employees__current') }}
    where is_active and canonical_job_title is not null
),

requirements as (
    select * from {{ ref('int_competency__job_requirements') }}
),

titles_with_unit_profile as (
    select distinct canonical_job_title, business_unit from requirements where business_unit is not null
),

applicable as (
    select
        e.employee_number,
        r.competency_id,
        r.required_level,
        r.business_unit
    from employees as e
    left join titles_with_unit_profile as u
        on e.canonical_job_title = u.canonical_job_title and e.division = u.business_unit
    inner join requirements as r
        on e.canonical_job_title = r.canonical_job_title
        and (
            (u.business_unit is not null and r.business_unit = u.business_unit)
            or (u.business_unit is null and r.business_unit is null)
        )
),

competency_scope as (
    select c.competency_id, f.business_unit as framework_business_unit
    from {{ ref('stg_lms__competencies') }} as c
    left join {{ ref('stg_lms__competency_frameworks') }} as f on c.framework_id = f.framework_id
)

select
    applicable.employee_number,
    applicable.competency_id,
    applicable.required_level,
    applicable.business_unit as profile_business_unit
from applicable
left join competency_scope on applicable.competency_id = competency_scope.competency_id
inner join employees on applicable.employee_number = employees.employee_number
where competency_scope.framework_business_unit is null
    or competency_scope.framework_business_unit = employees.division
