-- One row per (course, competency) from the course's competencies array.
with latest as (
    select * from {{ ref('base_lms__courses') }}
)

select
    latest.record_id as course_id,
    {{ json_text('comp.value', 'competency_id') }} as competency_id,
    {{ dbt.safe_cast(json_text('comp.value', 'target_level'), dbt.type_numeric()) }} as target_level
from latest
{{ json_array_join('latest.payload', 'competencies', 'comp') }}
where not coalesce(latest.is_deleted, false)
