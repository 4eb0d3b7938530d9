-- Every landed payroll row (latest version of each record), parsed, including rows
-- of exports a later export of the same period superseded (stg_payroll__rows drops those).
with latest as (
    {{ latest_versions(source('raw', 'payroll__rows')) }}
)

select
    record_id as payroll_row_id,
    file_name,
    file_sha256,
    cast(line_number as {{ dbt.type_int() }}) as line_number,
    cast(period_end as date) as period_end,
    cast(exported_at as {{ dbt.type_timestamp() }}) as exported_at,
    {{ normalise_employee_number(json_text('payload', 'employee_number')) }} as employee_number,
    {{ json_text('payload', 'employee_number') }} as employee_number_raw,
    {{ iso_date(json_text('payload', 'pay_period_start')) }} as pay_period_start,
    coalesce({{ iso_date(json_text('payload', 'pay_period_end')) }}, cast(period_end as date)) as pay_period_end,
    nullif(trim({{ json_text('payload', 'job_code') }}), '') as job_code,
    nullif({{ json_text('payload', 'job_title') }}, '') as source_title,
    nullif(trim({{ json_text('payload', 'pay_grade') }}), '') as pay_grade,
    nullif(trim({{ json_text('payload', 'remuneration_package') }}), '') as remuneration_package,
    {{ dbt.safe_cast(json_text('payload', 'annual_base_salary'), dbt.type_numeric()) }} as annual_base_salary,
    upper(trim({{ json_text('payload', 'currency') }})) as currency,
    {{ dbt.safe_cast(json_text('payload', 'fte'), dbt.type_numeric()) }} as fte,
    nullif(trim({{ json_text('payload', 'cost_center') }}), '') as cost_center,
    lower(trim({{ json_text('payload', 'employment_status') }})) as employment_status,
    first_landed_at,
    landed_at
from latest
where not coalesce(is_deleted, false)
