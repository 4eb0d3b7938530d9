-- Objectives the cascade cannot place: orphans (parent missing; kept in the
-- cascade as their own root) and objectives in or under a parent cycle
-- (excluded from the cascade).
with objectives as (
    select * from {{ ref('stg_checkins__objectives') }}
),

placed as (
    select objective_id, is_orphan from {{ ref('int_objectives__hierarchy') }}
)

select o.objective_id, o.parent_objective_id as source_parent_objective_id, 'orphan' as reason
from objectives as o
inner join placed as p on o.objective_id = p.objective_id
where p.is_orphan
union all
select o.objective_id, o.parent_objective_id, 'cycle' as reason
from objectives as o
left join placed as p on o.objective_id = p.objective_id
where p.objective_id is null
