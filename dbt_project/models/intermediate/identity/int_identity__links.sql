-- Every distinct source person record and the employee it resolves to. One row
-- per record, so resolved + exceptions = records per source (CONTRACT 3, Identity).
{% set homepage = var('lrs_account_homepage', '') or env_var('LRS_ACCOUNT_HOMEPAGE', '') %}

with employees as (
    select employee_number from {{ ref('int_identity__hris_employees') }}
),

emails as (
    select * from {{ ref('int_identity__emails') }}
),

hris as (
    select
        'hris' as source_system,
        scim_id as source_key,
        employee_number as candidate_employee_number,
        cast(null as {{ dbt.type_string() }}) as candidate_by_email,
        0 as email_candidates,
        'employee_number' as key_method,
        cast(null as {{ dbt.type_string() }}) as email_method,
        first_landed_at as first_seen,
        landed_at as last_seen
    from {{ ref('stg_hris__users') }}
),

-- source keys are the values as the source sent them; matching uses the normalised form
payroll_people as (
    select
        employee_number_raw,
        max(employee_number) as employee_number,
        min(first_landed_at) as first_seen,
        max(landed_at) as last_seen
    from {{ ref('stg_payroll__rows') }}
    where employee_number is not null
    group by employee_number_raw
),

payroll as (
    select
        'payroll' as source_system,
        employee_number_raw as source_key,
        employee_number as candidate_employee_number,
        cast(null as {{ dbt.type_string() }}) as candidate_by_email,
        0 as email_candidates,
        'employee_number' as key_method,
        cast(null as {{ dbt.type_string() }}) as email_method,
        first_seen,
        last_seen
    from payroll_people
),

lms_email_candidates as (
    select
        u.lms_user_id,
        min(e.employee_number) as candidate_by_email,
        count(e.employee_number) as email_candidates
    from {{ ref('stg_lms__users') }} as u
    left join emails as e on u.email = e.email
    group by u.lms_user_id
),

lms as (
    select
        'lms' as source_system,
        u.lms_user_id as source_key,
        u.employee_number as candidate_employee_number,
        c.candidate_by_email,
        c.email_candidates,
        'employee_number' as key_method,
        'email' as email_method,
        u.first_landed_at as first_seen,
        u.landed_at as last_seen
    from {{ ref('stg_lms__users') }} as u
    inner join lms_email_candidates as c on u.lms_user_id = c.lms_user_id
),

xapi_actors as (
    select
        actor_key,
        max(actor_email) as actor_email,
        max(actor_mbox_sha1sum) as actor_mbox_sha1sum,
        max(case when actor_account_homepage = '{{ homepage }}' then actor_account_name end) as account_name,
        min(first_landed_at) as first_seen,
        max(landed_at) as last_seen
    from {{ ref('stg_xapi__statements') }}
    group by actor_key
),

xapi_candidates as (
    select
        a.actor_key,
        min(coalesce(by_mbox.employee_number, by_sha1.employee_number)) as candidate_by_email,
        count(coalesce(by_mbox.employee_number, by_sha1.employee_number)) as email_candidates,
        max(case when by_mbox.employee_number is not null then 'mbox'
                 when by_sha1.employee_number is not null then 'mbox_sha1sum' end) as email_method
    from xapi_actors as a
    left join emails as by_mbox on a.actor_email = by_mbox.email
    left join emails as by_sha1
        on a.actor_mbox_sha1sum in (by_sha1.mbox_sha1sum, by_sha1.mbox_sha1sum_as_written)
    group by a.actor_key
),

xapi as (
    select
        'xapi' as source_system,
        a.actor_key as source_key,
        {{ normalise_employee_number('a.account_name') }} as candidate_employee_number,
        c.candidate_by_email,
        c.email_candidates,
        'account' as key_method,
        c.email_method,
        a.first_seen,
        a.last_seen
    from xapi_actors as a
    inner join xapi_candidates as c on a.actor_key = c.actor_key
),

checkin_emails as (
    select owner_email_raw as email_raw, owner_email as email, first_landed_at, landed_at
    from {{ ref('stg_checkins__objectives') }}
    union all
    select employee_email_raw, employee_email, first_landed_at, landed_at from {{ ref('stg_checkins__checkins') }}
    union all
    select manager_email_raw, manager_email, first_landed_at, landed_at from {{ ref('stg_checkins__checkins') }}
),

checkin_people as (
    select email_raw, max(email) as email, min(first_landed_at) as first_seen, max(landed_at) as last_seen
    from checkin_emails
    where email is not null
    group by email_raw
),

checkins as (
    select
        'checkins' as source_system,
        p.email_raw as source_key,
        cast(null as {{ dbt.type_string() }}) as candidate_employee_number,
        min(e.employee_number) as candidate_by_email,
        count(e.employee_number) as email_candidates,
        'employee_number' as key_method,
        'email' as email_method,
        p.first_seen,
        p.last_seen
    from checkin_people as p
    left join emails as e on p.email = e.email
    group by p.email_raw, p.first_seen, p.last_seen
),

all_records as (
    select * from hris
    union all select * from payroll
    union all select * from lms
    union all select * from xapi
    union all select * from checkins
),

-- a key match (employee number, LRS account) wins over an email match
resolved as (
    select
        r.*,
        key_match.employee_number as key_employee_number
    from all_records as r
    left join employees as key_match on r.candidate_employee_number = key_match.employee_number
)

select
    source_system,
    source_key,
    case
        when key_employee_number is not null then key_employee_number
        when email_candidates = 1 then candidate_by_email
    end as employee_number,
    case
        when key_employee_number is not null then key_method
        when email_candidates = 1 then email_method
    end as match_method,
    case
        when key_employee_number is not null then null
        when email_candidates = 1 then null
        when email_candidates > 1 then 'ambiguous'
        else 'no_match'
    end as reason,
    first_seen,
    last_seen
from resolved
