-- normalise(title) of docs/internals.md in SQL: lower-case, non-alphanumerics to
-- spaces, split into words, words mapped through the title_abbreviations seed,
-- re-joined with single spaces. One row per distinct raw title.
with raw_titles as (
    select distinct source_title as title from {{ ref('int_job_titles__seen') }}
    union
    select distinct source_title from {{ ref('stg_hr__title_crosswalk') }} where source_title is not null
    union
    select distinct canonical_job_title from {{ ref('stg_hr__title_crosswalk') }} where canonical_job_title is not null
),

spaced as (
    select title, trim({{ title_to_spaced_words('title') }}) as spaced_title
    from raw_titles
),

words as (
    select spaced.title, w.word, w.word_pos
    from spaced
    {{ split_words_join('spaced.spaced_title', 'w') }}
    where w.word <> ''
),

mapped_words as (
    select
        words.title,
        words.word_pos,
        coalesce(lower(trim(abbr.replacement)), words.word) as word
    from words
    left join {{ ref('title_abbreviations') }} as abbr on words.word = lower(trim(abbr.token))
),

joined as (
    select title, {{ dbt.listagg('word', "' '", 'order by word_pos') }} as normalised_title
    from mapped_words
    group by title
)

select spaced.title, coalesce(joined.normalised_title, '') as normalised_title
from spaced
left join joined on spaced.title = joined.title
