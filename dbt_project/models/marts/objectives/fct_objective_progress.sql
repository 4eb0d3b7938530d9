-- Progress, forecast and risk of every objective of the cascade as of the run's date.
select
    objective_id,
    as_of_date,
    progress_pct,
    last_checkin_date,
    -- day counts are bigint on both adapters (datediff is bigint on DuckDB, integer on Postgres)
    cast(days_since_checkin as {{ dbt.type_bigint() }}) as days_since_checkin,
    forecast_completion_date,
    cast(forecast_slip_days as {{ dbt.type_bigint() }}) as forecast_slip_days,
    risk_status,
    is_leaf
from {{ ref('int_objectives__progress') }}
