-- Current LMS observations: latest version per id, deletions dropped.
with latest as (
    {{ latest_versions(source('lms', 'observations')) }}
)

select
    record_id as observation_id,
    {{ json_text('payload', 'subject_user_id') }} as subject_lms_user_id,
    {{ json_text('payload', 'author_user_id') }} as author_lms_user_id,
    {{ iso_timestamp(json_text('payload', 'observed_at')) }} as observed_at,
    {{ json_text('payload', 'kind') }} as kind,
    {{ json_text('payload', 'text') }} as observation_text,
    {{ iso_timestamp(json_text('payload', 'updated_at')) }} as updated_at,
    first_landed_at,
    landed_at
from latest
where not coalesce(is_deleted, false)
