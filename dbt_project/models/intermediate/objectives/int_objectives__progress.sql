-- Roll-up of progress, forecast and risk through the cascade. A parent's
-- progress is the weight-averaged progress of its non-cancelled children; by
-- linearity that is the sum over its effective leaves (objectives without
-- non-cancelled children) of leaf progress x the product of weight shares on
-- the path. A parent's forecast is its latest child forecast and its risk the
-- worst child risk; a child without check-ins counts as 0% in the average.
with nodes as (
    select objective_id, parent_objective_id, weight, status, due_date
    from {{ ref('int_objectives__hierarchy') }}
),

own as (
    select * from {{ ref('int_objectives__own_metrics') }}
),

active_children as (
    select parent_objective_id, sum(weight) as total_weight
    from nodes
    where status <> 'cancelled' and parent_objective_id is not null
    group by parent_objective_id
),

edges as (
    select
        n.parent_objective_id,
        n.objective_id,
        cast(n.weight as {{ type_double() }}) / ac.total_weight as weight_share
    from nodes as n
    inner join active_children as ac on n.parent_objective_id = ac.parent_objective_id
    where n.status <> 'cancelled'
),

-- ancestor -> descendant paths with the product of weight shares; recursive
-- walk in a derived table (see int_objectives__hierarchy)
closure as (
    select * from (
        with recursive paths as (
            select
                objective_id as ancestor_id,
                objective_id as descendant_id,
                cast(1.0 as {{ type_double() }}) as path_share,
                0 as hops
            from nodes
            union all
            select
                paths.ancestor_id,
                edges.objective_id as descendant_id,
                paths.path_share * edges.weight_share as path_share,
                paths.hops + 1 as hops
            from paths
            inner join edges on edges.parent_objective_id = paths.descendant_id
            where paths.hops < {{ var('max_objective_depth', 50) }}
        )

        select * from paths
    ) as walked
),

leaves as (
    select nodes.objective_id
    from nodes
    left join active_children as ac on nodes.objective_id = ac.parent_objective_id
    where ac.parent_objective_id is null
),

leaf_descendants as (
    select
        closure.ancestor_id,
        closure.path_share,
        own.progress_pct,
        own.forecast_completion_date,
        own.last_checkin_date,
        own.risk_status,
        case own.risk_status
            when 'off_track' then 5 when 'at_risk' then 4 when 'no_data' then 3
            when 'on_track' then 2 when 'done' then 1
        end as risk_rank
    from closure
    inner join leaves on closure.descendant_id = leaves.objective_id
    inner join own on closure.descendant_id = own.objective_id
),

rolled_up as (
    select
        ancestor_id as objective_id,
        sum(path_share * coalesce(progress_pct, 0)) as progress_pct,
        max(forecast_completion_date) as forecast_completion_date,
        max(risk_rank) as risk_rank
    from leaf_descendants
    group by ancestor_id
),

-- the latest check-in anywhere under the objective (its own included)
latest_checkin as (
    select closure.ancestor_id as objective_id, max(own.last_checkin_date) as last_checkin_date
    from closure
    inner join own on closure.descendant_id = own.objective_id
    group by closure.ancestor_id
),

combined as (
    select
        nodes.objective_id,
        nodes.due_date,
        case when leaves.objective_id is not null then own.progress_pct else r.progress_pct end as progress_pct,
        lc.last_checkin_date,
        case when leaves.objective_id is not null then own.forecast_completion_date
             else r.forecast_completion_date end as forecast_completion_date,
        case when leaves.objective_id is not null then own.risk_status
             else case r.risk_rank
                 when 5 then 'off_track' when 4 then 'at_risk' when 3 then 'no_data'
                 when 2 then 'on_track' when 1 then 'done'
             end
        end as risk_status,
        leaves.objective_id is not null as is_leaf
    from nodes
    left join leaves on nodes.objective_id = leaves.objective_id
    left join own on nodes.objective_id = own.objective_id
    left join rolled_up as r on nodes.objective_id = r.objective_id
    left join latest_checkin as lc on nodes.objective_id = lc.objective_id
)

select
    objective_id,
    {{ as_of_date() }} as as_of_date,
    cast(round(cast(progress_pct as {{ dbt.type_numeric() }}), 2) as {{ type_double() }}) as progress_pct,
    last_checkin_date,
    {{ dbt.datediff('last_checkin_date', as_of_date(), 'day') }} as days_since_checkin,
    forecast_completion_date,
    {{ dbt.datediff('due_date', 'forecast_completion_date', 'day') }} as forecast_slip_days,
    risk_status,
    is_leaf
from combined
