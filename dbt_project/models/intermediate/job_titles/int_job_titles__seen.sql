-- Every title seen in any system, spelled as the source sent it, with how often
-- it occurs: HRIS users (current state), payroll rows (every export landed,
-- superseded ones included), LMS job profiles.
with titles as (
    select 'hris' as source_system, source_title
    from {{ ref('stg_hris__users') }}
    where source_title is not null
    union all
    select 'payroll', source_title
    from {{ ref('base_payroll__row_versions') }}
    where source_title is not null
    union all
    select 'lms', source_title
    from {{ ref('stg_lms__job_profiles') }}
    where source_title is not null
)

select source_system, source_title, count(*) as occurrences
from titles
group by source_system, source_title
