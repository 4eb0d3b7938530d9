-- Current LMS competency frameworks: latest version per id, deletions dropped.
with latest as (
    {{ latest_versions(source('lms', 'competency_frameworks')) }}
)

select
    record_id as framework_id,
    {{ json_text('payload', 'name') }} as framework_name,
    {{ json_text('payload', 'version') }} as framework_version,
    nullif(trim({{ json_text('payload', 'business_unit') }}), '') as business_unit,
    {{ dbt.safe_cast(json_text('payload', 'scale_max'), dbt.type_int()) }} as scale_max,
    {{ iso_timestamp(json_text('payload', 'updated_at')) }} as updated_at,
    first_landed_at,
    landed_at
from latest
where not coalesce(is_deleted, false)
