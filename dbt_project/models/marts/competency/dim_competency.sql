-- Competencies with their framework and its rating scale.
{{ config(indexes=postgres_index(['competency_id'])) }}
select
    c.competency_id,
    c.competency_code as code,
    c.competency_name as name,
    c.category,
    f.framework_name as framework,
    f.scale_max,
    c.framework_id,
    f.framework_version,
    f.business_unit as framework_business_unit,
    c.description
from {{ ref('stg_lms__competencies') }} as c
left join {{ ref('stg_lms__competency_frameworks') }} as f on c.framework_id = f.framework_id
