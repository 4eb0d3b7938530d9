-- Every landed payroll row (latest version of each record), parsed, including rows
-- of exports a later export of the same period superseded (stg_payroll__rows drops those).
-- Incremental: a night reads only the rows landed since the last build; which export counts
-- (supersession, withdrawal) is decided downstream on every build (stg_payroll__rows).
{{ config(materialized='incremental', unique_key='payroll_row_id', incremental_strategy='delete+insert',
          on_schema_change='fail',
          post_hook="{{ delete_tombstoned(source('payroll', 'rows'), 'payroll_row_id') }}") }}

with latest as (
    {{ latest_versions(source('payroll', 'rows')) }}
),

fields as (
    select
        record_id as payroll_row_id,
        batch_seq,
        is_deleted,
        file_name,
        file_sha256,
        line_number,
        period_end,
        exported_at,
        first_landed_at,
        landed_at,
        {{ json_text_columns('payload', {
            'employee_number_raw': 'employee_number',
            'pay_period_start_text': 'pay_period_start',
            'pay_period_end_text': 'pay_period_end',
            'job_code_text': 'job_code',
            'job_title_text': 'job_title',
            'pay_grade_text': 'pay_grade',
            'remuneration_package_text': 'remuneration_package',
            'annual_base_salary_text': 'annual_base_salary',
            'currency_text': 'currency',
            'fte_text': 'fte',
            'cost_center_text': 'cost_center',
            'employment_status_text': 'employment_status',
        }) }}
    from latest
)

select
    payroll_row_id,
    file_name,
    file_sha256,
    cast(line_number as {{ dbt.type_int() }}) as line_number,
    cast(period_end as date) as period_end,
    cast(exported_at as {{ dbt.type_timestamp() }}) as exported_at,
    {{ normalise_employee_number('employee_number_raw') }} as employee_number,
    employee_number_raw,
    {{ iso_date('pay_period_start_text') }} as pay_period_start,
    coalesce({{ iso_date('pay_period_end_text') }}, cast(period_end as date)) as pay_period_end,
    nullif(trim(job_code_text), '') as job_code,
    nullif(job_title_text, '') as source_title,
    nullif(trim(pay_grade_text), '') as pay_grade,
    nullif(trim(remuneration_package_text), '') as remuneration_package,
    {{ dbt.safe_cast('annual_base_salary_text', dbt.type_numeric()) }} as annual_base_salary,
    upper(trim(currency_text)) as currency,
    {{ dbt.safe_cast('fte_text', dbt.type_numeric()) }} as fte,
    nullif(trim(cost_center_text), '') as cost_center,
    lower(trim(employment_status_text)) as employment_status,
    first_landed_at,
    landed_at,
    batch_seq
from fields
where not coalesce(is_deleted, false)
