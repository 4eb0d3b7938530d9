-- xAPI statements (immutable, keyed by id): actor identifiers, verb, object and
-- result flattened. Voiding is applied downstream (int_learning__statements_unvoided).
-- Incremental: a night parses only the statements landed since the last build (the
-- connector's re-reads land nothing new: statements are keyed by id); docs/internals.md.
{{ config(materialized='incremental', unique_key='statement_id', incremental_strategy='delete+insert',
          on_schema_change='fail') }}
with latest as (
    {{ latest_versions(source('xapi', 'statements')) }}
),

fields as (
    select
        record_id as statement_id,
        batch_seq,
        first_landed_at,
        landed_at,
        source_updated_at,
        {{ json_text_columns('payload', {
            'actor_object_type': ['actor', 'objectType'],
            'actor_mbox_raw': ['actor', 'mbox'],
            'actor_mbox_sha1sum_raw': ['actor', 'mbox_sha1sum'],
            'actor_account_homepage_raw': ['actor', 'account', 'homePage'],
            'actor_account_name_raw': ['actor', 'account', 'name'],
            'actor_openid': ['actor', 'openid'],
            'verb_id': ['verb', 'id'],
            'object_type': ['object', 'objectType'],
            'object_id': ['object', 'id'],
            'success_text': ['result', 'success'],
            'completion_text': ['result', 'completion'],
            'score_scaled_text': ['result', 'score', 'scaled'],
            'result_duration': ['result', 'duration'],
            'timestamp_text': 'timestamp',
            'stored_text': 'stored',
        }) }}
    from latest
),

parsed as (
    select
        statement_id,
        batch_seq,
        first_landed_at,
        landed_at,
        actor_object_type,
        actor_mbox_raw,
        actor_mbox_sha1sum_raw,
        trim(actor_account_homepage_raw) as actor_account_homepage,
        trim(actor_account_name_raw) as actor_account_name,
        actor_openid,
        verb_id,
        object_type,
        object_id,
        success_text,
        completion_text,
        {{ dbt.safe_cast('score_scaled_text', dbt.type_numeric()) }} as score_scaled,
        result_duration,
        {{ iso_timestamp('timestamp_text') }} as statement_timestamp,
        {{ iso_timestamp('stored_text') }} as stored_at_payload,
        {{ iso_timestamp('source_updated_at') }} as stored_at_source
    from fields
)

select
    statement_id,
    actor_object_type,
    -- mbox compared case-insensitively without its mailto: scheme
    {{ normalise_email("case when lower(trim(actor_mbox_raw)) like 'mailto:%' then substring(trim(actor_mbox_raw), 8) else actor_mbox_raw end") }} as actor_email,
    lower(trim(actor_mbox_sha1sum_raw)) as actor_mbox_sha1sum,
    actor_account_homepage,
    actor_account_name,
    -- one key per distinct actor, the grain of identity resolution
    case
        when actor_mbox_raw is not null
            then concat('mbox:', actor_mbox_raw)
        when actor_mbox_sha1sum_raw is not null
            then concat('mbox_sha1sum:', actor_mbox_sha1sum_raw)
        when actor_account_name is not null
            then concat('account:', coalesce(actor_account_homepage, ''), '|', actor_account_name)
        when actor_openid is not null
            then concat('openid:', actor_openid)
        else concat('unidentified:', coalesce(actor_object_type, 'Agent'))
    end as actor_key,
    verb_id,
    object_type,
    object_id,
    case lower(success_text) when 'true' then true when 'false' then false end as success,
    case lower(completion_text) when 'true' then true when 'false' then false end as completion,
    score_scaled,
    result_duration,
    {{ iso_duration_minutes('result_duration') }} as duration_minutes,
    -- timestamp is optional in xAPI; stored is set by the LRS
    coalesce(statement_timestamp, stored_at_payload, stored_at_source) as occurred_at,
    coalesce(stored_at_payload, stored_at_source) as stored_at,
    first_landed_at,
    landed_at,
    batch_seq
from parsed
