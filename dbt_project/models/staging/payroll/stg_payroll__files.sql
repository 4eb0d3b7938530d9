-- Payroll files seen and which export of each period counts, as base_payroll__files ranks them;
-- stg_payroll__rows reads the base model too, so no staging model is built on another.
select * from {{ ref('base_payroll__files') }}
