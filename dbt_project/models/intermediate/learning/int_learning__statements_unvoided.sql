-- Statements with every statement referenced by a voiding StatementRef removed,
-- whichever run either arrived in; voiding statements themselves are dropped too.
-- Incremental: a night adds the statements landed since the last build that nothing voids,
-- and a voiding statement landed on a later night removes its target already built
-- (post_hook); docs/internals.md.
{{ config(materialized='incremental', unique_key='statement_id', incremental_strategy='delete+insert',
          on_schema_change='fail', post_hook="{{ delete_voided() }}") }}

with statements as (
    select * from {{ ref('stg_xapi__statements') }}
),

voided_ids as (
    select distinct object_id as statement_id
    from statements
    where verb_id = 'http://adlnet.gov/expapi/verbs/voided'
        and object_type = 'StatementRef'
)

select s.*
from statements as s
left join voided_ids as v on s.statement_id = v.statement_id
where v.statement_id is null
    and s.verb_id <> 'http://adlnet.gov/expapi/verbs/voided'
{%- if is_incremental() %}
    and s.batch_seq > {{ built_batch_seq() }}
{%- endif %}
