-- Source person records that resolve to no employee, or to more than one.
select
    source_system,
    source_key,
    reason,
    first_seen,
    last_seen
from {{ ref('int_identity__links') }}
where reason is not null
