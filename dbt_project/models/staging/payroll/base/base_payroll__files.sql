-- Every payroll file seen, and which export of each period counts (CONTRACT 2.5, docs/contract.md):
-- among the loaded, not withdrawn exports of a period_end, the latest export stamp; of two exports
-- with the same stamp (a file re-sent under its own name with other bytes), the later landed.
with files as (
    select
        f.file_sha256,
        f.file_name,
        cast(f.period_end as date) as period_end,
        cast(f.exported_at as {{ dbt.type_timestamp() }}) as exported_at,
        cast(f.rows_loaded as {{ dbt.type_bigint() }}) as rows_loaded,
        cast(f.rows_quarantined as {{ dbt.type_bigint() }}) as rows_quarantined,
        f.status,
        f.reason,
        f.run_id,
        cast(f.landed_at as {{ dbt.type_timestamp() }}) as landed_at,
        w.file_sha256 is not null as is_withdrawn,
        w.withdrawn_at
    from {{ source('payroll', 'files') }} as f
    left join (
        select file_sha256, min(withdrawn_at) as withdrawn_at
        from {{ source('payroll', 'withdrawals') }}
        group by file_sha256
    ) as w on w.file_sha256 = f.file_sha256
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
