-- Current checkins objectives: latest version per id, deletions dropped.
with latest as (
    {{ latest_versions(source('checkins', 'objectives')) }}
),

fields as (
    select
        record_id as objective_id,
        is_deleted,
        first_landed_at,
        landed_at,
        {{ json_text_columns('payload', {
            'parent_id_text': 'parent_id',
            'level': 'level',
            'title': 'title',
            'owner_email_raw': 'owner_email',
            'org_unit': 'org_unit',
            'period': 'period',
            'start_date_text': 'start_date',
            'due_date_text': 'due_date',
            'weight_text': 'weight',
            'status_text': 'status',
            'updated_at_text': 'updated_at',
        }) }}
    from latest
)

select
    objective_id,
    nullif(trim(parent_id_text), '') as parent_objective_id,
    level,
    title,
    {{ normalise_email('owner_email_raw') }} as owner_email,
    owner_email_raw,
    org_unit,
    period,
    {{ iso_date('start_date_text') }} as start_date,
    {{ iso_date('due_date_text') }} as due_date,
    coalesce({{ dbt.safe_cast('weight_text', dbt.type_numeric()) }}, 1) as weight,
    coalesce(status_text, 'not_started') as status,
    {{ iso_timestamp('updated_at_text') }} as updated_at,
    first_landed_at,
    landed_at
from fields
where not coalesce(is_deleted, false)
