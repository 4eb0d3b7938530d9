-- The objective cascade. Orphans (parent missing) are kept as the root of
-- their own subtree (is_orphan); objectives in a parent cycle are excluded and
-- listed in rpt_objective_exception.
{{ config(indexes=postgres_index(['objective_id'])) }}
with owners as (
    select source_key, employee_number from {{ ref('int_identity__links') }} where source_system = 'checkins'
)

select
    h.objective_id,
    h.parent_objective_id,
    h.root_objective_id,
    h.level,
    h.depth,
    h.title,
    owners.employee_number as owner_employee_number,
    h.org_unit,
    h.period,
    h.start_date,
    h.due_date,
    h.weight,
    h.status,
    h.is_orphan,
    h.source_parent_objective_id
from {{ ref('int_objectives__hierarchy') }} as h
left join owners on h.owner_email_raw = owners.source_key
