-- Current checkins checkins: latest version per id, deletions dropped.
with latest as (
    {{ latest_versions(source('raw', 'checkins__checkins')) }}
)

select
    record_id as checkin_id,
    {{ json_text('payload', 'objective_id') }} as objective_id,
    {{ normalise_email(json_text('payload', 'employee_email')) }} as employee_email,
    {{ normalise_email(json_text('payload', 'manager_email')) }} as manager_email,
    {{ json_text('payload', 'employee_email') }} as employee_email_raw,
    {{ json_text('payload', 'manager_email') }} as manager_email_raw,
    {{ iso_date(json_text('payload', 'meeting_date')) }} as meeting_date,
    {{ dbt.safe_cast(json_text('payload', 'progress_pct'), dbt.type_numeric()) }} as progress_pct,
    {{ json_text('payload', 'confidence') }} as confidence,
    {{ json_text('payload', 'impediment') }} as impediment,
    lower(coalesce({{ json_text('payload', 'help_requested') }}, 'false')) = 'true' as help_requested,
    {{ json_text('payload', 'note') }} as note,
    {{ iso_timestamp(json_text('payload', 'updated_at')) }} as updated_at,
    first_landed_at,
    landed_at
from latest
where not coalesce(is_deleted, false)
