"""Size knobs per profile."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    employees: int
    statements_per_employee: float  # per simulated year
    payroll_periods: int  # biweekly files in the initial history
    detail_share: float  # share of employees with LMS assessments/reviews/observations and objectives
    unknown_lms_users: int
    unknown_actors: int
    terminated_but_paid: int


PROFILES = {
    "pilot": Profile("pilot", 200, 40, 8, 1.0, 2, 2, 2),
    "standard": Profile("standard", 2500, 40, 25, 1.0, 20, 12, 5),
    "large": Profile("large", 100_000, 25, 4, 0.06, 400, 300, 20),
}
