"""Shared by the quality tests: a small, internally consistent working database with exactly the contract tables.

Clean by construction: every suite and reconciliation check passes on it, so each
test breaks one thing and asserts that exactly the matching check notices.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

NOW = datetime(2026, 6, 30, 6, 0, tzinfo=UTC)
SALARIES = (123456.78, 98765.43, 87654.32, 76543.21)
EMAILS = ("alice.ng@example.com", "bob.li@example.com", "cara.diaz@example.com", "dan.roe@example.com")

RAW_STREAMS = (
    "hris__users", "xapi__statements", "lms__users", "lms__competency_frameworks", "lms__competencies",
    "lms__job_profiles", "lms__courses", "lms__assignments", "lms__assessments", "lms__reviews",
    "lms__observations", "checkins__objectives", "checkins__checkins", "payroll__rows",
)

DDL = """
create schema raw; create schema reporting; create schema restricted; create schema intermediate;
create table reporting.dim_employee (employee_number varchar, scim_id varchar, full_name varchar, email varchar,
  source_title varchar, canonical_job_title varchar, job_family varchar, job_level varchar, department varchar,
  division varchar, cost_center varchar, manager_employee_number varchar, location varchar, employment_type varchar,
  fte decimal(5,3), frontline boolean, hire_date date, termination_date date, termination_reason varchar,
  is_active boolean, in_payroll boolean, in_lms boolean);
create table reporting.dim_employee_history (employee_number varchar, valid_from timestamp, valid_to timestamp,
  is_current boolean, canonical_job_title varchar, department varchar, cost_center varchar,
  manager_employee_number varchar, fte decimal(5,3), is_active boolean);
create table reporting.dim_job_title (canonical_job_title varchar, job_family varchar, job_level varchar,
  remuneration_package varchar, active_headcount bigint);
create table reporting.job_title_alias (source_system varchar, source_title varchar, canonical_job_title varchar,
  match_method varchar, occurrences bigint);
create table reporting.dim_competency (competency_id varchar, code varchar, name varchar, category varchar,
  framework varchar, scale_max integer);
create table reporting.job_competency_requirement (canonical_job_title varchar, business_unit varchar,
  competency_id varchar, required_level integer);
create table reporting.fct_competency_assessment (assessment_id varchar, cycle varchar, employee_number varchar,
  rater_employee_number varchar, rater_type varchar, competency_id varchar, rating integer, submitted_at timestamp);
create table reporting.fct_competency_gap (employee_number varchar, competency_id varchar, required_level integer,
  assessed_level double, self_rating double, manager_rating double, others_mean double, gap double,
  gap_status varchar, recommended_course_id varchar, recommended_course_completed boolean);
create table reporting.fct_learning_completion (statement_id varchar, employee_number varchar, course_id varchar,
  activity_id varchar, verb varchar, success boolean, score_scaled double, duration_minutes double,
  completed_at timestamp);
create table reporting.fct_training_assignment (assignment_id varchar, employee_number varchar, course_id varchar,
  assigned_at timestamp, due_date date, reason varchar, compliance boolean, completed_at timestamp, status varchar,
  days_overdue integer);
create table reporting.dim_objective (objective_id varchar, parent_objective_id varchar, root_objective_id varchar,
  level varchar, depth integer, title varchar, owner_employee_number varchar, org_unit varchar, period varchar,
  start_date date, due_date date, weight double, status varchar);
create table reporting.fct_checkin (checkin_id varchar, objective_id varchar, employee_number varchar,
  manager_employee_number varchar, meeting_date date, progress_pct decimal(5,2), confidence varchar,
  has_impediment boolean, help_requested boolean);
create table reporting.fct_objective_progress (objective_id varchar, as_of_date date, progress_pct double,
  last_checkin_date date, days_since_checkin integer, forecast_completion_date date, forecast_slip_days integer,
  risk_status varchar);
create table reporting.fct_performance_review (review_id varchar, cycle varchar, employee_number varchar,
  reviewer_employee_number varchar, overall_rating integer, status varchar, meeting_date date);
create table reporting.fct_observation (observation_id varchar, employee_number varchar,
  author_employee_number varchar, observed_at timestamp, kind varchar);
create table reporting.rpt_headcount_reconciliation (cost_center varchar, hris_active bigint, payroll_active bigint,
  matched bigint, hris_only bigint, payroll_only bigint);
