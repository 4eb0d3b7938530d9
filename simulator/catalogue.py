"""The fixed shape of the synthetic organisation: divisions, departments, job titles, synonyms.

Everything here is static data; randomness lives in the generators. Canonical titles are the HRIS
`title` values; the crosswalk seed is derived from this module (see `crosswalk_rows`).
"""
from __future__ import annotations

from dataclasses import dataclass

ORGANIZATION = "Example Corp"
EMAIL_DOMAIN = "example-corp.com"


@dataclass(frozen=True, slots=True)
class Title:
    name: str
    family: str
    level: str  # e.g. "L3"
    grade: int  # pay grade number, salary band driver
    base_salary: int  # midpoint of the band in EUR
    package: str  # remuneration package code


@dataclass(frozen=True, slots=True)
class Department:
    name: str
    division: str
    cost_center: str
    staff: tuple[str, ...]  # staff titles (weighted equally)
    lead: str  # team-lead title
    head: str  # department head title
    frontline: bool
    weight: float  # share of headcount
    location: str


def _t(name: str, family: str, grade: int) -> Title:
    level = f"L{min(7, max(1, (grade + 1) // 2))}"
    salary = 28000 + grade * 6500
    fam_code = "".join(w[0] for w in family.split()).upper()[:3]
    return Title(name, family, level, grade, salary, f"PKG-{fam_code}-{level}")


TITLES: tuple[Title, ...] = (
    _t("Chief Executive Officer", "Executive", 14),
    _t("Vice President Corporate Services", "Executive", 12),
    _t("Vice President Technology", "Executive", 12),
    _t("Vice President Operations", "Executive", 12),
    _t("Vice President Sales", "Executive", 12),
    _t("Executive Assistant", "Administration", 5),
    _t("Office Administrator", "Administration", 3),
    _t("Accountant", "Finance", 5),
    _t("Senior Accountant", "Finance", 7),
    _t("Financial Analyst", "Finance", 6),
    _t("Payroll Specialist", "Finance", 5),
    _t("Payroll Manager", "Finance", 8),
    _t("Finance Manager", "Finance", 9),
    _t("HR Business Partner", "Human Resources", 7),
    _t("HR Coordinator", "Human Resources", 4),
    _t("Recruiter", "Human Resources", 5),
    _t("Learning Specialist", "Human Resources", 5),
    _t("HR Manager", "Human Resources", 9),
    _t("Legal Counsel", "Legal", 9),
    _t("Paralegal", "Legal", 4),
    _t("Compliance Officer", "Legal", 6),
    _t("Legal Director", "Legal", 11),
    _t("Junior Software Engineer", "Engineering", 4),
    _t("Software Engineer", "Engineering", 6),
    _t("Senior Software Engineer", "Engineering", 8),
    _t("Principal Engineer", "Engineering", 10),
    _t("QA Engineer", "Engineering", 5),
    _t("Engineering Manager", "Engineering", 10),
    _t("Data Analyst", "Data", 5),
    _t("Senior Data Analyst", "Data", 7),
    _t("Data Engineer", "Data", 7),
    _t("Data Scientist", "Data", 8),
    _t("Analytics Manager", "Data", 9),
    _t("Systems Administrator", "IT Operations", 5),
    _t("IT Support Technician", "IT Operations", 3),
    _t("Network Engineer", "IT Operations", 6),
    _t("IT Operations Manager", "IT Operations", 9),
    _t("Warehouse Associate", "Logistics", 1),
    _t("Forklift Operator", "Logistics", 2),
    _t("Logistics Coordinator", "Logistics", 4),
    _t("Warehouse Supervisor", "Logistics", 5),
    _t("Logistics Manager", "Logistics", 8),
    _t("Customer Service Representative", "Customer Service", 2),
    _t("Senior Customer Service Representative", "Customer Service", 3),
    _t("Customer Service Team Lead", "Customer Service", 4),
    _t("Customer Service Manager", "Customer Service", 7),
    _t("Facilities Technician", "Facilities", 3),
    _t("Maintenance Supervisor", "Facilities", 5),
    _t("Facilities Manager", "Facilities", 7),
    _t("Sales Representative", "Sales", 4),
    _t("Account Executive", "Sales", 6),
    _t("Senior Account Executive", "Sales", 8),
    _t("Sales Manager", "Sales", 9),
    _t("Marketing Specialist", "Marketing", 5),
    _t("Marketing Coordinator", "Marketing", 4),
    _t("Content Writer", "Marketing", 4),
    _t("Marketing Manager", "Marketing", 8),
)
TITLE_BY_NAME = {t.name: t for t in TITLES}

