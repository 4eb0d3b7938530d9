-- Competency requirements per canonical title and business unit (null = whole
-- organisation), from LMS job profiles whose title resolves to a canonical title.
-- Two profiles for the same title and unit: the higher required level holds.
with profile_titles as (
    select p.job_profile_id, p.business_unit, m.canonical_job_title
    from {{ ref('stg_lms__job_profiles') }} as p
    inner join {{ ref('int_job_titles__matched') }} as m
        on m.source_system = 'lms' and p.source_title = m.source_title
    where m.canonical_job_title is not null
)

select
    profile_titles.canonical_job_title,
    profile_titles.business_unit,
    req.competency_id,
    max(req.required_level) as required_level
from profile_titles
inner join {{ ref('stg_lms__job_profile_requirements') }} as req
    on profile_titles.job_profile_id = req.job_profile_id
where req.competency_id is not null
group by profile_titles.canonical_job_title, profile_titles.business_unit, req.competency_id
