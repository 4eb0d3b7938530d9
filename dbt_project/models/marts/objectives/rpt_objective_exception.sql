-- Objectives with a missing parent (orphan) or in a parent cycle (cycle).
select objective_id, source_parent_objective_id, reason
from {{ ref('int_objectives__exceptions') }}
