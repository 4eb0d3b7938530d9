-- Progress, forecast and risk of each objective from its own check-ins, as
-- used for a leaf (CONTRACT 3): progress = latest progress_pct (done -> 100, none -> 0);
-- rate = progress gained per day between first and latest check-in; forecast =
-- latest check-in + (100 - progress) / rate when the rate is positive.
-- An objective's own metrics need only its own row and its check-ins, not its place in
-- the cascade: int_objectives__progress combines them with the hierarchy.
with objectives as (
    select objective_id, due_date, status from {{ ref('stg_checkins__objectives') }}
),

checkins as (
    select
        objective_id,
        checkin_id,
        meeting_date,
        progress_pct,
        confidence,
        -- same-day check-ins: the one the source updated last is the later; then the id as
        -- text (ids are opaque: CHK-00010, UUIDs). A missing updated_at counts as earliest.
        row_number() over (
            partition by objective_id
            order by meeting_date, updated_at nulls first, checkin_id
        ) as first_rank,
        row_number() over (
            partition by objective_id
            order by meeting_date desc, updated_at desc nulls last, checkin_id desc
        ) as latest_rank,
        count(*) over (partition by objective_id) as checkin_count
    from {{ ref('stg_checkins__checkins') }}
    where meeting_date is not null
),

first_and_latest as (
    select
        f.objective_id,
        f.checkin_count,
        f.meeting_date as first_checkin_date,
        f.progress_pct as first_progress_pct,
        l.meeting_date as last_checkin_date,
        l.progress_pct as latest_progress_pct,
        l.confidence as latest_confidence
    from checkins as f
    inner join checkins as l on f.objective_id = l.objective_id and l.latest_rank = 1
    where f.first_rank = 1
),

rated as (
    select
        o.objective_id,
        o.due_date,
        o.status,
        coalesce(c.checkin_count, 0) as checkin_count,
        c.first_checkin_date,
        c.last_checkin_date,
        c.latest_confidence,
        -- no check-in yet: 0% (risk says no_data), so a parent's mean stays within its children's range
        cast(case when o.status = 'done' then 100 else coalesce(c.latest_progress_pct, 0) end as {{ type_double() }}) as progress_pct,
        case
            when {{ dbt.datediff('c.first_checkin_date', 'c.last_checkin_date', 'day') }} > 0
                then cast(c.latest_progress_pct - c.first_progress_pct as {{ type_double() }})
                    / {{ dbt.datediff('c.first_checkin_date', 'c.last_checkin_date', 'day') }}
        end as progress_rate_per_day
    from objectives as o
    left join first_and_latest as c on o.objective_id = c.objective_id
),

forecast as (
    select
        rated.*,
        case
            when progress_rate_per_day > 0 then cast({{ dbt.dateadd(
                'day',
                'cast(ceil(case when 100 - progress_pct > 0 then 100 - progress_pct else 0 end / progress_rate_per_day) as ' ~ dbt.type_int() ~ ')',
                'last_checkin_date') }} as date)
        end as forecast_completion_date
    from rated
),

slipped as (
    select
        forecast.*,
        {{ dbt.datediff('due_date', 'forecast_completion_date', 'day') }} as forecast_slip_days,
        {{ dbt.datediff('last_checkin_date', as_of_date(), 'day') }} as days_since_checkin
    from forecast
)

select
    objective_id,
    checkin_count,
    progress_pct,
    first_checkin_date,
    last_checkin_date,
    days_since_checkin,
    latest_confidence,
    progress_rate_per_day,
    forecast_completion_date,
    forecast_slip_days,
    case
        when progress_pct >= 100 then 'done'
        when checkin_count = 0 then 'no_data'
        when forecast_slip_days > {{ var('forecast_slip_tolerance_days', 14) }} then 'off_track'
        when forecast_completion_date is null and {{ as_of_date() }} > due_date then 'off_track'
        when latest_confidence in ('off_track', 'blocked') then 'off_track'
        when forecast_slip_days > 0 then 'at_risk'
        when latest_confidence = 'at_risk' then 'at_risk'
        when days_since_checkin > {{ var('checkin_stale_days', 14) }} then 'at_risk'
        else 'on_track'
    end as risk_status
from slipped
