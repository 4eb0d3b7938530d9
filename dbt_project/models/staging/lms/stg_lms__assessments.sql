-- Current LMS assessments: latest version per id, deletions dropped.
with latest as (
    {{ latest_versions(source('lms', 'assessments')) }}
)

select
    record_id as assessment_id,
    {{ json_text('payload', 'cycle') }} as cycle,
    {{ json_text('payload', 'subject_user_id') }} as subject_lms_user_id,
    {{ json_text('payload', 'rater_user_id') }} as rater_lms_user_id,
    lower({{ json_text('payload', 'rater_type') }}) as rater_type,
    {{ json_text('payload', 'competency_id') }} as competency_id,
    {{ dbt.safe_cast(json_text('payload', 'rating'), dbt.type_numeric()) }} as rating,
    {{ iso_timestamp(json_text('payload', 'submitted_at')) }} as submitted_at,
    {{ iso_timestamp(json_text('payload', 'updated_at')) }} as updated_at,
    first_landed_at,
    landed_at
from latest
where not coalesce(is_deleted, false)
