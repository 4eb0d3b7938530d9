select
    file_sha256,
    file_name,
    cast(period_end as date) as period_end,
    cast(exported_at as {{ dbt.type_timestamp() }}) as exported_at,
    cast(rows_loaded as {{ dbt.type_bigint() }}) as rows_loaded,
    cast(rows_quarantined as {{ dbt.type_bigint() }}) as rows_quarantined,
    status,
    reason,
    run_id,
    landed_at
from {{ source('payroll', 'files') }}
