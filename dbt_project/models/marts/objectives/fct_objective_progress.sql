-- Progress, forecast and risk of every objective of the cascade as of the run's date.
select
    objective_id,
    as_of_date,
    progress_pct,
    last_checkin_date,
    days_since_checkin,
    forecast_completion_date,
    forecast_slip_days,
    risk_status,
    is_leaf
from {{ ref('int_objectives__progress') }}
