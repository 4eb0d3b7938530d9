-- Current LMS users: latest version per id, deletions dropped.
with latest as (
    {{ latest_versions(source('lms', 'users')) }}
)

select
    record_id as lms_user_id,
    {{ normalise_email(json_text('payload', 'email')) }} as email,
    {{ normalise_employee_number(json_text('payload', 'employee_number')) }} as employee_number,
    {{ json_text('payload', 'employee_number') }} as employee_number_raw,
    lower(coalesce({{ json_text('payload', 'active') }}, 'true')) = 'true' as is_active,
    {{ iso_timestamp(json_text('payload', 'updated_at')) }} as updated_at,
    first_landed_at,
    landed_at
from latest
where not coalesce(is_deleted, false)
