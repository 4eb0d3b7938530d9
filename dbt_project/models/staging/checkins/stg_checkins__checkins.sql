-- Current checkins checkins: latest version per id, deletions dropped.
-- Incremental: a night reads only the check-ins with a version landed since the last build;
-- a later deletion removes the built row (post_hook); docs/internals.md.
{{ config(materialized='incremental', unique_key='checkin_id', incremental_strategy='delete+insert',
          on_schema_change='fail',
          post_hook="{{ delete_tombstoned(source('checkins', 'checkins'), 'checkin_id') }}") }}
with latest as (
    {{ latest_versions(source('checkins', 'checkins')) }}
),

fields as (
    select
        record_id as checkin_id,
        batch_seq,
        is_deleted,
        first_landed_at,
        landed_at,
        {{ json_text_columns('payload', {
            'objective_id': 'objective_id',
            'employee_email_raw': 'employee_email',
            'manager_email_raw': 'manager_email',
            'meeting_date_text': 'meeting_date',
            'progress_pct_text': 'progress_pct',
            'confidence': 'confidence',
            'impediment': 'impediment',
            'help_requested_text': 'help_requested',
            'note': 'note',
            'updated_at_text': 'updated_at',
        }) }}
    from latest
)

select
    checkin_id,
    objective_id,
    {{ normalise_email('employee_email_raw') }} as employee_email,
    {{ normalise_email('manager_email_raw') }} as manager_email,
    employee_email_raw,
    manager_email_raw,
    {{ iso_date('meeting_date_text') }} as meeting_date,
    {{ dbt.safe_cast('progress_pct_text', dbt.type_numeric()) }} as progress_pct,
    confidence,
    impediment,
    lower(coalesce(help_requested_text, 'false')) = 'true' as help_requested,
    note,
    {{ iso_timestamp('updated_at_text') }} as updated_at,
    first_landed_at,
    landed_at,
    batch_seq
from fields
where not coalesce(is_deleted, false)
