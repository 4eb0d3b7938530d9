-- Current LMS job profiles: latest version per id, deletions dropped.
with latest as (
    select * from {{ ref('base_lms__job_profiles') }}
)

select
    record_id as job_profile_id,
    nullif({{ json_text('payload', 'job_title') }}, '') as source_title,
    nullif(trim({{ json_text('payload', 'business_unit') }}), '') as business_unit,
    {{ iso_timestamp(json_text('payload', 'updated_at')) }} as updated_at,
    first_landed_at,
    landed_at
from latest
where not coalesce(is_deleted, false)
