-- One row per HRIS employee number (the golden key). Should two SCIM users carry
-- the same number, the most recently modified one describes the employee (then the lowest SCIM id
-- as text, so the choice never depends on the order of a scan).
with ranked_users as (
    select
        stg_hris__users.*,
        row_number() over (
            partition by employee_number
            order by is_absent_from_source, last_modified_at desc, batch_seq desc, scim_id
        ) as user_rank,
        count(*) over (partition by employee_number) as scim_user_count
    from {{ ref('stg_hris__users') }}
    where employee_number is not null
)

select * from ranked_users where user_rank = 1
