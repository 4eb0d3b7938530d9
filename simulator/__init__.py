"""Stand-in source systems for hris-lms-bridge (SCIM HRIS, xAPI LRS, LMS REST, check-ins REST, payroll drop).

Product code never imports this package; the tests, the demo and `bridge simulate` do.
"""
from simulator.cli import main
from simulator.handle import Simulator

__all__ = ["Simulator", "main"]
