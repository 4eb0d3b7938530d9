-- Current LMS courses: latest version per id, deletions dropped.
with latest as (
    select * from {{ ref('base_lms__courses') }}
)

select
    record_id as course_id,
    {{ json_text('payload', 'title') }} as course_title,
    nullif(trim({{ json_text('payload', 'xapi_activity_id') }}), '') as xapi_activity_id,
    {{ dbt.safe_cast(json_text('payload', 'duration_minutes'), dbt.type_numeric()) }} as duration_minutes,
    lower(coalesce({{ json_text('payload', 'compliance') }}, 'false')) = 'true' as is_compliance,
    {{ iso_timestamp(json_text('payload', 'updated_at')) }} as updated_at,
    first_landed_at,
    landed_at
from latest
where not coalesce(is_deleted, false)
