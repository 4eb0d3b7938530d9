-- Job family and level per canonical title, from the crosswalk where it gives
-- them (the row mapping the title to itself first).
select canonical_job_title, job_family, job_level
from (
    select
        x.canonical_job_title,
        nullif(trim(x.job_family), '') as job_family,
        nullif(trim(x.job_level), '') as job_level,
        row_number() over (
            partition by x.canonical_job_title
            order by
                case when x.source_title = x.canonical_job_title then 0 else 1 end,
                case when nullif(trim(x.job_family), '') is not null then 0 else 1 end,
                x.source_title
        ) as preference
    from {{ ref('stg_hr__title_crosswalk') }} as x
    where x.canonical_job_title is not null
) as ranked
where preference = 1
