-- Payroll rows of the one export of each period_end that counts (base_payroll__files): a later
-- export supersedes the earlier, the later landed of two with the same export stamp wins, and a
-- withdrawn export counts nowhere (docs/contract.md section 2.5).
select r.*
from {{ ref('base_payroll__row_versions') }} as r
inner join {{ ref('base_payroll__files') }} as f
    on f.file_sha256 = r.file_sha256
where f.is_current_export
