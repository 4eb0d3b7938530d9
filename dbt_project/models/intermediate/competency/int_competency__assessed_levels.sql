-- Assessed level per employee and competency, in the latest cycle that rated
-- it: the manager's rating; else the mean of peer and direct-report ratings;
-- else the self rating (CONTRACT 3). Several ratings of one kind are averaged;
-- levels are floats so means compare alike on every adapter.
with ratings as (
    select employee_number, competency_id, cycle, rater_type, rating
    from {{ ref('int_competency__assessments_resolved') }}
    where employee_number is not null and competency_id is not null and rating is not null
),

latest_cycle as (
    select employee_number, competency_id, max(cycle) as cycle
    from ratings
    group by employee_number, competency_id
),

by_kind as (
    select
        r.employee_number,
        r.competency_id,
        r.cycle,
        cast(avg(case when r.rater_type = 'manager' then r.rating end) as {{ type_double() }}) as manager_rating,
        cast(avg(case when r.rater_type in ('peer', 'direct_report') then r.rating end) as {{ type_double() }}) as others_mean,
        cast(avg(case when r.rater_type = 'self' then r.rating end) as {{ type_double() }}) as self_rating
    from ratings as r
    inner join latest_cycle as l
        on r.employee_number = l.employee_number
        and r.competency_id = l.competency_id
        and r.cycle = l.cycle
    group by r.employee_number, r.competency_id, r.cycle
)

select
    employee_number,
    competency_id,
    cycle as assessed_cycle,
    self_rating,
    manager_rating,
    others_mean,
    coalesce(manager_rating, others_mean, self_rating) as assessed_level
from by_kind
