-- Every title seen in each system and how it resolved to a canonical title.
select
    source_system,
    source_title,
    canonical_job_title,
    match_method,
    occurrences,
    normalised_title
from {{ ref('int_job_titles__matched') }}
