-- HRIS email -> employee number, with how many distinct employees share it
-- (more than one makes the email ambiguous for matching).
with emails as (
    select distinct email, employee_number
    from {{ ref('stg_hris__users') }}
    where email is not null and employee_number is not null
)

select
    email,
    employee_number,
    {{ sha1_hex("concat('mailto:', email)") }} as mbox_sha1sum,
    count(*) over (partition by email) as employees_with_email
from emails
