-- Every distinct source person record (int_identity__source_records) and the employee it
-- resolves to. One row per record, so resolved + exceptions = records per source
-- (CONTRACT 3, Identity). A key match (employee number, LRS account) wins over an
-- email match; an email shared by several employees is ambiguous.
with records as (
    select * from {{ ref('int_identity__source_records') }}
),

employees as (
    select employee_number from {{ ref('int_identity__hris_employees') }}
),

emails as (
    select * from {{ ref('int_identity__emails') }}
),

-- an xAPI actor's mbox_sha1sum may be the hash of the address lower-cased or as the HRIS
-- writes it (int_identity__emails): both, one row per email, so the match is an equi-join
-- (an `in (a, b)` join condition is a nested loop over every actor and every email)
sha1_keys as (
    select mbox_sha1sum, email, employee_number from emails where mbox_sha1sum is not null
    union
    select mbox_sha1sum_as_written, email, employee_number from emails where mbox_sha1sum_as_written is not null
),

-- an xAPI actor matches by its mbox (email) or its mbox_sha1sum
email_candidates as (
    select
        r.source_system,
        r.source_key,
        min(coalesce(by_email.employee_number, by_sha1.employee_number)) as candidate_by_email,
        count(coalesce(by_email.employee_number, by_sha1.employee_number)) as email_candidates,
        max(case when by_email.employee_number is not null then r.email_method
                 when by_sha1.employee_number is not null then 'mbox_sha1sum' end) as email_method
    from records as r
    left join emails as by_email on r.match_email = by_email.email
    left join sha1_keys as by_sha1 on r.match_mbox_sha1sum = by_sha1.mbox_sha1sum
    group by r.source_system, r.source_key
),

resolved as (
    select
        r.source_system,
        r.source_key,
        r.key_method,
        key_match.employee_number as key_employee_number,
        c.candidate_by_email,
        c.email_candidates,
        c.email_method,
        r.first_seen,
        r.last_seen
    from records as r
    inner join email_candidates as c on r.source_system = c.source_system and r.source_key = c.source_key
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
