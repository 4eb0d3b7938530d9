-- Current LMS reviews: latest version per id, deletions dropped.
with latest as (
    {{ latest_versions(source('lms', 'reviews')) }}
)

select
    record_id as review_id,
    {{ json_text('payload', 'cycle') }} as cycle,
    {{ json_text('payload', 'user_id') }} as lms_user_id,
    {{ json_text('payload', 'reviewer_user_id') }} as reviewer_lms_user_id,
    {{ dbt.safe_cast(json_text('payload', 'overall_rating'), dbt.type_numeric()) }} as overall_rating,
    {{ json_text('payload', 'status') }} as status,
    {{ iso_date(json_text('payload', 'meeting_date')) }} as meeting_date,
    {{ iso_timestamp(json_text('payload', 'updated_at')) }} as updated_at,
    first_landed_at,
    landed_at
from latest
where not coalesce(is_deleted, false)