DIVISION_HEADS = {
    "Corporate": "Vice President Corporate Services",
    "Technology": "Vice President Technology",
    "Operations": "Vice President Operations",
    "Commercial": "Vice President Sales",
}
CEO_TITLE = "Chief Executive Officer"

DEPARTMENTS: tuple[Department, ...] = (
    Department("Executive Office", "Corporate", "CC1000", ("Executive Assistant", "Office Administrator"),
               "Executive Assistant", "Executive Assistant", False, 0.01, "London"),
    Department("Finance", "Corporate", "CC1100", ("Accountant", "Senior Accountant", "Financial Analyst",
               "Payroll Specialist"), "Payroll Manager", "Finance Manager", False, 0.05, "London"),
    Department("People", "Corporate", "CC1200", ("HR Business Partner", "HR Coordinator", "Recruiter",
               "Learning Specialist"), "HR Business Partner", "HR Manager", False, 0.04, "London"),
    Department("Legal", "Corporate", "CC1300", ("Legal Counsel", "Paralegal", "Compliance Officer"),
               "Legal Counsel", "Legal Director", False, 0.02, "London"),
    Department("Software Engineering", "Technology", "CC2000", ("Junior Software Engineer", "Software Engineer",
               "Senior Software Engineer", "QA Engineer"), "Principal Engineer", "Engineering Manager",
               False, 0.12, "Amsterdam"),
    Department("Data and Analytics", "Technology", "CC2100", ("Data Analyst", "Senior Data Analyst",
               "Data Engineer", "Data Scientist"), "Senior Data Analyst", "Analytics Manager", False, 0.05,
               "Amsterdam"),
    Department("IT Operations", "Technology", "CC2200", ("Systems Administrator", "IT Support Technician",
               "Network Engineer"), "Systems Administrator", "IT Operations Manager", False, 0.05, "Amsterdam"),
    Department("Logistics", "Operations", "CC3000", ("Warehouse Associate", "Forklift Operator",
               "Logistics Coordinator"), "Warehouse Supervisor", "Logistics Manager", True, 0.22, "Rotterdam"),
    Department("Customer Service", "Operations", "CC3100", ("Customer Service Representative",
               "Senior Customer Service Representative"), "Customer Service Team Lead",
               "Customer Service Manager", True, 0.18, "Manchester"),
    Department("Facilities", "Operations", "CC3200", ("Facilities Technician",), "Maintenance Supervisor",
               "Facilities Manager", True, 0.06, "Rotterdam"),
    Department("Sales", "Commercial", "CC4000", ("Sales Representative", "Account Executive",
               "Senior Account Executive"), "Senior Account Executive", "Sales Manager", False, 0.13, "London"),
    Department("Marketing", "Commercial", "CC4100", ("Marketing Specialist", "Marketing Coordinator",
               "Content Writer"), "Marketing Coordinator", "Marketing Manager", False, 0.07, "London"),
)
DIVISIONS = ("Corporate", "Technology", "Operations", "Commercial")

# Kind (b): synonyms only the crosswalk resolves (their normalised form matches no canonical title).
SYNONYMS: dict[str, str] = {
    "People Partner": "HR Business Partner",
    "Talent Acquisition Specialist": "Recruiter",
    "Programmer": "Software Engineer",
    "Bookkeeper": "Accountant",
    "Call Centre Agent": "Customer Service Representative",
    "Warehouse Operative": "Warehouse Associate",
    "Sysadmin": "Systems Administrator",
    "Helpdesk Analyst": "IT Support Technician",
    "BI Analyst": "Data Analyst",
    "Business Development Rep": "Sales Representative",
    "Counsel": "Legal Counsel",
    "PA to CEO": "Executive Assistant",
    "Copywriter": "Content Writer",
    "Payroll Officer": "Payroll Specialist",
    "Handyman": "Facilities Technician",
    "Test Analyst": "QA Engineer",
    "Key Account Manager": "Senior Account Executive",
    "Shift Supervisor": "Warehouse Supervisor",
}

# Kind (c): titles nobody can map; used for a handful of occurrences only.
UNMAPPABLE: tuple[str, ...] = ("Graduate Rotation", "Project Resource (Temp)", "Special Projects", "TBC")

EMPLOYMENT_TYPES = ("full_time", "part_time", "contractor", "casual")


def crosswalk_rows() -> list[tuple[str, str, str, str]]:
    """Rows of dbt_project/seeds/job_title_crosswalk.csv: self rows, then synonyms."""
    rows = [(t.name, t.name, t.family, t.level) for t in TITLES]
    for syn, canon in SYNONYMS.items():
        t = TITLE_BY_NAME[canon]
        rows.append((syn, canon, t.family, t.level))
    return rows
