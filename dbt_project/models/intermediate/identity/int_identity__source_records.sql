-- Every distinct source person record, as the source sent it: its key candidate (an
-- employee number or LRS account) and the email or mbox SHA-1 it may be matched by.
-- One row per record; int_identity__links resolves them against the HRIS.
{% set homepage = var('lrs_account_homepage', '') or env_var('LRS_ACCOUNT_HOMEPAGE', '') %}

-- HRIS users resolve by their own employee number only
with hris as (
    select
        'hris' as source_system,
        scim_id as source_key,
        employee_number as candidate_employee_number,
        'employee_number' as key_method,
        cast(null as {{ dbt.type_string() }}) as match_email,
        cast(null as {{ dbt.type_string() }}) as match_mbox_sha1sum,
        cast(null as {{ dbt.type_string() }}) as email_method,
        first_landed_at as first_seen,
        landed_at as last_seen
    from {{ ref('stg_hris__users') }}
),

-- source keys are the values as the source sent them; matching uses the normalised form
payroll as (
    select
        'payroll' as source_system,
        employee_number_raw as source_key,
        max(employee_number) as candidate_employee_number,
        'employee_number' as key_method,
        cast(null as {{ dbt.type_string() }}) as match_email,
        cast(null as {{ dbt.type_string() }}) as match_mbox_sha1sum,
        cast(null as {{ dbt.type_string() }}) as email_method,
        min(first_landed_at) as first_seen,
        max(landed_at) as last_seen
    from {{ ref('stg_payroll__rows') }}
    where employee_number is not null
    group by employee_number_raw
),

lms as (
    select
        'lms' as source_system,
        lms_user_id as source_key,
        employee_number as candidate_employee_number,
        'employee_number' as key_method,
        email as match_email,
        cast(null as {{ dbt.type_string() }}) as match_mbox_sha1sum,
        'email' as email_method,
        first_landed_at as first_seen,
        landed_at as last_seen
    from {{ ref('stg_lms__users') }}
),

-- an xAPI account name is an employee number only under the bridge's LRS homePage
xapi as (
    select
        'xapi' as source_system,
        actor_key as source_key,
        {{ normalise_employee_number("max(case when actor_account_homepage = '" ~ homepage ~ "' then actor_account_name end)") }}
            as candidate_employee_number,
        'account' as key_method,
        max(actor_email) as match_email,
        max(actor_mbox_sha1sum) as match_mbox_sha1sum,
        'mbox' as email_method,
        min(first_landed_at) as first_seen,
        max(landed_at) as last_seen
    from {{ ref('stg_xapi__statements') }}
    group by actor_key
),

checkin_emails as (
    select owner_email_raw as email_raw, owner_email as email, first_landed_at, landed_at
    from {{ ref('stg_checkins__objectives') }}
    union all
    select employee_email_raw, employee_email, first_landed_at, landed_at from {{ ref('stg_checkins__checkins') }}
    union all
    select manager_email_raw, manager_email, first_landed_at, landed_at from {{ ref('stg_checkins__checkins') }}
),

checkins as (
    select
        'checkins' as source_system,
        email_raw as source_key,
        cast(null as {{ dbt.type_string() }}) as candidate_employee_number,
        'employee_number' as key_method,
        max(email) as match_email,
        cast(null as {{ dbt.type_string() }}) as match_mbox_sha1sum,
        'email' as email_method,
        min(first_landed_at) as first_seen,
        max(landed_at) as last_seen
    from checkin_emails
    where email is not null
    group by email_raw
)

select * from hris
union all select * from payroll
union all select * from lms
union all select * from xapi
union all select * from checkins
