-- Every landed version of every SCIM user, parsed: the base of the SCD2 history
-- and of the current-state model. Absent-from-full-pull versions are flagged.
{% set ent = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' %}
{% set emp = 'urn:hris-lms-bridge:scim:extension:employment:1.0:User' %}

with versions as (
    select * from {{ source('raw', 'hris__users') }}
),

parsed as (
    select
        record_id as scim_id,
        batch_seq,
        landed_at,
        coalesce(is_deleted, false) as is_absent_from_source,
        {{ json_text('payload', 'externalId') }} as external_id,
        {{ json_text('payload', 'userName') }} as user_name,
        {{ json_text('payload', 'displayName') }} as display_name,
        {{ json_text('payload', ['name', 'givenName']) }} as given_name,
        {{ json_text('payload', ['name', 'familyName']) }} as family_name,
        nullif({{ json_text('payload', 'title') }}, '') as source_title,
        {{ json_text('payload', 'active') }} as active_text,
        {{ iso_timestamp(json_text('payload', ['meta', 'created'])) }} as created_at,
        {{ iso_timestamp(json_text('payload', ['meta', 'lastModified'])) }} as last_modified_at,
        {{ iso_timestamp('source_updated_at') }} as source_updated_at,
        {{ json_text('payload', [ent, 'employeeNumber']) }} as employee_number_raw,
        {{ json_text('payload', [ent, 'department']) }} as department,
        {{ json_text('payload', [ent, 'division']) }} as division,
        {{ json_text('payload', [ent, 'organization']) }} as organization,
        {{ json_text('payload', [ent, 'costCenter']) }} as cost_center,
        {{ json_text('payload', [ent, 'manager', 'value']) }} as manager_scim_id,
        {{ iso_date(json_text('payload', [emp, 'hireDate'])) }} as hire_date,
        {{ iso_date(json_text('payload', [emp, 'terminationDate'])) }} as source_termination_date,
        {{ json_text('payload', [emp, 'terminationReason']) }} as source_termination_reason,
        {{ json_text('payload', [emp, 'employmentType']) }} as employment_type,
        {{ dbt.safe_cast(json_text('payload', [emp, 'fte']), dbt.type_numeric()) }} as fte,
        {{ json_text('payload', [emp, 'location']) }} as location,
        {{ json_text('payload', [emp, 'frontline']) }} as frontline_text,
        {{ json_text('payload', [emp, 'jobCode']) }} as job_code
    from versions
)

select
    scim_id,
    batch_seq,
    landed_at,
    is_absent_from_source,
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
