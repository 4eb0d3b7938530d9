-- One row per employee ever seen in the HRIS (the golden key).
{{ config(indexes=postgres_index(['employee_number'])) }}
select
    employee_number,
    scim_id,
    full_name,
    email,
    source_title,
    canonical_job_title,
    job_family,
    job_level,
    department,
    division,
    cost_center,
    manager_employee_number,
    location,
    employment_type,
    fte,
    frontline,
    hire_date,
    termination_date,
    termination_reason,
    is_active,
    in_payroll,
    in_lms
from {{ ref('int_employees__current') }}
