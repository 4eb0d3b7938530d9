-- One row per (job profile, required competency) from the profile's requirements array.
with latest as (
    select * from {{ ref('base_lms__job_profiles') }}
)

select
    latest.record_id as job_profile_id,
    {{ json_text('req.value', 'competency_id') }} as competency_id,
    {{ dbt.safe_cast(json_text('req.value', 'required_level'), dbt.type_numeric()) }} as required_level
from latest
{{ json_array_join('latest.payload', 'requirements', 'req') }}
where not coalesce(latest.is_deleted, false)
