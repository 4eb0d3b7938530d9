-- Each title seen resolves to a canonical title (int_job_titles__canonical) by exact
-- match, then normalised match (the preferred canonical title of that normal form), then
-- the crosswalk; else it stays unmapped (CONTRACT 3).
with normalised as (
    select * from {{ ref('int_job_titles__normalised') }}
),

canonical as (
    select * from {{ ref('int_job_titles__canonical') }}
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
left join canonical as exact_match on seen.source_title = exact_match.canonical_job_title
left join canonical as normal_match
    on seen.normalised_title = normal_match.normalised_title and normal_match.is_preferred_for_normal_form
left join crosswalk_by_normal_form as crosswalk_match on seen.normalised_title = crosswalk_match.normalised_title
