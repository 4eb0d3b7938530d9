select
    run_id,
    cast(pulled_at as {{ dbt.type_timestamp() }}) as pulled_at,
    cast(pull_date as date) as pull_date,
    cast(users_seen as {{ dbt.type_bigint() }}) as users_seen,
    cast(users_marked_absent as {{ dbt.type_bigint() }}) as users_marked_absent
from {{ source('hris', 'full_pulls') }}
