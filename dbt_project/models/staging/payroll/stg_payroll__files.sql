-- Payroll files seen (loaded or rejected) and which export of each period counts
-- (base_payroll__files, which stg_payroll__rows reads too).
select * from {{ ref('base_payroll__files') }}
