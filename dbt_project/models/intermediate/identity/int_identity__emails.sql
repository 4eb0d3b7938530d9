-- HRIS email -> employee number, with how many distinct employees share it
-- (more than one makes the email ambiguous for matching). xAPI's mbox_sha1sum is the SHA-1 of
-- the mbox as the LRS wrote it: an LRS may lower-case the address or keep the HRIS's case, so
-- both hashes are kept (should two SCIM users of one employee spell it differently, one of them).
with emails as (
    select email, employee_number, min(email_as_written) as email_as_written
    from {{ ref('stg_hris__users') }}
    where email is not null and employee_number is not null
    group by email, employee_number
)

select
    email,
    employee_number,
    {{ sha1_hex("concat('mailto:', email)") }} as mbox_sha1sum,
    {{ sha1_hex("concat('mailto:', coalesce(email_as_written, email))") }} as mbox_sha1sum_as_written,
    count(*) over (partition by email) as employees_with_email
from emails
