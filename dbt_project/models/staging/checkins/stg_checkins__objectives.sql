-- Current checkins objectives: latest version per id, deletions dropped.
with latest as (
    {{ latest_versions(source('raw', 'checkins__objectives')) }}
)

select
    record_id as objective_id,
    nullif(trim({{ json_text('payload', 'parent_id') }}), '') as parent_objective_id,
    {{ json_text('payload', 'level') }} as level,
    {{ json_text('payload', 'title') }} as title,
    {{ normalise_email(json_text('payload', 'owner_email')) }} as owner_email,
    {{ json_text('payload', 'owner_email') }} as owner_email_raw,
    {{ json_text('payload', 'org_unit') }} as org_unit,
    {{ json_text('payload', 'period') }} as period,
    {{ iso_date(json_text('payload', 'start_date')) }} as start_date,
    {{ iso_date(json_text('payload', 'due_date')) }} as due_date,
    coalesce({{ dbt.safe_cast(json_text('payload', 'weight'), dbt.type_numeric()) }}, 1) as weight,
    coalesce({{ json_text('payload', 'status') }}, 'not_started') as status,
    {{ iso_timestamp(json_text('payload', 'updated_at')) }} as updated_at,
    first_landed_at,
    landed_at
from latest
where not coalesce(is_deleted, false)
