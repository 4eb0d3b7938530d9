-- Current LMS assignments: latest version per id, deletions dropped.
with latest as (
    {{ latest_versions(source('lms', 'assignments')) }}
)

select
    record_id as assignment_id,
    {{ json_text('payload', 'user_id') }} as lms_user_id,
    {{ json_text('payload', 'course_id') }} as course_id,
    {{ iso_timestamp(json_text('payload', 'assigned_at')) }} as assigned_at,
    {{ iso_date(json_text('payload', 'due_date')) }} as due_date,
    {{ json_text('payload', 'reason') }} as reason,
    {{ iso_timestamp(json_text('payload', 'updated_at')) }} as updated_at,
    first_landed_at,
    landed_at
from latest
where not coalesce(is_deleted, false)
