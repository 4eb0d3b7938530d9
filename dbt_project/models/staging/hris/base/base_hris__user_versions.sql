-- Every landed version of every SCIM user, parsed (with the contract's email choice): the
-- base of the SCD2 history and of the current-state model stg_hris__users. Absent-from-full-pull versions are flagged.
{% set ent = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' %}
{% set emp = 'urn:hris-lms-bridge:scim:extension:employment:1.0:User' %}

with versions as (
    select
        r.*,
        min(r.landed_at) over (partition by r.record_id) as first_landed_at
    from {{ source('hris', 'users') }} as r
),

-- the contract's email choice, per version: primary, else first `work`, else first
emails as (
    select
        versions.record_id,
        versions.batch_seq,
        {{ normalise_email(json_text('e.value', 'value')) }} as email,
        -- as the HRIS spells it (trimmed only): an LRS may hash the mbox with this case (mbox_sha1sum)
        nullif(trim({{ json_text('e.value', 'value') }}), '') as email_as_written,
        row_number() over (
            partition by versions.record_id, versions.batch_seq
            order by
                case when lower(coalesce({{ json_text('e.value', 'primary') }}, 'false')) = 'true' then 0
                     when lower({{ json_text('e.value', 'type') }}) = 'work' then 1
                     else 2 end,
                {{ json_array_index('e') }}
        ) as email_rank
    from versions
    {{ json_array_join('versions.payload', 'emails', 'e') }}
    where nullif(trim({{ json_text('e.value', 'value') }}), '') is not null
),

fields as (
    select
        record_id as scim_id,
        batch_seq,
        first_landed_at,
        landed_at,
        coalesce(is_deleted, false) as is_absent_from_source,
        source_updated_at as source_updated_at_text,
        {{ json_text_columns('payload', {
            'external_id': 'externalId',
            'user_name': 'userName',
            'display_name': 'displayName',
            'given_name': ['name', 'givenName'],
            'family_name': ['name', 'familyName'],
            'title_text': 'title',
            'active_text': 'active',
            'created_text': ['meta', 'created'],
            'last_modified_text': ['meta', 'lastModified'],
            'employee_number_raw': [ent, 'employeeNumber'],
            'department': [ent, 'department'],
            'division': [ent, 'division'],
            'organization': [ent, 'organization'],
            'cost_center': [ent, 'costCenter'],
            'manager_scim_id': [ent, 'manager', 'value'],
            'hire_date_text': [emp, 'hireDate'],
            'termination_date_text': [emp, 'terminationDate'],
            'source_termination_reason': [emp, 'terminationReason'],
            'employment_type': [emp, 'employmentType'],
            'fte_text': [emp, 'fte'],
            'location': [emp, 'location'],
            'frontline_text': [emp, 'frontline'],
            'job_code': [emp, 'jobCode'],
        }) }}
    from versions
),

parsed as (
    select
        scim_id,
        batch_seq,
        first_landed_at,
        landed_at,
        is_absent_from_source,
        external_id,
        user_name,
        display_name,
        given_name,
        family_name,
        nullif(title_text, '') as source_title,
        active_text,
        {{ iso_timestamp('created_text') }} as created_at,
        {{ iso_timestamp('last_modified_text') }} as last_modified_at,
        {{ iso_timestamp('source_updated_at_text') }} as source_updated_at,
        employee_number_raw,
        department,
        division,
        organization,
        cost_center,
        manager_scim_id,
        {{ iso_date('hire_date_text') }} as hire_date,
        {{ iso_date('termination_date_text') }} as source_termination_date,
        source_termination_reason,
        employment_type,
        {{ dbt.safe_cast('fte_text', dbt.type_numeric()) }} as fte,
        location,
        frontline_text,
        job_code
    from fields
)

select
    parsed.scim_id,
    parsed.batch_seq,
    first_landed_at,
    landed_at,
    is_absent_from_source,
    chosen_email.email,
    chosen_email.email_as_written,
    {{ normalise_employee_number('employee_number_raw') }} as employee_number,
    employee_number_raw,
    external_id,
    user_name,
    coalesce(
        nullif(trim(display_name), ''),
        nullif(trim(concat(coalesce(given_name, ''), ' ', coalesce(family_name, ''))), '')
    ) as full_name,
    given_name,
    family_name,
    source_title,
    department,
    division,
    organization,
    cost_center,
    manager_scim_id,
    -- SCIM: active absent means active; a user absent from a full pull is not
    (lower(coalesce(active_text, 'true')) = 'true' and not is_absent_from_source) as is_scim_active,
    created_at,
    last_modified_at,
    source_updated_at,
    -- valid_from of the version: lastModified, or the pull date when absent
    cast(case
        when is_absent_from_source then source_updated_at
        else coalesce(last_modified_at, source_updated_at, landed_at)
    end as date) as version_date,
    hire_date,
    case
        when is_absent_from_source
            then coalesce(source_termination_date, cast(source_updated_at as date), cast(landed_at as date))
        else source_termination_date
    end as termination_date,
    case
        when is_absent_from_source and source_termination_date is null then 'absent_from_source'
        when source_termination_date is not null then coalesce(source_termination_reason, 'terminated')
    end as termination_reason,
    employment_type,
    fte,
    location,
    case lower(frontline_text) when 'true' then true when 'false' then false end as frontline,
    job_code
from parsed
left join emails as chosen_email
    on parsed.scim_id = chosen_email.record_id and parsed.batch_seq = chosen_email.batch_seq
    and chosen_email.email_rank = 1
