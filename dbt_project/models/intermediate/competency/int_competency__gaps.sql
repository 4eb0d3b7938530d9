-- Gap per employee and required competency, and the course recommended for it:
-- the mapped course with the smallest target_level >= required_level (ties: lowest id as text).
with requirements as (
    select * from {{ ref('int_competency__employee_requirements') }}
),

assessed as (
    select * from {{ ref('int_competency__assessed_levels') }}
),

course_targets as (
    select course_id, competency_id, target_level
    from {{ ref('stg_lms__course_competencies') }}
    where target_level is not null
),

candidate_courses as (
    select
        r.employee_number,
        r.competency_id,
        c.course_id,
        row_number() over (
            partition by r.employee_number, r.competency_id
            -- ids are opaque text (crs-105, 00042): ties go to the lowest id as text
            order by c.target_level, c.course_id
        ) as course_rank
    from requirements as r
    inner join course_targets as c
        on r.competency_id = c.competency_id and c.target_level >= r.required_level
),

completed_courses as (
    select distinct employee_number, course_id
    from {{ ref('int_learning__events') }}
    where is_completion
)

select
    r.employee_number,
    r.competency_id,
    r.required_level,
    a.assessed_level,
    a.assessed_cycle,
    a.self_rating,
    a.manager_rating,
    a.others_mean,
    case
        when a.assessed_level is null then null
        when r.required_level - a.assessed_level > 0 then r.required_level - a.assessed_level
        else 0
    end as gap,
    case
        when a.assessed_level is null then 'unassessed'
        when r.required_level - a.assessed_level > 0 then 'gap'
        else 'met'
    end as gap_status,
    cc.course_id as recommended_course_id,
    case when cc.course_id is not null then done.course_id is not null end as recommended_course_completed
from requirements as r
left join assessed as a
    on r.employee_number = a.employee_number and r.competency_id = a.competency_id
left join candidate_courses as cc
    on r.employee_number = cc.employee_number and r.competency_id = cc.competency_id and cc.course_rank = 1
left join completed_courses as done
    on r.employee_number = done.employee_number and cc.course_id = done.course_id
