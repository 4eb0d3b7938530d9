-- HRIS active employees against payroll employees active (active or on_leave)
-- in the latest period, by cost center. A person is matched in a cost center when
-- both systems have them active there; someone the two systems place in different
-- cost centers is hris_only in one and payroll_only in the other (a finding), so
-- matched + hris_only = hris_active and matched + payroll_only = payroll_active.
with hris_active as (
    select employee_number, cost_center
    from {{ ref('int_employees__current') }}
    where is_active
),

payroll_active as (
    select
        coalesce(resolved_employee_number, concat('payroll:', employee_number)) as employee_key,
        max(cost_center) as cost_center
    from {{ ref('int_payroll__latest_period_rows') }}
    where employment_status in ('active', 'on_leave') and employee_number is not null
    group by coalesce(resolved_employee_number, concat('payroll:', employee_number))
),

hris_side as (
    select
        h.cost_center,
        count(*) as hris_active,
        cast(sum(case when pa.cost_center = h.cost_center then 1 else 0 end) as {{ dbt.type_bigint() }}) as matched,
        cast(sum(case when pa.cost_center = h.cost_center then 0 else 1 end) as {{ dbt.type_bigint() }}) as hris_only
    from hris_active as h
    left join payroll_active as pa on h.employee_number = pa.employee_key
    group by h.cost_center
),

payroll_side as (
    select
        pa.cost_center,
        count(*) as payroll_active,
        cast(sum(case when h.cost_center = pa.cost_center then 0 else 1 end) as {{ dbt.type_bigint() }}) as payroll_only
    from payroll_active as pa
    left join hris_active as h on pa.employee_key = h.employee_number
    group by pa.cost_center
),

cost_centers as (
    select cost_center from hris_side
    union
    select cost_center from payroll_side
)

select
    coalesce(cc.cost_center, '(none)') as cost_center,
    coalesce(h.hris_active, 0) as hris_active,
    coalesce(p.payroll_active, 0) as payroll_active,
    coalesce(h.matched, 0) as matched,
    coalesce(h.hris_only, 0) as hris_only,
    coalesce(p.payroll_only, 0) as payroll_only
from cost_centers as cc
left join hris_side as h on cc.cost_center is not distinct from h.cost_center
left join payroll_side as p on cc.cost_center is not distinct from p.cost_center
