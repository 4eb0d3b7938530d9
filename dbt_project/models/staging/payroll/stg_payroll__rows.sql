-- Payroll rows of the latest export per period_end only: a later export of the
-- same period supersedes the earlier one (CONTRACT 2.5).
with all_rows as (
    select
        r.*,
        max(r.exported_at) over (partition by r.period_end) as latest_exported_at
    from {{ ref('base_payroll__row_versions') }} as r
)

select * from all_rows
where exported_at = latest_exported_at
