-- The canonical job titles: the HRIS titles (with how many HRIS users hold each) and the
-- titles the crosswalk maps to (it lists each canonical title mapping to itself), each
-- with its normal form. Where several normalise alike, one is preferred for matching:
-- the crosswalk's own spelling, then the more common, then the alphabetically first.
with candidates as (
    select source_title as canonical_job_title, occurrences as hris_holders
    from {{ ref('int_job_titles__seen') }}
    where source_system = 'hris'
    union all
    select canonical_job_title, 0
    from {{ ref('stg_hr__title_crosswalk') }}
    where canonical_job_title is not null
),

titles as (
    select canonical_job_title, sum(hris_holders) as hris_holders
    from candidates
    group by canonical_job_title
),

crosswalk_canonicals as (
    select distinct canonical_job_title from {{ ref('stg_hr__title_crosswalk') }}
),

described as (
    select
        t.canonical_job_title,
        n.normalised_title,
        t.hris_holders,
        xc.canonical_job_title is not null as is_crosswalk_title
    from titles as t
    inner join {{ ref('int_job_titles__normalised') }} as n on t.canonical_job_title = n.title
    left join crosswalk_canonicals as xc on t.canonical_job_title = xc.canonical_job_title
)

select
    canonical_job_title,
    normalised_title,
    hris_holders,
    is_crosswalk_title,
    row_number() over (
        partition by normalised_title
        order by case when is_crosswalk_title then 0 else 1 end, hris_holders desc, canonical_job_title
    ) = 1 as is_preferred_for_normal_form
from described
