-- xAPI statements (immutable, keyed by id): actor identifiers, verb, object and
-- result flattened. Voiding is applied downstream (int_learning__statements_unvoided).
with latest as (
    {{ latest_versions(source('raw', 'xapi__statements')) }}
),

parsed as (
    select
        record_id as statement_id,
        first_landed_at,
        landed_at,
        {{ json_text('payload', ['actor', 'objectType']) }} as actor_object_type,
        {{ json_text('payload', ['actor', 'mbox']) }} as actor_mbox_raw,
        {{ json_text('payload', ['actor', 'mbox_sha1sum']) }} as actor_mbox_sha1sum_raw,
        trim({{ json_text('payload', ['actor', 'account', 'homePage']) }}) as actor_account_homepage,
        trim({{ json_text('payload', ['actor', 'account', 'name']) }}) as actor_account_name,
        {{ json_text('payload', ['actor', 'openid']) }} as actor_openid,
        {{ json_text('payload', ['verb', 'id']) }} as verb_id,
        {{ json_text('payload', ['object', 'objectType']) }} as object_type,
        {{ json_text('payload', ['object', 'id']) }} as object_id,
        {{ json_text('payload', ['result', 'success']) }} as success_text,
        {{ json_text('payload', ['result', 'completion']) }} as completion_text,
        {{ dbt.safe_cast(json_text('payload', ['result', 'score', 'scaled']), dbt.type_numeric()) }} as score_scaled,
        {{ json_text('payload', ['result', 'duration']) }} as result_duration,
        {{ iso_timestamp(json_text('payload', 'timestamp')) }} as statement_timestamp,
        {{ iso_timestamp(json_text('payload', 'stored')) }} as stored_at_payload,
        {{ iso_timestamp('source_updated_at') }} as stored_at_source
    from latest
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
    landed_at
from parsed
