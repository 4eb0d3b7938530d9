-- Required competency levels per canonical title and business unit (null =
-- whole organisation).
select
    canonical_job_title,
    business_unit,
    competency_id,
    required_level
from {{ ref('int_competency__job_requirements') }}
