-- Current LMS competencies: latest version per id, deletions dropped.
with latest as (
    {{ latest_versions(source('lms', 'competencies')) }}
)

select
    record_id as competency_id,
    {{ json_text('payload', 'framework_id') }} as framework_id,
    {{ json_text('payload', 'code') }} as competency_code,
    {{ json_text('payload', 'name') }} as competency_name,
    {{ json_text('payload', 'category') }} as category,
    {{ json_text('payload', 'description') }} as description,
    {{ iso_timestamp(json_text('payload', 'updated_at')) }} as updated_at,
    first_landed_at,
    landed_at
from latest
where not coalesce(is_deleted, false)
