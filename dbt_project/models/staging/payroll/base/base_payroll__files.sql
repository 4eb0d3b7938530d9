-- Every payroll file seen, and which export of each period counts (docs/contract.md section 2.5):
-- among the loaded, not withdrawn exports of a period_end, the latest export stamp; of two exports
-- with the same stamp (a file re-sent under its own name with other bytes), the later landed.
with files as (
    select
        f.*,
        w.file_sha256 is not null as is_withdrawn,
        w.withdrawn_at
    from {{ ref('base_payroll__file_loads') }} as f
    left join {{ ref('base_payroll__withdrawals') }} as w on w.file_sha256 = f.file_sha256
),

ranked as (
    select
        *,
        case when status = 'loaded' and not is_withdrawn then row_number() over (
            partition by period_end, status = 'loaded' and not is_withdrawn
            order by exported_at desc, landed_at desc, file_sha256 desc
        ) end as export_rank
    from files
)

select
    file_sha256,
    file_name,
    period_end,
    exported_at,
    rows_loaded,
    rows_quarantined,
    status,
    reason,
    run_id,
    landed_at,
    is_withdrawn,
    withdrawn_at,
    coalesce(export_rank = 1, false) as is_current_export,
    case
        when status <> 'loaded' then status
        when is_withdrawn then 'withdrawn'
        when export_rank = 1 then 'current'
        else 'superseded'
    end as file_status
from ranked
