-- Current state of each SCIM user (latest version), with the contract's email
-- choice: primary, else first `work`, else first.
with ranked_versions as (
    select
        r.*,
        min(r.landed_at) over (partition by r.record_id) as first_landed_at,
        row_number() over (partition by r.record_id order by r.batch_seq desc) as version_rank
    from {{ source('raw', 'hris__users') }} as r
),

latest_raw as (
    select record_id, payload, first_landed_at, landed_at
    from ranked_versions
    where version_rank = 1
),

emails as (
    select
        latest_raw.record_id,
        {{ normalise_email(json_text('e.value', 'value')) }} as email,
        row_number() over (
            partition by latest_raw.record_id
            order by
                case when lower(coalesce({{ json_text('e.value', 'primary') }}, 'false')) = 'true' then 0
                     when lower({{ json_text('e.value', 'type') }}) = 'work' then 1
                     else 2 end,
                {{ json_array_index('e') }}
        ) as email_rank
    from latest_raw
    {{ json_array_join('latest_raw.payload', 'emails', 'e') }}
    where nullif(trim({{ json_text('e.value', 'value') }}), '') is not null
),

chosen_email as (
    select record_id, email from emails where email_rank = 1
),

latest_parsed as (
    select v.*
    from {{ ref('stg_hris__user_versions') }} as v
    inner join (
        select scim_id, max(batch_seq) as batch_seq
        from {{ ref('stg_hris__user_versions') }}
        group by scim_id
    ) as latest
        on v.scim_id = latest.scim_id and v.batch_seq = latest.batch_seq
)

select
    latest_parsed.*,
    chosen_email.email,
    latest_raw.first_landed_at
from latest_parsed
inner join latest_raw on latest_parsed.scim_id = latest_raw.record_id
left join chosen_email on latest_parsed.scim_id = chosen_email.record_id
