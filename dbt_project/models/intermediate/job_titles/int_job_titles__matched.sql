-- Each title seen resolves to a canonical (HRIS) title by exact match, then
-- normalised match, then the crosswalk; else it stays unmapped (CONTRACT 3).
-- canonical titles: the HRIS titles, and the crosswalk's canonical titles (it
-- lists each canonical title mapping to itself)
with canonical_candidates as (
    select source_title as canonical_job_title, 1 as holders
    from {{ ref('stg_hris__users') }}
    where source_title is not null
    union all
    select canonical_job_title, 0
    from {{ ref('stg_hr__title_crosswalk') }}
    where canonical_job_title is not null
),

canonical_titles as (
    select canonical_job_title, sum(holders) as headcount
    from canonical_candidates
    group by canonical_job_title
),

crosswalk_canonicals as (
    select distinct canonical_job_title from {{ ref('stg_hr__title_crosswalk') }}
),

normalised as (
    select * from {{ ref('int_job_titles__normalised') }}
),

-- two HRIS titles may normalise alike: prefer the crosswalk's own spelling,
-- then the more common, then the alphabetically first
canonical_by_normal_form as (
    select normalised_title, canonical_job_title
    from (
        select
            n.normalised_title,
            c.canonical_job_title,
            row_number() over (
                partition by n.normalised_title
                order by
                    case when xc.canonical_job_title is not null then 0 else 1 end,
                    c.headcount desc,
                    c.canonical_job_title
            ) as preference
        from canonical_titles as c
        inner join normalised as n on c.canonical_job_title = n.title
        left join crosswalk_canonicals as xc on c.canonical_job_title = xc.canonical_job_title
    ) as ranked
    where preference = 1
),

crosswalk_by_normal_form as (
    select normalised_title, canonical_job_title
    from (
        select
            n.normalised_title,
            x.canonical_job_title,
            row_number() over (partition by n.normalised_title order by x.canonical_job_title) as preference
        from {{ ref('stg_hr__title_crosswalk') }} as x
        inner join normalised as n on x.source_title = n.title
        where x.canonical_job_title is not null
    ) as ranked
    where preference = 1
),

seen as (
    select s.*, n.normalised_title
    from {{ ref('int_job_titles__seen') }} as s
    inner join normalised as n on s.source_title = n.title
)

select
    seen.source_system,
    seen.source_title,
    seen.normalised_title,
    case
        when exact_match.canonical_job_title is not null then exact_match.canonical_job_title
        when normal_match.canonical_job_title is not null then normal_match.canonical_job_title
        else crosswalk_match.canonical_job_title
    end as canonical_job_title,
    case
        when exact_match.canonical_job_title is not null then 'exact'
        when normal_match.canonical_job_title is not null then 'normalised'
        when crosswalk_match.canonical_job_title is not null then 'crosswalk'
        else 'unmapped'
    end as match_method,
    seen.occurrences
from seen
left join canonical_titles as exact_match on seen.source_title = exact_match.canonical_job_title
left join canonical_by_normal_form as normal_match on seen.normalised_title = normal_match.normalised_title
left join crosswalk_by_normal_form as crosswalk_match on seen.normalised_title = crosswalk_match.normalised_title
