-- One row per withdrawn payroll export (an operator may withdraw a file twice: the first counts).
select file_sha256, min(withdrawn_at) as withdrawn_at
from {{ source('payroll', 'withdrawals') }}
group by file_sha256