create table reporting.identity_exception (source_system varchar, source_key varchar, reason varchar,
  first_seen timestamp, last_seen timestamp);
create table restricted.fct_compensation (employee_number varchar, pay_period_end date, canonical_job_title varchar,
  remuneration_package varchar, pay_grade varchar, annual_base_salary decimal(12,2), currency varchar,
  fte decimal(5,3));
create table intermediate.int_identity__links (source_system varchar, source_key varchar, employee_number varchar,
  match_method varchar, reason varchar);
"""

DATA = f"""
insert into reporting.dim_employee values
 ('1001','s1','Alice Ng','{EMAILS[0]}','Engineering Manager','Engineering Manager','Engineering','M1','Eng','Tech',
  'CC1',null,'Oslo','full_time',1.0,false,'2020-01-01',null,null,true,true,true),
 ('1002','s2','Bob Li','{EMAILS[1]}','Sr Engineer','Senior Engineer','Engineering','IC3','Eng','Tech',
  'CC1','1001','Oslo','full_time',1.0,false,'2021-01-01',null,null,true,true,true),
 ('1003','s3','Cara Diaz','{EMAILS[2]}','Senior Engineer','Senior Engineer','Engineering','IC3','Eng','Tech',
  'CC1','1001','Oslo','part_time',0.5,true,'2022-01-01',null,null,true,true,true),
 ('1004','s4','Dan Roe','{EMAILS[3]}','Senior Engineer','Senior Engineer','Engineering','IC3','Eng','Tech',
  'CC2','1001','Oslo','contractor',1.0,false,'2019-01-01','2026-05-15','absent_from_source',false,true,false);
insert into reporting.dim_employee_history values
 ('1001','2020-01-01',null,true,'Engineering Manager','Eng','CC1',null,1.0,true),
 ('1002','2021-01-01','2024-01-01',false,'Engineer','Eng','CC1','1001',1.0,true),
 ('1002','2024-01-01',null,true,'Senior Engineer','Eng','CC1','1001',1.0,true),
 ('1003','2022-01-01',null,true,'Senior Engineer','Eng','CC1','1001',0.5,true),
 ('1004','2019-01-01',null,true,'Senior Engineer','Eng','CC2','1001',1.0,false);
insert into reporting.dim_job_title values
 ('Engineering Manager','Engineering','M1','PKG-M',1), ('Senior Engineer','Engineering','IC3','PKG-IC',2);
insert into reporting.job_title_alias values
 ('hris','Engineering Manager','Engineering Manager','exact',1),
 ('hris','Sr Engineer','Senior Engineer','normalised',1),
 ('hris','Senior Engineer','Senior Engineer','exact',2),
 ('payroll','SENIOR ENGINEER','Senior Engineer','normalised',6),
 ('lms','Eng Mgr','Engineering Manager','crosswalk',10);
insert into reporting.dim_competency values
 ('C1','PY','Python','technical','Eng FW',5), ('C2','LEAD','Leadership','behavioural','Eng FW',4);
insert into reporting.job_competency_requirement values
 ('Senior Engineer',null,'C1',3), ('Engineering Manager','Tech','C2',4);
insert into reporting.fct_competency_assessment values
 ('A1','2026-H1','1002','1001','manager','C1',3,'2026-05-01'),
 ('A2','2026-H1','1003','1003','self','C1',2,'2026-05-02'),
 ('A3','2026-H1','1001','1002','direct_report','C2',4,'2026-05-03');
insert into reporting.fct_competency_gap values
 ('1002','C1',3,3,null,3,null,0,'met','K1',false),
 ('1003','C1',3,2,2,null,null,1,'gap','K1',false),
 ('1001','C2',4,null,null,null,null,0,'unassessed',null,null);
insert into reporting.fct_learning_completion values
 ('st-1','1002','K1','https://lms.example/act/1','http://adlnet.gov/expapi/verbs/completed',true,0.9,30,'2026-06-01');
insert into reporting.fct_training_assignment values
 ('AS1','1003','K1','2026-06-01','2026-07-01','gap',false,null,'not_started',0),
 ('AS2','1002','K1','2026-05-01','2026-05-20','compliance',true,null,'overdue',41);
