-- Current state of each SCIM user: its latest landed version (email chosen in
-- base_hris__user_versions as the contract says: primary, else first `work`, else first).
with latest as (
    select scim_id, max(batch_seq) as batch_seq
    from {{ ref('base_hris__user_versions') }}
    group by scim_id
)

select v.*
from {{ ref('base_hris__user_versions') }} as v
inner join latest on v.scim_id = latest.scim_id and v.batch_seq = latest.batch_seq
