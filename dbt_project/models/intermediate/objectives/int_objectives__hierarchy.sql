-- The objective cascade walked down from its anchors: strategic objectives
-- (no parent) and orphans (parent missing), which root their own subtree and
-- stay listed. Objectives never reached are in (or under) a parent cycle and
-- are left out here; int_objectives__exceptions lists them. The walk is bounded
-- by var max_objective_depth, so bad data can never make it loop.
with objectives as (
    select * from {{ ref('stg_checkins__objectives') }}
),

anchors as (
    select
        o.objective_id,
        o.parent_objective_id is not null as is_orphan
    from objectives as o
    left join objectives as parent on o.parent_objective_id = parent.objective_id
    where o.parent_objective_id is null or parent.objective_id is null
),

-- the recursive walk sits in a derived table: dbt injects unit-test fixtures
-- as CTEs into the model's top-level with clause, which must not be recursive
tree as (
    select * from (
        with recursive walk as (
            select
                objective_id,
                objective_id as root_objective_id,
                0 as depth,
                is_orphan
            from anchors
            union all
            select
                child.objective_id,
                walk.root_objective_id,
                walk.depth + 1 as depth,
                false as is_orphan
            from walk
            inner join objectives as child on child.parent_objective_id = walk.objective_id
            where walk.depth < {{ var('max_objective_depth', 50) }}
        )

        select * from walk
    ) as walked
)

select
    o.objective_id,
    -- an orphan's missing parent is kept visible in the raw id, not as a key
    case when tree.is_orphan then null else o.parent_objective_id end as parent_objective_id,
    o.parent_objective_id as source_parent_objective_id,
    tree.root_objective_id,
    tree.depth,
    tree.is_orphan,
    o.level,
    o.title,
    o.owner_email,
    o.owner_email_raw,
    o.org_unit,
    o.period,
    o.start_date,
    o.due_date,
    o.weight,
    o.status
from objectives as o
inner join tree on o.objective_id = tree.objective_id