insert into reporting.dim_objective values
 ('O1',null,'O1','strategic_objective',0,'Grow','1001','Tech','FY2027','2026-01-01','2026-12-31',1,'in_progress'),
 ('O2','O1','O1','supporting_goal',1,'Ship','1002','Tech','FY2027','2026-01-01','2026-12-31',1,'in_progress'),
 ('O3','O1','O1','supporting_goal',1,'Hire','1003','Tech','FY2027','2026-01-01','2026-12-31',1,'in_progress'),
 ('O4','O1','O1','supporting_goal',1,'Drop','1003','Tech','FY2027','2026-01-01','2026-12-31',1,'cancelled');
insert into reporting.fct_checkin values
 ('K-1','O2','1002','1001','2026-06-20',40,'on_track',false,false),
 ('K-2','O3','1003','1001','2026-06-21',80,'at_risk',true,true);
insert into reporting.fct_objective_progress values
 ('O1','2026-06-30',60,'2026-06-21',9,null,null,'at_risk'),
 ('O2','2026-06-30',40,'2026-06-20',10,'2026-09-01',0,'on_track'),
 ('O3','2026-06-30',80,'2026-06-21',9,'2026-07-10',0,'at_risk'),
 ('O4','2026-06-30',0,null,null,null,null,'no_data');
insert into reporting.fct_performance_review values
 ('R1','2026-H1','1002','1001',4,'submitted','2026-06-10');
insert into reporting.fct_observation values ('OB1','1002','1001','2026-06-11','recognition');
insert into reporting.rpt_headcount_reconciliation values
 ('CC1',3,3,3,0,0), ('CC2',100,103,98,2,5);
insert into restricted.fct_compensation values
 ('1001','2026-05-31','Engineering Manager','PKG-M','G7',{SALARIES[0]},'EUR',1.0),
 ('1002','2026-05-31','Senior Engineer','PKG-IC','G5',{SALARIES[1]},'EUR',1.0),
 ('1003','2026-05-31','Senior Engineer','PKG-IC','G5',{SALARIES[2]},'EUR',0.5),
 ('1004','2026-05-31','Senior Engineer','PKG-IC','G5',{SALARIES[3]},'EUR',1.0),
 ('1001','2026-06-30','Engineering Manager','PKG-M','G7',{SALARIES[0]},'EUR',1.0),
 ('1002','2026-06-30','Senior Engineer','PKG-IC','G5',{SALARIES[1]},'EUR',1.0),
 ('1003','2026-06-30','Senior Engineer','PKG-IC','G5',{SALARIES[2]},'EUR',0.5);
insert into intermediate.int_identity__links
 select 'hris', 's' || i, '100' || i, 'employee_number', null from range(1, 5) t(i)
 union all select 'payroll', '100' || i, '100' || i, 'employee_number', null from range(1, 5) t(i)
 union all select 'lms', 'L' || i, '100' || (i % 4 + 1), 'employee_number', null from range(1, 51) t(i)
 union all select 'xapi', 'account:100' || (i % 4 + 1) || ':' || i, '100' || (i % 4 + 1), 'account', null
   from range(1, 51) t(i)
 union all select 'checkins', 'mailto:x' || i, '100' || (i % 4 + 1), 'email', null from range(1, 5) t(i);
"""


def raw_ddl(stream: str) -> str:
    extra = ""
    if stream == "payroll__rows":
        extra = (", file_name varchar, file_sha256 varchar, line_number bigint, period_end date, "
                 "exported_at timestamp")
    return (f"create table raw.{stream} (record_id varchar not null, payload json, record_hash varchar, "
            f"source_updated_at varchar, is_deleted boolean, run_id varchar, batch_seq bigint, "
            f"landed_at timestamp{extra})")


def _fill_raw(con: duckdb.DuckDBPyConnection) -> None:
    landed = (NOW - timedelta(hours=2)).replace(tzinfo=None)
    for stream in RAW_STREAMS:
        con.execute(raw_ddl(stream))
        cols = "record_id, payload, record_hash, source_updated_at, is_deleted, run_id, batch_seq, landed_at"
        rows = []
        for i, seq in (("r1", 1), ("r1", 2), ("r2", 2)):  # r1 has two versions: only the latest counts
            payload = {"id": i, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}}
            rows.append((i, json.dumps(payload), f"h{i}{seq}", "2026-06-29T00:00:00Z", False, "run-1", seq,
                         landed - timedelta(days=2 - seq)))
        con.executemany(f"insert into raw.{stream} ({cols}) values (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def build_clean_db(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute(DDL)
    con.execute(DATA)
    _fill_raw(con)
    return con
