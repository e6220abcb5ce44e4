#!/usr/bin/env python3
"""Generate a city for the oversight benchmarks: one Sở, its offices, schools,
staff with accounts, teaching assignments, one school year, and the lesson
plans and other owed records whose deadline has passed.

    python3 bench/gen_city.py --db hcity_small --schools 5 --check
    python3 bench/gen_city.py --db hcity [--schools 1000] [--teachers-per-school 45]
                              [--weeks-done 20] [--seed 1] [--password hcity]
    python3 bench/gen_city.py --db hcity --check-only

``--db`` must be a database whose name starts with ``hcity``, with hscm_odoo
installed without demo data and no generated city yet (the Sở code
``HC-SGD`` is refused twice: drop and re-create the database to start over).

What is built (fictional names throughout):

* one Sở (``HC-SGD``) and ~one office per 33 schools (at most 30; a third are
  district Phòng GDĐT, the rest ward offices). Primary (TH) and lower
  secondary (THCS) schools belong to an office; upper secondary (THPT) and
  multi-level schools have no office and report to the Sở;
* per school: a principal and two vice principals (the first in charge of
  professional records) and ``--teachers-per-school`` teachers, every one
  with a res.users account (portal for teachers, heads and deputies; internal
  for the leadership), professional departments (tổ) each with a head and,
  from three members on, a deputy, classes with homeroom teachers, and the
  teaching assignments of the 2018 programme (subject × class, periods a
  week); about 1 % of the assignments change teacher during the year
  (``to_week``/``from_week``);
* the Sở's lesson-plan settings: one file per teacher, subject, class and
  week (an ``hscm.dossier.type.override`` of the Sở with ``file_unit=week``),
  so an assignment owes one lesson plan a teaching week; the number of
  classes per school is chosen so the year owes about 3.81 plans per teacher
  and week, i.e. ~6,000,000 for 45,000 teachers (printed);
* one school year of 35 teaching weeks with the real holidays (New Year, Tết,
  30/4–1/5), placed so that the lesson plans of exactly ``--weeks-done``
  teaching weeks are past their deadline *now* (Saturday 23:59 of the week
  before, the type's own rule); the year's dates are printed;
* the lesson plans (hscm.dossier) of those weeks, with their class, subject,
  week, owner/staff/school/department, versions and approval rows (department
  head, then the vice principal; a head's own plans go to the vice principal
  only), "waiting for" links and deadlines from the policy: ~3 % of the owed
  plans missing (a third of them left as drafts), ~2 % rejected, ~1 %
  rejected once and resubmitted, a few stuck at an approver for weeks, ~6 %
  submitted late, the rest approved on time; approvals take 1–48 h per step,
  so the latest weeks still have plans waiting. 5 % of the teachers are
  "sloppy" (4x the missing rate, 3x the late rate). A quarter of the next
  week's plans are already handed in (``--ahead``);
* the records other than lesson plans the dashboards count (types with
  ``track_owed``: teacher and department plans, the primary schools' books…),
  one per owner unit (school, department, teacher, homeroom class) and
  period whose deadline has passed, under each type's own policy and approval
  chain, with the same outcome rates (no subject groups are generated, so
  group-level types owe nothing);
* accounts for the oversight roles: an inspector per office, a Sở leader,
  Sở subject specialists; one password for every generated account.

No files are attached (dossiers have no ``file``, no hash, no signature), no
audit-log entries, activities or chatter messages are created: the benchmark
is about dashboards and exports over the records. Reminder e-mails are off in
the generated schools (``reminders_enabled``) unless ``--reminders``.

Big tables are written with COPY and INSERT … SELECT in one transaction; the
secondary indexes and foreign keys of the dossier tables are dropped before
and re-created (and so re-validated) after. The generation's parameters and
anchor time are stored in the system parameter ``hscm.bench.city`` (JSON).

``--check`` (or ``--check-only``) then opens the database with Odoo's
registry and proves the data is usable by the ORM: the progress grid of a
department head, computed by ``hscm.progress._grid`` with that head's rights,
equals the statuses recomputed from the rows by plain SQL; dossiers of every
state read through the ORM as the head; a head rejects a pending plan
(rolled back); the record rules of an office inspector, the Sở leader and a
specialist count exactly their scope; the Python constraints and stored
computes of the generated organisation hold; a generated password logs in.
"""

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from tools_loader import tools  # noqa: E402
SGD_CODE = "HC-SGD"
CONFIG_KEY = "hscm.bench.city"
ITEMS_PER_TEACHER_WEEK = 6_000_000 / (35 * 45_000)  # the city: 6 M plans, 45,000 teachers, 35 weeks

# --------------------------------------------------------------------------
# Names (fictional: composed from common family, middle and given names)
# --------------------------------------------------------------------------
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
          "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Mai", "Trịnh", "Lương"]
FAMILY_WEIGHTS = [38, 11, 9, 7, 5, 5, 4, 4, 4, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1]
MIDDLE_F = ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Kim", "Hoài", "Phương", "Bích", "Thúy"]
MIDDLE_M = ["Văn", "Văn", "Hữu", "Đức", "Minh", "Quang", "Thanh", "Xuân", "Công", "Quốc", "Ngọc", "Anh"]
GIVEN_F = ["An", "Anh", "Châu", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hương", "Huyền",
           "Lan", "Liên", "Linh", "Loan", "Mai", "Nga", "Ngân", "Nhung", "Oanh", "Phương", "Quyên", "Tâm",
           "Thảo", "Thủy", "Trang", "Tuyết", "Uyên", "Vân", "Xuân", "Yến"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Đạt", "Duy", "Hải", "Hiếu", "Hòa", "Hùng", "Huy", "Khang",
           "Khánh", "Kiên", "Long", "Lộc", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Quang",
           "Sơn", "Tài", "Thắng", "Thành", "Thịnh", "Toàn", "Trung", "Tuấn", "Việt"]
PLACE_A = ["An", "Bình", "Hòa", "Tân", "Phú", "Thạnh", "Long", "Phước", "Hưng", "Đông", "Tây", "Nam",
           "Bắc", "Trung", "Vĩnh", "Minh", "Quang", "Thuận", "Hải", "Sơn", "Kim", "Lạc"]
PLACE_B = ["Lạc", "Lợi", "Phú", "Hòa", "Thịnh", "Mỹ", "Đức", "An", "Hưng", "Khánh", "Lộc", "Thành",
           "Xuân", "Đông", "Tiến", "Sơn", "Hải", "Bình", "Phong", "Tân"]
CITY_NAME = "Hải Vân"
REJECTION_REASONS = [
    "Chưa ghi rõ yêu cầu cần đạt của bài học.",
    "Hoạt động luyện tập chưa phù hợp với đối tượng học sinh.",
    "Thiếu phần vận dụng, tìm tòi mở rộng.",
    "Số tiết chưa khớp kế hoạch dạy học của tổ.",
    "Cần bổ sung phương án kiểm tra, đánh giá.",
]

# --------------------------------------------------------------------------
# Curricula (2018 programme, periods a week; subjects from the shipped data)
# --------------------------------------------------------------------------
TH_HOMEROOM = {"tieng_viet", "toan", "dao_duc", "tu_nhien_xa_hoi", "ls_dl", "hdtn"}


def th_subjects(grade):
    subjects = [("tieng_viet", 8 if grade <= 2 else 7), ("toan", 3 if grade <= 2 else 5), ("dao_duc", 1),
                ("hdtn", 3), ("gdtc", 2), ("am_nhac", 1), ("mi_thuat", 1)]
    subjects.append(("tu_nhien_xa_hoi", 2) if grade <= 3 else ("ls_dl", 2))
    if grade >= 3:
        subjects += [("tieng_anh", 2), ("tin_hoc", 1), ("cong_nghe", 1)]
    return subjects


THCS_SUBJECTS = [("toan", 4), ("ngu_van", 4), ("tieng_anh", 3), ("khtn", 4), ("ls_dl", 3), ("gdcd", 1),
                 ("tin_hoc", 1), ("cong_nghe", 1), ("gdtc", 2), ("am_nhac", 1), ("mi_thuat", 1), ("hdtn", 3),
                 ("gd_dia_phuong", 1)]
THPT_CORE = [("toan", 3), ("ngu_van", 3), ("tieng_anh", 3), ("lich_su", 2), ("gdtc", 2), ("hdtn", 3),
             ("gd_dia_phuong", 1)]
THPT_TRACKS = [[("vat_ly", 2), ("hoa_hoc", 2), ("sinh_hoc", 2), ("tin_hoc", 2)],   # natural sciences
               [("dia_ly", 2), ("gdcd", 2), ("cong_nghe", 2), ("tin_hoc", 2)]]    # social sciences


def class_subjects(level, grade, index):
    if level == "th":
        return th_subjects(grade)
    if grade <= 9:
        return THCS_SUBJECTS
    return THPT_CORE + THPT_TRACKS[index % 2]


GRADES = {"th": [1, 2, 3, 4, 5], "thcs": [6, 7, 8, 9], "thpt": [10, 11, 12], "multi": [6, 7, 8, 9, 10, 11, 12]}
LEVEL_LABEL = {"th": "Tiểu học", "thcs": "THCS", "thpt": "THPT", "multi": "Liên cấp THCS-THPT"}
DEPARTMENTS = {
    "thcs": [("Tổ Toán – Tin học", {"toan", "tin_hoc"}),
             ("Tổ Khoa học tự nhiên – Công nghệ", {"khtn", "cong_nghe"}),
             ("Tổ Ngữ văn – GDCD", {"ngu_van", "gdcd", "gd_dia_phuong"}),
             ("Tổ Ngoại ngữ", {"tieng_anh"}),
             ("Tổ Lịch sử và Địa lí – HĐTN", {"ls_dl", "hdtn"}),
             ("Tổ Nghệ thuật – Thể chất", {"gdtc", "am_nhac", "mi_thuat"})],
    "thpt": [("Tổ Toán – Tin học", {"toan", "tin_hoc"}),
             ("Tổ Vật lí – Công nghệ", {"vat_ly", "cong_nghe"}),
             ("Tổ Hóa học – Sinh học", {"hoa_hoc", "sinh_hoc", "khtn"}),
             ("Tổ Ngữ văn", {"ngu_van", "gd_dia_phuong"}),
             ("Tổ Ngoại ngữ", {"tieng_anh"}),
             ("Tổ Sử – Địa – GDKT&PL", {"lich_su", "dia_ly", "gdcd", "ls_dl", "hdtn"}),
             ("Tổ Thể dục – Nghệ thuật", {"gdtc", "am_nhac", "mi_thuat"})],
    "th_specialists": ("Tổ chuyên biệt", {"tieng_anh", "gdtc", "am_nhac", "mi_thuat", "tin_hoc", "cong_nghe"}),
}
DEPARTMENTS["multi"] = DEPARTMENTS["thpt"]
LEVEL_MIX = [("th", 0.45), ("thcs", 0.35), ("thpt", 0.17), ("multi", 0.03)]

# Holidays (breaks) by calendar year: New Year, Tết Nguyên đán, 30/4 - 1/5
TET = {2025: ("2025-01-25", "2025-02-02"), 2026: ("2026-02-09", "2026-02-21"),
       2027: ("2027-02-01", "2027-02-13"), 2028: ("2028-01-24", "2028-02-05"),
       2029: ("2029-02-05", "2029-02-17"), 2030: ("2030-01-28", "2030-02-09")}

# Outcome rates (share of the owed plans of a passed week)
P_MISSING, P_REJECTED, P_RESUBMITTED, P_STUCK, P_LATE = 0.03, 0.02, 0.01, 0.004, 0.06
SLOPPY_SHARE = 0.05


def load_tools():
    """hscm_odoo/tools as the package ``hscm_tools`` (pure Python, no Odoo)."""
    return tools("deadlines", "school_calendar", "submission_status", "records_owed")


class Phases:
    def __init__(self):
        self.rows = []
        self.started = time.perf_counter()

    def run(self, label, function, *args):
        t = time.perf_counter()
        print(f"  {label} …", end="", flush=True)
        result = function(*args)
        seconds = time.perf_counter() - t
        self.rows.append((label, seconds))
        print(f" {seconds:7.1f} s", flush=True)
        return result


# --------------------------------------------------------------------------
# Database helpers
# --------------------------------------------------------------------------
def connect(args):
    conn = psycopg2.connect(host=args.db_host, port=args.db_port, user=args.db_user, dbname=args.db)
    with conn.cursor() as cur:
        # session settings only: the cluster's configuration is not touched
        cur.execute("SET work_mem = '256MB'; SET maintenance_work_mem = '2GB'; SET synchronous_commit = off;"
                    "SET max_parallel_maintenance_workers = 2; SET jit = off")
    return conn


class Copy:
    """A file-like object feeding COPY from an iterator of text lines."""

    def __init__(self, lines):
        self.lines = iter(lines)
        self.buffer = b""

    def read(self, size=-1):
        size = max(size, 1 << 20)
        parts, length = [self.buffer], len(self.buffer)
        while length < size:
            chunk = "".join(line for _, line in zip(range(2000), self.lines))
            if not chunk:
                break
            data = chunk.encode()
            parts.append(data)
            length += len(data)
        data = b"".join(parts)
        self.buffer = data[size:]
        return data[:size]

    readline = read


def text(value):
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")
    return str(value)


def copy_rows(cur, table, columns, rows):
    """COPY ``rows`` (tuples) into ``table``; returns the number of rows."""
    count = [0]

    def lines():
        for row in rows:
            count[0] += 1
            yield "\t".join(map(text, row)) + "\n"

    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", Copy(lines()))
    return count[0]


def next_id(cur, table):
    cur.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
    return cur.fetchone()[0]


def xmlid(cur, module, name):
    cur.execute("SELECT res_id FROM ir_model_data WHERE module = %s AND name = %s", (module, name))
    row = cur.fetchone()
    if not row:
        sys.exit(f"missing record {module}.{name}: is hscm_odoo installed in this database?")
    return row[0]


def drop_secondary(cur, tables):
    """Drop the non-unique indexes and the foreign keys of ``tables``;
    return the statements that re-create them."""
    cur.execute("""
        SELECT pg_get_indexdef(i.indexrelid), c.relname, ic.relname
          FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
         WHERE c.relname = ANY(%s) AND NOT i.indisunique AND NOT i.indisprimary""", (list(tables),))
    indexes = cur.fetchall()
    cur.execute("""
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
          FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)""", (list(tables),))
    fkeys = cur.fetchall()
    for _definition, _table, name in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    for table, name, _definition in fkeys:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    return ([definition for definition, _t, _n in indexes],
            [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in fkeys])


# --------------------------------------------------------------------------
# The calendar
# --------------------------------------------------------------------------
def holidays(first_year):
    spans = []
    for year in (first_year, first_year + 1):
        spans.append(("Nghỉ Tết Dương lịch", dt.date(year, 1, 1), dt.date(year, 1, 1)))
        if year in TET:
            spans.append(("Nghỉ Tết Nguyên đán", dt.date.fromisoformat(TET[year][0]),
                          dt.date.fromisoformat(TET[year][1])))
        spans.append(("Nghỉ 30/4 và 1/5", dt.date(year, 4, 30), dt.date(year, 5, 1)))
    return spans


def plan_calendar(args, now_utc, deadlines, school_calendar, policy):
    """The school year placed so that ``weeks_done`` lesson-plan deadlines
    have passed at ``now_utc``: returns (start, end, breaks, weeks, deadline_of)."""
    now = now_utc.replace(tzinfo=dt.timezone.utc)
    params = {"weekday": int(policy["deadline_weekday"] or 5), "time": policy["deadline_time"],
              "day": policy["deadline_day"], "month": policy["deadline_month"],
              "week": policy["deadline_week"], "days": policy["deadline_days"]}

    def passed(start):
        breaks = [h for h in holidays(start.year) if h[2] >= start]
        weeks = school_calendar.teaching_weeks(start, [(b[1], b[2]) for b in breaks], count=35)
        due = {w.number: deadlines.deadline(policy["deadline_rule"], params, deadlines.Period(week=w.number),
                                            weeks, 18) for w in weeks}
        return sum(1 for d in due.values() if d and d < now), breaks, weeks, due

    if args.year_start:
        start = school_calendar.monday_of(dt.date.fromisoformat(args.year_start))
        done, breaks, weeks, due = passed(start)
    else:
        today = school_calendar.local_date(now_utc)
        start = school_calendar.monday_of(today) - dt.timedelta(weeks=max(args.weeks_done - 1, 0))
        done, breaks, weeks, due = passed(start)
        while done < args.weeks_done:
            start -= dt.timedelta(weeks=1)
            done, breaks, weeks, due = passed(start)
        while done > args.weeks_done:
            start += dt.timedelta(weeks=1)
            done, breaks, weeks, due = passed(start)
    end = weeks[-1].end + dt.timedelta(days=7)
    deadline_of = {w: d.astimezone(dt.timezone.utc).replace(tzinfo=None) for w, d in due.items()}
    return start, end, breaks, weeks, deadline_of, done


# --------------------------------------------------------------------------
# The organisation, planned in memory
# --------------------------------------------------------------------------
def person(rng):
    female = rng.random() < 0.7
    family = rng.choices(FAMILY, FAMILY_WEIGHTS)[0]
    middle = rng.choice(MIDDLE_F if female else MIDDLE_M)
    given = rng.choice(GIVEN_F if female else GIVEN_M)
    return f"{family} {middle} {given}"


def level_counts(n):
    counts = {level: int(n * share) for level, share in LEVEL_MIX}
    for level, _share in LEVEL_MIX:
        if sum(counts.values()) >= n:
            break
        if n >= len(LEVEL_MIX) and counts[level] == 0:
            counts[level] = 1
    order = sorted(LEVEL_MIX, key=lambda x: -(n * x[1] - int(n * x[1])))
    i = 0
    while sum(counts.values()) < n:
        counts[order[i % len(order)][0]] += 1
        i += 1
    while sum(counts.values()) > n:
        biggest = max(counts, key=counts.get)
        counts[biggest] -= 1
    return counts


def spread(total, weights, minimum, maximum):
    """Split ``total`` over keys proportionally to ``weights`` (largest
    remainder) with per-key bounds."""
    keys = list(weights)
    result = {k: minimum.get(k, 0) for k in keys}
    left = total - sum(result.values())
    while left > 0:
        open_keys = [k for k in keys if result[k] < maximum[k]]
        if not open_keys:
            break
        # give the next teacher to the key with the highest load per teacher
        k = max(open_keys, key=lambda k: weights[k] / (result[k] + 1) if result[k] else float("inf"))
        result[k] += 1
        left -= 1
    return result


def plan_school(rng, index, level, teachers_per_school, items_target):
    """Classes, departments, teachers and assignments of one school (no ids)."""
    grades = GRADES[level]
    per_class = sum(len(class_subjects(level, g, 0)) for g in grades) / len(grades)
    n_classes = max(len(grades), round(items_target / per_class))
    if level == "th":
        n_classes = min(n_classes, teachers_per_school - 6)
    classes = []
    for k in range(n_classes):
        grade = grades[k % len(grades)]
        number = k // len(grades) + 1
        classes.append({"name": f"{grade}A{number}", "grade": grade, "index": number - 1})
    classes.sort(key=lambda c: (c["grade"], c["index"]))
    items = [(ci, code, periods) for ci, c in enumerate(classes)
             for code, periods in class_subjects(level, c["grade"], c["index"])]

    teachers = []  # {"subjects": set, "dept": name, "items": [(ci, code, periods)]}
    departments = []
    if level == "th":
        for grade in grades:
            departments.append({"name": f"Tổ khối {grade}", "codes": set()})
        departments.append({"name": DEPARTMENTS["th_specialists"][0], "codes": DEPARTMENTS["th_specialists"][1]})
        for ci, c in enumerate(classes):
            teachers.append({"dept": f"Tổ khối {c['grade']}", "homeroom": ci,
                             "items": [it for it in items if it[0] == ci and it[1] in TH_HOMEROOM]})
        pool = [it for it in items if it[1] not in TH_HOMEROOM]
        specialists = teachers_per_school - len(teachers)
        dept_of = {code: DEPARTMENTS["th_specialists"][0] for code in DEPARTMENTS["th_specialists"][1]}
    else:
        for name, codes in DEPARTMENTS[level]:
            departments.append({"name": name, "codes": codes})
        pool = items
        specialists = teachers_per_school
        dept_of = {code: name for name, codes in DEPARTMENTS[level] for code in codes}
    load, classes_of = {}, {}
    for ci, code, periods in pool:
        load[code] = load.get(code, 0) + periods
        classes_of.setdefault(code, []).append((ci, code, periods))
    if specialists >= len(load):
        counts = spread(specialists, load, {k: 1 for k in load}, {k: len(v) for k, v in classes_of.items()})
    else:  # fewer teachers than subjects: some teach two subjects
        counts = {k: 1 for k in load}
    for code in sorted(load, key=lambda c: -load[c]):
        chunk = classes_of[code]
        k = counts[code]
        for t in range(k):
            part = chunk[t * len(chunk) // k:(t + 1) * len(chunk) // k]
            teachers.append({"dept": dept_of[code], "homeroom": None, "items": part})
    while len(teachers) > teachers_per_school:  # merge the smallest loads
        teachers.sort(key=lambda t: sum(p for _c, _s, p in t["items"]))
        smallest = teachers.pop(0)
        same = [t for t in teachers if t["dept"] == smallest["dept"]] or teachers
        same[0]["items"] += smallest["items"]
    while len(teachers) < teachers_per_school:  # more teachers than classes can use: split the biggest
        teachers.sort(key=lambda t: -len(t["items"]))
        biggest = teachers[0]
        if len(biggest["items"]) < 2:
            break
        half = len(biggest["items"]) // 2
        teachers.append({"dept": biggest["dept"], "homeroom": None, "items": biggest["items"][half:]})
        biggest["items"] = biggest["items"][:half]
    used_depts = {t["dept"] for t in teachers}
    departments = [d for d in departments if d["name"] in used_depts]
    for t in teachers:
        t["name"] = person(rng)
        t["sloppy"] = rng.random() < SLOPPY_SHARE
    # homeroom teachers of secondary classes: one of the class's teachers, spreading the duty
    if level != "th":
        duties = {id(t): 0 for t in teachers}
        for ci in range(len(classes)):
            candidates = [t for t in teachers if any(it[0] == ci for it in t["items"]) and t["homeroom"] is None]
            if not candidates:
                continue
            chosen = min(candidates, key=lambda t: (duties[id(t)], rng.random()))
            chosen["homeroom"] = ci
            duties[id(chosen)] += 1
    return {"classes": classes, "teachers": teachers, "departments": departments}


def plan_city(args, rng):
    counts = level_counts(args.schools)
    levels = [lv for lv, _ in LEVEL_MIX for _ in range(counts[lv])]
    rng.shuffle(levels)
    n_offices = max(1, min(30, round(args.schools / 33)))
    items_target = args.teachers_per_school * args.items_per_teacher_week
    places, seen = [], set()
    while len(places) < n_offices + args.schools:
        name = f"{rng.choice(PLACE_A)} {rng.choice(PLACE_B)}"
        if name.split()[0] == name.split()[1]:
            continue
        suffix = 1
        candidate = name
        while candidate in seen:
            suffix += 1
            candidate = f"{name} {suffix}"
        seen.add(candidate)
        places.append(candidate)
    offices = []
    for i in range(n_offices):
        district = i < n_offices // 3
        offices.append({
            "code": f"HC-{'PGD' if district else 'VHXH'}-{i + 1:02d}",
            "kind": "district_office" if district else "ward_office",
            "name": (f"Phòng Giáo dục và Đào tạo huyện {places[i]}" if district
                     else f"Phòng Văn hóa – Xã hội phường {places[i]}"),
        })
    schools = []
    office_turn = 0
    for s, level in enumerate(levels):
        school = plan_school(rng, s, level, args.teachers_per_school, items_target)
        school.update({
            "code": f"HC-{s + 1:04d}", "level": level, "number": s + 1,
            "name": f"Trường {LEVEL_LABEL[level]} {places[n_offices + s]}",
            "office": None,
            "leaders": [person(rng) for _ in range(3)],
        })
        if level in ("th", "thcs"):
            school["office"] = office_turn % n_offices
            office_turn += 1
        schools.append(school)
    return offices, schools


# --------------------------------------------------------------------------
# Phase 1: the organisation
# --------------------------------------------------------------------------
def write_organisation(cur, args, rng, refs, calendar, now):
    offices, schools = plan_city(args, rng)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    meta = (1, stamp, 1, stamp)  # create_uid, create_date, write_uid, write_date
    counts = {}

    # authorities
    sgd = next_id(cur, "hscm_authority")
    rows = [(sgd, f"Sở Giáo dục và Đào tạo thành phố {CITY_NAME}", SGD_CODE, "department", None, sgd, True,
             *meta)]
    for i, office in enumerate(offices):
        office["id"] = sgd + 1 + i
        rows.append((office["id"], office["name"], office["code"], office["kind"], sgd, sgd, True, *meta))
    counts["hscm_authority"] = copy_rows(cur, "hscm_authority", [
        "id", "name", "code", "kind", "parent_id", "department_id", "active",
        "create_uid", "create_date", "write_uid", "write_date"], rows)

    # the school year and its breaks
    start, end, breaks, _weeks, _deadline_of, _done = calendar
    year_id = next_id(cur, "hscm_school_year")
    name = f"{start.year}-{start.year + 1}" if start.month >= 6 else f"{start.year - 1}-{start.year}"
    copy_rows(cur, "hscm_school_year", ["id", "name", "authority_id", "date_start", "date_end", "week_count",
                                        "first_semester_weeks", "active", "create_uid", "create_date",
                                        "write_uid", "write_date"],
              [(year_id, name, sgd, start, end, 35, 18, True, *meta)])
    counts["hscm_school_year_break"] = copy_rows(
        cur, "hscm_school_year_break", ["school_year_id", "name", "date_from", "date_to", "create_uid",
                                        "create_date", "write_uid", "write_date"],
        [(year_id, b[0], b[1], b[2], *meta) for b in breaks])

    # the Sở's lesson-plan settings: one file per teacher, subject, class and week
    policy_columns = ["deadline_rule", "deadline_weekday", "deadline_time", "deadline_day", "deadline_month",
                      "deadline_week", "deadline_days", "allowed_formats", "max_size_mb", "max_pages",
                      "lookahead_weeks", "signature_policy", "allow_reorder_signers", "allow_extra_signers"]
    cur.execute(f"""
        INSERT INTO hscm_dossier_type_override (type_id, authority_id, file_unit, active, {', '.join(policy_columns)},
                                                create_uid, create_date, write_uid, write_date)
        SELECT id, %s, 'week', true, {', '.join(policy_columns)}, 1, %s, 1, %s
          FROM hscm_dossier_type WHERE id = %s""", (sgd, stamp, stamp, refs["lesson_plan"]))

    # schools, departments, classes
    school_id = next_id(cur, "hscm_school")
    dept_id = next_id(cur, "hscm_school_department")
    class_id = next_id(cur, "hscm_school_class")
    school_rows, dept_rows, class_rows = [], [], []
    for school in schools:
        school["id"] = school_id
        school_id += 1
        office = offices[school["office"]]["id"] if school["office"] is not None else None
        school["office_id"] = office
        reports_to = office if (office and school["level"] in ("th", "thcs")) else sgd
        school_rows.append((school["id"], school["name"], school["code"], school["level"], office, sgd,
                            reports_to, 1, 24, 0, 48, 7, args.reminders, True, *meta))
        for seq, dept in enumerate(school["departments"]):
            dept["id"] = dept_id
            dept_id += 1
            dept_rows.append((dept["id"], (seq + 1) * 10, school["id"], dept["name"], "professional", True, *meta))
        for c in school["classes"]:
            c["id"] = class_id
            class_id += 1
            class_rows.append((c["id"], c["name"], c["grade"], school["id"], True, *meta))
    counts["hscm_school"] = copy_rows(cur, "hscm_school", [
        "id", "name", "code", "level", "office_id", "authority_id", "reports_to_id", "compulsory_from_week",
        "remind_before_hours", "escalate_to_head_after_hours", "escalate_pending_after_hours", "reminder_hour",
        "reminders_enabled", "active", "create_uid", "create_date", "write_uid", "write_date"], school_rows)
    counts["hscm_school_department"] = copy_rows(cur, "hscm_school_department", [
        "id", "sequence", "school_id", "name", "kind", "active",
        "create_uid", "create_date", "write_uid", "write_date"], dept_rows)
    counts["hscm_school_class"] = copy_rows(cur, "hscm_school_class", [
        "id", "name", "grade", "school_id", "active", "create_uid", "create_date", "write_uid", "write_date"],
        class_rows)

    # people: staff records and their accounts
    partner_id = next_id(cur, "res_partner")
    user_id = next_id(cur, "res_users")
    staff_id = next_id(cur, "hscm_staff")
    people = []  # (login, name, kind, authority) kind: portal/internal
    staff_rows, position_rows, duty_rows, subject_rows, class_link_rows = [], [], [], [], []
    head_updates, deputy_rows, homeroom_updates = [], [], []
    assignments = []
    P = refs["positions"]

    def account(login, name, internal, authority=None, groups=()):
        nonlocal partner_id, user_id
        people.append({"partner": partner_id, "user": user_id, "login": login, "name": name,
                       "internal": internal, "authority": authority, "groups": groups})
        partner_id += 1
        user_id += 1
        return user_id - 1

    subject_id = refs["subjects"]
    for school in schools:
        prefix = f"hc.s{school['number']:04d}"
        dept_by_name = {d["name"]: d for d in school["departments"]}
        leaders = []
        for i, (role, login) in enumerate([("principal", "ht"), ("vice_principal", "pht1"),
                                           ("vice_principal", "pht2")]):
            uid = account(f"{prefix}.{login}", school["leaders"][i], True, groups=("group_school_leader",))
            leaders.append({"id": staff_id, "user": uid})
            staff_rows.append((staff_id, uid, school["id"], None, school["leaders"][i], True, False, True, *meta))
            position_rows.append((staff_id, P[role]))
            duty = {0: ["assessment"], 1: ["professional"], 2: ["facilities", "students"]}[i]
            duty_rows += [(staff_id, refs["duty_areas"][code]) for code in duty]
            staff_id += 1
        school["principal_user"], school["principal_staff"] = leaders[0]["user"], leaders[0]["id"]
        school["vp_user"], school["vp_staff"] = leaders[1]["user"], leaders[1]["id"]
        members = {d["name"]: [] for d in school["departments"]}
        for n, teacher in enumerate(school["teachers"]):
            teacher["id"] = staff_id
            members[teacher["dept"]].append(teacher)
            staff_id += 1
        for dept in school["departments"]:
            team = members[dept["name"]]
            head = team[0]
            head["role"] = "department_head"
            head_updates.append((dept["id"], head["id"]))
            if len(team) >= 3:
                team[1]["role"] = "department_deputy"
                deputy_rows.append((dept["id"], team[1]["id"]))
            dept["head_staff"] = head["id"]
        for n, teacher in enumerate(school["teachers"]):
            role = teacher.get("role", "teacher")
            group = "group_department_manager" if role != "teacher" else "group_teacher"
            teacher["user"] = account(f"{prefix}.gv{n + 1:02d}", teacher["name"], False, groups=(group,))
            dept = dept_by_name[teacher["dept"]]
            teacher["dept_id"] = dept["id"]
            # a head's own plans go to the vice principal only
            teacher["head_user"] = None
            staff_rows.append((teacher["id"], teacher["user"], school["id"], dept["id"], teacher["name"],
                               False, False, True, *meta))
            positions = {role} if role != "teacher" else {"teacher"}
            if role != "teacher":
                positions.add("teacher")
            if teacher["homeroom"] is not None:
                positions.add("homeroom_teacher")
                homeroom_updates.append((school["classes"][teacher["homeroom"]]["id"], teacher["id"]))
            position_rows += [(teacher["id"], P[p]) for p in sorted(positions)]
            subjects = sorted({code for _ci, code, _p in teacher["items"]})
            teacher["subject_ids"] = [subject_id[code] for code in subjects]
            subject_rows += [(teacher["id"], subject_id[code]) for code in subjects]
            taught = sorted({ci for ci, _code, _p in teacher["items"]})
            class_link_rows += [(teacher["id"], school["classes"][ci]["id"]) for ci in taught]
        by_staff = {t["id"]: t for t in school["teachers"]}
        for dept in school["departments"]:
            head_user = by_staff[dept["head_staff"]]["user"]
            for teacher in members[dept["name"]]:
                teacher["head_user"] = head_user if teacher["id"] != dept["head_staff"] else None
        # assignments, with ~1 % changing teacher during the year
        for teacher in school["teachers"]:
            for ci, code, periods in teacher["items"]:
                assignments.append([teacher, school["classes"][ci]["id"], code, periods, None, None, school])
    n_assign = len(assignments)
    by_subject = {}
    for a in assignments:
        by_subject.setdefault((a[6]["id"], a[2]), set()).add(id(a[0]))
    teachers_by_id = {id(t): t for s in schools for t in s["teachers"]}
    extra = []
    for a in assignments[:n_assign]:
        if rng.random() < 0.01:
            others = [teachers_by_id[t] for t in by_subject[(a[6]["id"], a[2])] if t != id(a[0])]
            if not others:
                continue
            week = rng.randint(6, 30)
            other = rng.choice(others)
            a[5] = week - 1
            extra.append([other, a[1], a[2], a[3], week, None, a[6]])
            class_link_rows.append((other["id"], a[1]))
    assignments += extra
    class_link_rows = sorted(set(class_link_rows))

    # oversight accounts
    for office in offices:
        account(f"hc.phong{office['code'][-2:]}", person(rng), True, office["id"], ("group_office_inspector",))
    account("hc.so.lanhdao", person(rng), True, sgd, ("group_city_leader",))
    specialists = []
    for code in ("toan", "ngu_van", "tieng_anh", "khtn", "vat_ly", "tieng_viet"):
        uid = account(f"hc.so.cv.{code}", person(rng), True, sgd, ("group_city_specialist",))
        specialists.append((subject_id[code], uid))

    # partners, users, groups, companies
    from passlib.context import CryptContext
    password = CryptContext(["pbkdf2_sha512"], pbkdf2_sha512__rounds=600_000).hash(args.password)
    counts["res_partner"] = copy_rows(cur, "res_partner", [
        "id", "name", "complete_name", "type", "email", "email_normalized", "lang", "tz", "active",
        "is_company", "employee", "partner_share", "commercial_partner_id", "company_id",
        "create_uid", "create_date", "write_uid", "write_date"],
        ((p["partner"], p["name"], p["name"], "contact", f"{p['login']}@hcity.edu.example",
          f"{p['login']}@hcity.edu.example", "en_US", "Asia/Ho_Chi_Minh", True, False, False,
          not p["internal"], p["partner"], 1, *meta) for p in people))
    counts["res_users"] = copy_rows(cur, "res_users", [
        "id", "login", "password", "partner_id", "company_id", "active", "share", "notification_type",
        "tour_enabled", "hscm_authority_id", "create_uid", "create_date", "write_uid", "write_date"],
        ((p["user"], p["login"], password, p["partner"], 1, True, not p["internal"], "email", False,
          p["authority"], *meta) for p in people))
    copy_rows(cur, "res_company_users_rel", ["cid", "user_id"], ((1, p["user"]) for p in people))
    cur.execute("SELECT gid, hid FROM res_groups_implied_rel")
    implied = {}
    for gid, hid in cur.fetchall():
        implied.setdefault(gid, set()).add(hid)

    def closure(gids):
        result, todo = set(), list(gids)
        while todo:
            g = todo.pop()
            if g not in result:
                result.add(g)
                todo += implied.get(g, ())
        return result

    group_sets = {}
    rows = []
    for p in people:
        key = (p["groups"], p["internal"])
        if key not in group_sets:
            base = refs["groups"]["group_user"] if p["internal"] else refs["groups"]["group_portal"]
            group_sets[key] = sorted(closure({base} | {refs["groups"][g] for g in p["groups"]}))
        rows += [(g, p["user"]) for g in group_sets[key]]
    counts["res_groups_users_rel"] = copy_rows(cur, "res_groups_users_rel", ["gid", "uid"], rows)
    copy_rows(cur, "hscm_subject_specialist_rel", ["subject_id", "user_id"], specialists)

    counts["hscm_staff"] = copy_rows(cur, "hscm_staff", [
        "id", "user_id", "school_id", "school_department_id", "name", "is_leader", "is_school_admin", "active",
        "create_uid", "create_date", "write_uid", "write_date"], staff_rows)
    copy_rows(cur, "hscm_position_hscm_staff_rel", ["hscm_staff_id", "hscm_position_id"], position_rows)
    copy_rows(cur, "hscm_duty_area_hscm_staff_rel", ["hscm_staff_id", "hscm_duty_area_id"], duty_rows)
    copy_rows(cur, "hscm_staff_hscm_subject_rel", ["hscm_staff_id", "hscm_subject_id"], subject_rows)
    counts["hscm_school_class_hscm_staff_rel"] = copy_rows(
        cur, "hscm_school_class_hscm_staff_rel", ["hscm_staff_id", "hscm_school_class_id"], class_link_rows)
    copy_rows(cur, "hscm_school_department_deputy_rel", ["department_id", "staff_id"], deputy_rows)
    for table, column, pairs in (("hscm_school_department", "head_id", head_updates),
                                 ("hscm_school_class", "homeroom_teacher_id", homeroom_updates)):
        cur.execute("CREATE TEMP TABLE gen_pairs (id int, value int) ON COMMIT DROP")
        copy_rows(cur, "gen_pairs", ["id", "value"], pairs)
        cur.execute(f"UPDATE {table} t SET {column} = p.value FROM gen_pairs p WHERE t.id = p.id")
        cur.execute("DROP TABLE gen_pairs")

    assignment_id = next_id(cur, "hscm_teaching_assignment")
    rows = []
    for a in assignments:
        teacher, class_, code, periods, from_week, to_week, school = a
        a.append(assignment_id)
        rows.append((assignment_id, teacher["id"], teacher["user"], school["id"], teacher["dept_id"],
                     subject_id[code], class_, periods, from_week, to_week, True, *meta))
        assignment_id += 1
    counts["hscm_teaching_assignment"] = copy_rows(cur, "hscm_teaching_assignment", [
        "id", "staff_id", "user_id", "school_id", "school_department_id", "subject_id", "class_id",
        "periods_per_week", "from_week", "to_week", "active", "create_uid", "create_date", "write_uid",
        "write_date"], rows)
    return {"sgd": sgd, "year_id": year_id, "year_name": name, "offices": offices, "schools": schools,
            "assignments": assignments,
            "people": people, "counts": counts}


# --------------------------------------------------------------------------
# Phase 2: the lesson plans
# --------------------------------------------------------------------------
EPOCH = dt.datetime(1970, 1, 1)
HOUR = 3600


def epoch_of(value):
    return int((value - EPOCH).total_seconds())


class Outcomes:
    """What became of one owed record: missing, a draft, or submitted and
    then approved, waiting, rejected, or rejected and resubmitted. Shared by
    lesson plans and the other records; the chain has an optional first
    step (``s1``, e.g. the department head) and a last one (``s2``)."""

    def __init__(self, rng, now):
        self.rand = rng.random
        self.now = epoch_of(now)

    def _steps(self, sub, has_s1):
        """Decisions after a submission at ``sub``: (s1 state, s1 time, s2 state, s2 time)."""
        rand, now = self.rand, self.now
        s1_state = s1_on = None
        t = sub
        if has_s1:
            s1_on = t + HOUR + int(rand() * 47 * HOUR)
            if s1_on > now:
                return "pending", None, "waiting", None
            s1_state, t = "approved", s1_on
        s2_on = t + HOUR + int(rand() * 47 * HOUR)
        if s2_on > now:
            return s1_state, s1_on, "pending", None
        return s1_state, s1_on, "approved", s2_on

    def decide(self, deadline, has_s1, sloppy=False, ahead_share=None):
        """``None`` (missing), ``("draft", created)``, or the tuple (state,
        is_late, created, sub1, rej_by, rej_on, sub2, s1_state, s1_on,
        s2_state, s2_on, approved_on, last_decision), times in epoch seconds.
        ``ahead_share``: the deadline is still ahead, this share is handed in."""
        rand, now = self.rand, self.now
        r = rand()
        late = False
        rej_by = rej_on = sub2 = None
        if ahead_share is not None:
            if r >= ahead_share:
                return None
            sub1 = now - 1800 - int(rand() * 72 * HOUR)
            outcome = "approved"
        else:
            pm = P_MISSING * (4 if sloppy else 0.84)
            if r < pm:
                if rand() < 0.35:  # an upload never submitted: still missing
                    return ("draft", min(deadline - int(rand() * 5 * 24 * HOUR), now - HOUR))
                return None
            r -= pm
            outcome = ("rejected" if r < P_REJECTED else
                       "resubmitted" if r < P_REJECTED + P_RESUBMITTED else
                       "stuck" if r < P_REJECTED + P_RESUBMITTED + P_STUCK else "approved")
            late = rand() < P_LATE * (3 if sloppy else 0.9)
            if late:
                x = rand()
                sub1 = min(deadline + 1800 + int(x * x * 4 * 24 * HOUR), now - HOUR)
            else:
                sub1 = deadline - 60 - int(rand() * 5 * 24 * HOUR)
        created = sub1 - int(rand() * 2 * 24 * HOUR)
        state = "submitted"
        steps = self._steps
        if outcome == "approved":
            s1_state, s1_on, s2_state, s2_on = steps(sub1, has_s1)
        elif outcome == "stuck":  # an approver who does not decide for weeks
            if has_s1 and rand() < 0.7:
                s1_state, s1_on, s2_state, s2_on = "pending", None, "waiting", None
            else:
                s1_state, s1_on, s2_state, s2_on = steps(sub1, has_s1)
                if s2_state == "approved":
                    s2_state, s2_on = "pending", None
        elif outcome == "rejected":
            s1_state, s1_on, s2_state, s2_on = steps(sub1, has_s1)
            if has_s1 and rand() < 0.75:  # the first step rejects
                if s1_state == "approved":
                    s1_state, s2_state, s2_on = "rejected", "cancelled", None
                    rej_by, rej_on = 1, s1_on
            elif s2_state == "approved":
                s2_state, rej_by, rej_on = "rejected", 2, s2_on
            if rej_by:
                state = "rejected"
        else:  # rejected by the first step, then corrected and resubmitted
            first_on = sub1 + HOUR + int(rand() * 24 * HOUR)
            if first_on > now:
                s1_state, s1_on, s2_state, s2_on = steps(sub1, has_s1)
                if s2_state == "approved":
                    s2_state, s2_on = "pending", None
            else:
                rej_by, rej_on = (1 if has_s1 else 2), first_on
                sub2 = first_on + 2 * HOUR + int(rand() * 48 * HOUR)
                if sub2 > now - 600:
                    sub2 = None
                    state = "rejected"
                    if has_s1:
                        s1_state, s1_on, s2_state, s2_on = "rejected", first_on, "cancelled", None
                    else:
                        s1_state, s1_on, s2_state, s2_on = None, None, "rejected", first_on
                else:
                    late = sub2 > deadline
                    s1_state, s1_on, s2_state, s2_on = steps(sub2, has_s1)
        if state == "submitted" and s2_state == "approved":
            state = "approved"
        approved_on = s2_on if state == "approved" else None
        decisions = [t for t in (s1_on if s1_state in ("approved", "rejected") else None, s2_on, rej_on) if t]
        return (state, late, created, sub1, rej_by, rej_on, sub2, s1_state, s1_on, s2_state, s2_on, approved_on,
                max(decisions) if decisions else None)


def tally(stats, kind, result):
    if result is None:
        stats[kind, "missing"] += 1
    elif result[0] == "draft":
        stats[kind, "missing"] += 1
        stats[kind, "draft"] += 1
    else:
        stats[kind, result[0]] += 1
        if result[0] == "approved":
            stats[kind, "late" if result[1] else "on_time"] += 1
        if result[6]:
            stats[kind, "resubmitted"] += 1


def lesson_plan_lines(org, args, outcomes, calendar, first_id, stats):
    """Staging lines of the lesson plans: one per dossier, in week order."""
    _start, _end, _breaks, _weeks, deadline_of, done = calendar
    by_week = {}
    for a in org["assignments"]:
        teacher, _class, _code, _periods, from_week, to_week, _school, aid = a
        for week in range(from_week or 1, min(to_week or 35, done + 1) + 1):
            by_week.setdefault(week, []).append((aid, teacher))
    next_id_ = first_id
    for week in sorted(by_week):
        deadline = epoch_of(deadline_of[week])
        ahead = args.ahead if week > done else None
        for aid, teacher in by_week[week]:
            result = outcomes.decide(deadline, bool(teacher["head_user"]), teacher["sloppy"], ahead)
            if ahead is None or result is not None:
                tally(stats, "lesson", result)
            if result is None:
                continue
            if result[0] == "draft":
                result = ("draft", False, result[1]) + (None,) * 10
            yield "\t".join(map(text, (next_id_, aid, week) + result)) + "\n"
            next_id_ += 1


def other_record_lines(org, refs, outcomes, calendar, now, first_id, stats, tools):
    """Staging lines of the records other than lesson plans the product
    tracks (``track_owed``): each owner unit of the type's level, each
    period whose deadline has passed (tools/records_owed.py)."""
    deadlines, records_owed = tools
    _start, _end, _breaks, weeks, _deadline_of, _done = calendar
    now_aware = now.replace(tzinfo=dt.timezone.utc)
    next_id_ = first_id
    year_name = org["year_name"]
    for school in org["schools"]:
        teachers = school["teachers"]
        principal, vp = school["principal_user"], school["vp_user"]
        head_of_dept = {d["id"]: next(t for t in teachers if t["id"] == d["head_staff"]) for d in school["departments"]}
        for type_ in refs["other_types"]:
            if not type_["levels"][school["level"]]:
                continue
            level = type_["owner_level"]
            if level in ("school", "office"):
                owners = [(school["vp_staff"], vp, None, None, None, False)]
            elif level == "department":
                owners = [(t["id"], t["user"], t["dept_id"], None, None, t["sloppy"]) for t in head_of_dept.values()]
            elif level == "teacher":
                position = type_["position"]
                owners = [(t["id"], t["user"], t["dept_id"], t["subject_ids"][0],
                           school["classes"][t["homeroom"]]["id"] if t["homeroom"] is not None else None, t["sloppy"])
                          for t in teachers if position is None
                          or (position == "homeroom_teacher" and t["homeroom"] is not None)]
            elif level == "class":
                owners = [(t["id"], t["user"], t["dept_id"], None, school["classes"][t["homeroom"]]["id"], t["sloppy"])
                          for t in teachers if t["homeroom"] is not None]
            else:  # subject groups: none are generated
                owners = []
            periods = []
            for period in records_owed.periods_for_rule(type_["rule"], weeks):
                due = deadlines.deadline(type_["rule"], type_["params"], period, weeks, 18)
                if due is not None and due < now_aware:
                    periods.append((period, epoch_of(due.astimezone(dt.timezone.utc).replace(tzinfo=None))))
            for staff_id, user, dept, subject, class_id, sloppy in owners:
                chain = []
                for role in type_["roles"]:
                    who = {"department_head": head_of_dept[dept]["user"] if dept else None,
                           "vice_principal": vp, "principal": principal}.get(role)
                    if who and who != user and who not in [c[1] for c in chain]:
                        chain.append((role, who))
                if not chain:
                    continue  # nobody could approve it: the product refuses such a submission
                s1 = chain[0] if len(chain) > 1 else (None, None)
                s2 = chain[-1]
                for period, deadline in periods:
                    result = outcomes.decide(deadline, s1[1] is not None, sloppy)
                    tally(stats, "other", result)
                    if result is None:
                        continue
                    if result[0] == "draft":
                        result = ("draft", False, result[1]) + (None,) * 10
                    label = (f"tuần {period.week}" if period.week else
                             f"tháng {period.month:%m/%Y}" if period.month else
                             f"học kì {period.semester}" if period.semester else f"năm học {year_name}")
                    yield "\t".join(map(text, (
                        next_id_, type_["id"], f"{type_['name']} – {label}", user, staff_id, school["id"], dept,
                        subject if type_["needs_subject"] else None,
                        class_id if (level == "class" or type_["needs_classes"]) else None,
                        period.week, period.month, str(period.semester) if period.semester else None,
                        dt.datetime.fromtimestamp(deadline, dt.timezone.utc).replace(tzinfo=None),
                        school["office_id"], org["sgd"], s1[1], s1[0], s2[1], s2[0]) + result)) + "\n"
                    next_id_ += 1


GEN_X_COLUMNS = (
    "id int, type_id int, title text, owner int, staff_id int, school_id int, dept int, subject_id int, "
    "class_id int, week int, period_month date, semester text, deadline timestamp, office_id int, "
    "authority_id int, s1_user int, s1_role text, s2_user int, s2_role text, state text, is_late bool, "
    "t_create bigint, sub1 bigint, rej_by smallint, rej_on bigint, sub2 bigint, st1_state text, st1_on bigint, "
    "st2_state text, st2_on bigint, approved_on bigint, last_dec bigint")
OUTCOME_COLUMNS = ("state, is_late, t_create, sub1, rej_by, rej_on, sub2, st1_state, st1_on, st2_state, st2_on, "
                   "approved_on, last_dec")


def write_dossiers(cur, phases, org, args, rng, refs, calendar, now, tools):
    _start, _end, _breaks, _weeks, deadline_of, _done = calendar
    stats = {(kind, key): 0 for kind in ("lesson", "other") for key in (
        "missing", "draft", "submitted", "approved", "rejected", "on_time", "late", "resubmitted")}
    outcomes = Outcomes(rng, now)
    first_id = next_id(cur, "hscm_dossier")
    cur.execute(f"""
        CREATE TEMP TABLE gen_d (id int, aid int, week int, state text, is_late bool, t_create bigint, sub1 bigint,
                                 rej_by smallint, rej_on bigint, sub2 bigint, st1_state text, st1_on bigint,
                                 st2_state text, st2_on bigint, approved_on bigint, last_dec bigint) ON COMMIT DROP;
        CREATE TEMP TABLE gen_x ({GEN_X_COLUMNS}) ON COMMIT DROP;
        CREATE TEMP TABLE gen_week (week int PRIMARY KEY, deadline timestamp) ON COMMIT DROP;
        CREATE TEMP TABLE gen_staff (staff_id int PRIMARY KEY, head_user int, vp_user int) ON COMMIT DROP;
        CREATE FUNCTION pg_temp.ts(bigint) RETURNS timestamp LANGUAGE sql IMMUTABLE
            AS $$ SELECT to_timestamp($1) AT TIME ZONE 'UTC' $$;
    """)
    copy_rows(cur, "gen_week", ["week", "deadline"], sorted(deadline_of.items()))
    copy_rows(cur, "gen_staff", ["staff_id", "head_user", "vp_user"],
              ((t["id"], t["head_user"], s["vp_user"]) for s in org["schools"] for t in s["teachers"]))

    def stage_lesson_plans():
        cur.copy_expert("COPY gen_d FROM STDIN",
                        Copy(lesson_plan_lines(org, args, outcomes, calendar, first_id, stats)))
        cur.execute(f"""
            INSERT INTO gen_x
            SELECT d.id, %s, 'KHBD ' || (sj.name->>'en_US') || ' – lớp ' || c.name || ' – tuần ' || d.week,
                   a.user_id, a.staff_id, a.school_id, a.school_department_id, a.subject_id, a.class_id, d.week,
                   NULL, NULL, w.deadline, s.office_id, s.authority_id,
                   g.head_user, 'department_head', g.vp_user, 'vice_principal', {OUTCOME_COLUMNS}
              FROM gen_d d JOIN hscm_teaching_assignment a ON a.id = d.aid
              JOIN hscm_school s ON s.id = a.school_id JOIN gen_staff g ON g.staff_id = a.staff_id
              JOIN gen_week w ON w.week = d.week JOIN hscm_subject sj ON sj.id = a.subject_id
              JOIN hscm_school_class c ON c.id = a.class_id
             ORDER BY d.id""", (refs["lesson_plan"],))
        count = cur.rowcount
        cur.execute("DROP TABLE gen_d")
        return count

    def stage_others(first):
        columns = [c.split()[0] for c in GEN_X_COLUMNS.split(", ")]
        cur.copy_expert(f"COPY gen_x ({', '.join(columns)}) FROM STDIN", Copy(
            other_record_lines(org, refs, outcomes, calendar, now, first, stats, tools)))
        cur.execute("SELECT count(*) FROM gen_x WHERE id >= %s", (first,))
        return cur.fetchone()[0]

    lesson_count = phases.run("lesson plans decided and staged (Python → COPY)", stage_lesson_plans)
    cur.execute("SELECT coalesce(max(id), %s) + 1 FROM gen_x", (first_id - 1,))
    other_count = phases.run("other tracked records decided and staged", stage_others, cur.fetchone()[0])
    big = ["hscm_dossier", "hscm_dossier_version", "hscm_dossier_approval",
           "hscm_dossier_hscm_school_class_rel", "hscm_dossier_current_approver_rel"]
    indexes, fkeys = phases.run("secondary indexes and foreign keys dropped", drop_secondary, cur, big)
    counts = {}
    reasons = "ARRAY[" + ", ".join("'" + r.replace("'", "''") + "'" for r in REJECTION_REASONS) + "]"
    reason = f"({reasons})[1 + x.id %% {len(REJECTION_REASONS)}]"

    def insert(label, table, sql, params=()):
        def run():
            cur.execute(sql, params)
            counts[table] = counts.get(table, 0) + cur.rowcount
        phases.run(label, run)

    insert("hscm_dossier", "hscm_dossier", """
        INSERT INTO hscm_dossier (id, name, title, type_id, owner_id, staff_id, school_id, school_department_id,
               office_id, authority_id, subject_id, school_year_id, week_number, period_month, semester, state,
               active, file_size, file_pages, deadline, submitted_on, approved_on, last_decision_on, is_late,
               create_uid, create_date, write_uid, write_date)
        SELECT x.id, 'HS/' || to_char(pg_temp.ts(x.t_create), 'YYYY') || '/' || lpad(x.id::text, 7, '0'),
               x.title, x.type_id, x.owner, x.staff_id, x.school_id, x.dept, x.office_id, x.authority_id,
               x.subject_id, %s, x.week, x.period_month, x.semester, x.state, true, 0, 0,
               CASE WHEN x.sub1 IS NOT NULL THEN x.deadline END, pg_temp.ts(coalesce(x.sub2, x.sub1)),
               pg_temp.ts(x.approved_on), pg_temp.ts(x.last_dec), x.is_late,
               x.owner, pg_temp.ts(x.t_create), x.owner,
               pg_temp.ts(greatest(x.t_create, x.sub1, x.sub2, x.last_dec))
          FROM gen_x x ORDER BY x.id""", (org["year_id"],))
    insert("class links", "hscm_dossier_hscm_school_class_rel", """
        INSERT INTO hscm_dossier_hscm_school_class_rel (hscm_dossier_id, hscm_school_class_id)
        SELECT id, class_id FROM gen_x WHERE class_id IS NOT NULL ORDER BY id""")
    insert("versions", "hscm_dossier_version", f"""
        INSERT INTO hscm_dossier_version (dossier_id, number, file_size, file_pages, submitted_by_id, submitted_on,
               rejection_reason, rejected_by_id, rejected_on, create_uid, create_date, write_uid, write_date)
        SELECT x.id, v.number, 0, 0, x.owner, pg_temp.ts(v.sub),
               CASE WHEN v.rejected THEN {reason} END,
               CASE WHEN v.rejected THEN CASE x.rej_by WHEN 1 THEN x.s1_user ELSE x.s2_user END END,
               CASE WHEN v.rejected THEN pg_temp.ts(x.rej_on) END,
               x.owner, pg_temp.ts(v.sub), x.owner, pg_temp.ts(CASE WHEN v.rejected THEN x.rej_on ELSE v.sub END)
          FROM gen_x x
          CROSS JOIN LATERAL (VALUES (1, x.sub1, x.rej_by IS NOT NULL), (2, x.sub2, false)) v(number, sub, rejected)
         WHERE v.sub IS NOT NULL
         ORDER BY x.id, v.number""")
    # the chain of version 1 of a resubmitted record (rejected by its first
    # step), then the chain of the last version
    insert("approval rows", "hscm_dossier_approval", f"""
        INSERT INTO hscm_dossier_approval (dossier_id, version_number, sequence, role, required, expected_user_id,
               state, decided_by_id, decided_on, comment, create_uid, create_date, write_uid, write_date)
        SELECT x.id, s.version, s.sequence, s.role, true, s.who, s.state,
               CASE WHEN s.state IN ('approved', 'rejected') THEN s.who END,
               CASE WHEN s.state IN ('approved', 'rejected') THEN pg_temp.ts(s.decided) END,
               CASE WHEN s.state = 'rejected' THEN {reason} END,
               x.owner, pg_temp.ts(s.submitted), x.owner,
               pg_temp.ts(CASE WHEN s.state IN ('approved', 'rejected') THEN s.decided ELSE s.submitted END)
          FROM gen_x x
          CROSS JOIN LATERAL (VALUES
              (1, 10, coalesce(x.s1_role, x.s2_role), coalesce(x.s1_user, x.s2_user), 'rejected', x.rej_on, x.sub1,
               x.sub2 IS NOT NULL),
              (1, 20, x.s2_role, x.s2_user, 'cancelled', NULL, x.sub1, x.sub2 IS NOT NULL AND x.s1_user IS NOT NULL),
              (CASE WHEN x.sub2 IS NULL THEN 1 ELSE 2 END, 10, x.s1_role, x.s1_user, x.st1_state, x.st1_on,
               coalesce(x.sub2, x.sub1), x.s1_user IS NOT NULL AND x.sub1 IS NOT NULL),
              (CASE WHEN x.sub2 IS NULL THEN 1 ELSE 2 END, CASE WHEN x.s1_user IS NULL THEN 10 ELSE 20 END,
               x.s2_role, x.s2_user, x.st2_state, x.st2_on, coalesce(x.sub2, x.sub1), x.sub1 IS NOT NULL)
          ) s(version, sequence, role, who, state, decided, submitted, wanted)
         WHERE s.wanted
         ORDER BY x.id, s.version, s.sequence""")
    insert("waiting-for links", "hscm_dossier_current_approver_rel", """
        INSERT INTO hscm_dossier_current_approver_rel (dossier_id, user_id)
        SELECT id, CASE WHEN st1_state = 'pending' THEN s1_user ELSE s2_user END
          FROM gen_x WHERE state = 'submitted' ORDER BY id""")

    def rebuild():
        for statement in indexes:
            cur.execute(statement)
        for statement in fkeys:  # validated again, set-wise
            cur.execute(statement)
    phases.run(f"{len(indexes)} indexes and {len(fkeys)} foreign keys re-created", rebuild)
    return lesson_count, other_count, counts, stats


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
def refs_of(cur):
    refs = {"groups": {}, "positions": {}, "duty_areas": {}}
    for name in ("group_user", "group_portal"):
        refs["groups"][name] = xmlid(cur, "base", name)
    for name in ("group_teacher", "group_department_manager", "group_school_leader", "group_office_inspector",
                 "group_city_specialist", "group_city_leader"):
        refs["groups"][name] = xmlid(cur, "hscm_odoo", name)
    for code in ("principal", "vice_principal", "department_head", "department_deputy", "teacher",
                 "homeroom_teacher"):
        refs["positions"][code] = xmlid(cur, "hscm_odoo", f"position_{code}")
    for code in ("professional", "facilities", "students", "assessment"):
        refs["duty_areas"][code] = xmlid(cur, "hscm_odoo", f"duty_area_{code}")
    cur.execute("SELECT code, id FROM hscm_subject")
    refs["subjects"] = dict(cur.fetchall())
    refs["lesson_plan"] = xmlid(cur, "hscm_odoo", "dossier_type_lesson_plan")
    refs["sequence"] = xmlid(cur, "hscm_odoo", "seq_hscm_dossier")
    cur.execute("""SELECT deadline_rule, deadline_weekday, deadline_time, deadline_day, deadline_month,
                          deadline_week, deadline_days FROM hscm_dossier_type WHERE id = %s""",
                (refs["lesson_plan"],))
    names = ["deadline_rule", "deadline_weekday", "deadline_time", "deadline_day", "deadline_month",
             "deadline_week", "deadline_days"]
    refs["policy"] = dict(zip(names, cur.fetchone()))
    # the other types whose records the dashboards count (track_owed), with their own policy
    cur.execute("""
        SELECT t.id, t.name->>'en_US', t.owner_level, t.level_th, t.level_thcs, t.level_thpt, t.level_multi,
               p.code, t.needs_subject, t.needs_classes, t.deadline_rule, t.deadline_weekday, t.deadline_time,
               t.deadline_day, t.deadline_month, t.deadline_week, t.deadline_days,
               ARRAY(SELECT role FROM hscm_approval_template_step s WHERE s.template_id = t.approval_template_id
                      ORDER BY s.sequence, s.id)
          FROM hscm_dossier_type t LEFT JOIN hscm_position p ON p.id = t.owed_by_position_id
         WHERE t.active AND t.track_owed AND t.id != %s AND t.deadline_rule NOT IN ('event_days', 'none')
         ORDER BY t.sequence, t.id""", (refs["lesson_plan"],))
    refs["other_types"] = [{
        "id": row[0], "name": row[1], "owner_level": row[2],
        "levels": {"th": row[3], "thcs": row[4], "thpt": row[5], "multi": row[6]}, "position": row[7],
        "needs_subject": row[8], "needs_classes": row[9], "rule": row[10],
        "params": {"weekday": int(row[11] or 5), "time": row[12], "day": row[13], "month": row[14],
                   "week": row[15], "days": row[16]}, "roles": row[17]} for row in cur.fetchall()]
    return refs


def generate(args):
    deadlines, school_calendar, submission_status, records_owed = load_tools()
    rng = random.Random(args.seed)
    phases = Phases()
    conn = connect(args)
    cur = conn.cursor()
    cur.execute("SELECT 1 FROM hscm_authority WHERE code = %s", (SGD_CODE,))
    if cur.fetchone():
        sys.exit(f"{args.db} already holds a generated city ({SGD_CODE}): re-create the database first.")
    refs = refs_of(cur)
    cur.execute("SELECT now() AT TIME ZONE 'UTC'")
    now = cur.fetchone()[0].replace(microsecond=0)
    calendar = plan_calendar(args, now, deadlines, school_calendar, refs["policy"])
    start, end, _breaks, _weeks, deadline_of, done = calendar
    print(f"Generating a city in {args.db}: {args.schools} schools × {args.teachers_per_school} teachers, "
          f"seed {args.seed}")
    print(f"  now {now:%Y-%m-%d %H:%M} UTC; school year {start} → {end}, week {done} is the last whose lesson "
          f"plans are due (deadline {deadline_of[done]:%Y-%m-%d %H:%M} UTC), week {done + 1} is due "
          f"{deadline_of[min(done + 1, 35)]:%Y-%m-%d %H:%M} UTC")
    if start.month not in (8, 9):
        print(f"  note: the year starts {start:%d/%m/%Y} so that {done} weeks are due today; "
              "pass --year-start 2026-09-07 for the real calendar (and fewer weeks due)")
    org = phases.run("organisation (authorities, schools, accounts, staff, assignments)",
                     write_organisation, cur, args, rng, refs, calendar, now)
    lessons, others, counts, stats = write_dossiers(cur, phases, org, args, rng, refs, calendar, now,
                                                    (deadlines, records_owed))

    def finish():
        for table in ("res_partner", "res_users", "hscm_authority", "hscm_school_year", "hscm_school_year_break",
                      "hscm_dossier_type_override", "hscm_school", "hscm_school_department",
                      "hscm_school_class", "hscm_staff", "hscm_teaching_assignment", "hscm_dossier",
                      "hscm_dossier_version", "hscm_dossier_approval"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"greatest((SELECT max(id) FROM {table}), 1))")
        cur.execute("SELECT implementation FROM ir_sequence WHERE id = %s", (refs["sequence"],))
        if cur.fetchone()[0] == "standard":
            cur.execute(f"SELECT setval('ir_sequence_{refs['sequence']:03d}', "
                        "greatest((SELECT max(id) FROM hscm_dossier), 1))")
        else:
            cur.execute("UPDATE ir_sequence SET number_next = (SELECT max(id) + 1 FROM hscm_dossier) WHERE id = %s",
                        (refs["sequence"],))
    phases.run("sequences", finish)

    # what is owed, with the project's own rules
    owed_total = 0
    owed_due = 0
    for a in org["assignments"]:
        first, last = a[4] or 1, a[5] or 35
        owed_total += max(0, last - first + 1)
        owed_due += max(0, min(last, done) - first + 1)
    items = submission_status.expected_lesson_plans(
        [submission_status.Assignment(a[0]["id"], a[2], a[1], a[3], a[4], a[5])
         for a in org["assignments"][:2000]], range(1, 36), unit="week")
    sample = sum(max(0, (a[5] or 35) - (a[4] or 1) + 1) for a in org["assignments"][:2000])
    assert sum(i.count for i in items) == sample, "owed plans differ from tools/submission_status.py"
    meta = {"generated_at": f"{now:%Y-%m-%d %H:%M:%S}", "weeks_done": done, "seed": args.seed,
            "schools": args.schools, "teachers_per_school": args.teachers_per_school,
            "school_year_id": org["year_id"], "authority_id": org["sgd"], "owed_year": owed_total,
            "owed_due": owed_due, "password": args.password}
    cur.execute("""INSERT INTO ir_config_parameter (key, value, create_uid, create_date, write_uid, write_date)
                   VALUES (%s, %s, 1, now() AT TIME ZONE 'UTC', 1, now() AT TIME ZONE 'UTC')
                   ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value""", (CONFIG_KEY, json.dumps(meta)))
    phases.run("commit", conn.commit)
    conn.autocommit = True
    phases.run("VACUUM ANALYZE", cur.execute, "VACUUM ANALYZE")
    conn.close()

    total = time.perf_counter() - phases.started
    c = {**org["counts"], **counts}
    teachers = sum(len(s["teachers"]) for s in org["schools"])
    print(f"\nDone in {total:.0f} s ({total / 60:.1f} min).\n")
    print("Rows written:")
    for table in ("hscm_authority", "hscm_school", "hscm_school_department", "hscm_school_class", "res_users",
                  "res_partner", "res_groups_users_rel", "hscm_staff", "hscm_school_class_hscm_staff_rel",
                  "hscm_teaching_assignment", "hscm_dossier", "hscm_dossier_hscm_school_class_rel",
                  "hscm_dossier_version", "hscm_dossier_approval", "hscm_dossier_current_approver_rel"):
        print(f"  {table:<38} {c.get(table, 0):>12,}")
    levels = {}
    for s in org["schools"]:
        levels[s["level"]] = levels.get(s["level"], 0) + 1
    print(f"\nSchools by level: {levels}; offices: {len(org['offices'])}; teachers: {teachers:,} "
          f"(+ {3 * len(org['schools']):,} leaders)")
    print(f"Owed lesson plans (one file per teacher, subject, class and week): {owed_total:,} over the year "
          f"({owed_total / max(teachers, 1) / 35:.2f} per teacher and week), {owed_due:,} due by week {done}")
    for kind, label, total in (("lesson", "Lesson plans", lessons), ("other", "Other tracked records", others)):
        st = {key: stats[kind, key] for _k, key in stats if _k == kind}
        owed = st["approved"] + st["submitted"] + st["rejected"] + st["missing"]
        print(f"{label}: {total:,} records — approved {st['approved']:,} (on time {st['on_time']:,}, "
              f"late {st['late']:,}), waiting {st['submitted']:,}, rejected {st['rejected']:,} "
              f"(resubmitted after a rejection: {st['resubmitted']:,}), drafts {st['draft']:,}; "
              f"missing {st['missing']:,} of {owed:,} due or handed in ({100 * st['missing'] / max(owed, 1):.1f} %)")
    print("\nPhases:")
    for label, seconds in phases.rows:
        print(f"  {label:<66} {seconds:8.1f} s")
    print_logins(org, args)
    return org


def print_logins(org, args):
    school = org["schools"][0]
    print(f"\nAccounts (password '{args.password}'):")
    print(f"  school {school['code']} {school['name']} ({school['level']}):")
    prefix = f"hc.s{school['number']:04d}"
    print(f"    principal {prefix}.ht, vice principal in charge of records {prefix}.pht1 (back office)")
    for dept in school["departments"][:3]:
        teacher = next(t for t in school["teachers"] if t["id"] == dept["head_staff"])
        login = f"{prefix}.gv{school['teachers'].index(teacher) + 1:02d}"
        print(f"    head of {dept['name']}: {login} (portal)")
    member = next(t for t in school["teachers"] if t.get("role", "teacher") == "teacher")
    print(f"    a teacher: {prefix}.gv{school['teachers'].index(member) + 1:02d} (portal)")
    if school["office"] is not None:
        office = org["offices"][school["office"]]
        print(f"  office inspector of {office['name']}: hc.phong{office['code'][-2:]}")
    print("  Sở leader: hc.so.lanhdao; Sở specialists: hc.so.cv.toan, hc.so.cv.ngu_van, hc.so.cv.tieng_anh, "
          "hc.so.cv.khtn, hc.so.cv.vat_ly, hc.so.cv.tieng_viet")
    print("  logins of school n: hc.sNNNN.ht / .pht1 / .pht2 / .gv01…; offices: hc.phong01…")


# --------------------------------------------------------------------------
# The ORM check
# --------------------------------------------------------------------------
class RollBack(Exception):
    """Raised to roll a savepoint back."""


def check(args):
    import odoo
    from odoo import api, fields, SUPERUSER_ID
    from odoo.exceptions import AccessDenied
    from odoo.tools import config

    _deadlines, _school_calendar, status_tools, _records_owed = load_tools()
    config.parse_config([f"--addons-path={Path(odoo.__file__).parent / 'addons'},{ROOT}",
                         f"--db_host={args.db_host}", f"--db_port={args.db_port}", f"--db_user={args.db_user}",
                         "--log-level=warn"])
    registry = odoo.modules.registry.Registry(args.db)
    problems = []

    def expect(condition, message):
        print(f"  {'ok ' if condition else 'FAIL'} {message}", flush=True)
        if not condition:
            problems.append(message)

    print(f"\nORM check of {args.db}:")
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        meta = json.loads(env["ir.config_parameter"].get_param(CONFIG_KEY))
        done = meta["weeks_done"]
        now = fields.Datetime.now()
        sgd = env["hscm.authority"].search([("code", "=", SGD_CODE)])
        year = env["hscm.school.year"].browse(meta["school_year_id"])
        school = env["hscm.school"].search([("code", "=", "HC-0001")])
        info = school.get_teaching_week(now)
        expect(bool(info), f"{school.name}: today is in teaching week {info and info['week']} "
                           f"(plans due up to week {done})")
        policy = env.ref("hscm_odoo.dossier_type_lesson_plan")._policy_for(school)
        expect(policy.file_unit == "week", "the lesson-plan policy of the Sở is one file per week")
        deadline_of = env["hscm.progress"]._deadlines(policy, year, range(1, 36))
        due_weeks = sum(1 for d in deadline_of.values() if d and d.astimezone(dt.timezone.utc).replace(
            tzinfo=None) < now)
        expect(due_weeks == done or due_weeks == done + 1,
               f"{due_weeks} weeks past their deadline now, {done} when generated")

        # the grid of a department head, with the head's rights, against plain SQL
        dept = env["hscm.school.department"].search([("school_id", "=", school.id)], limit=1)
        head = dept.head_id.user_id
        members = env["hscm.staff"].with_user(head).search([("school_department_id", "=", dept.id)])
        weeks = list(range(1, 36))
        t = time.perf_counter()
        grid = env["hscm.progress"].with_user(head)._grid(members, weeks, now=now)
        seconds = time.perf_counter() - t
        cr.execute("""
            SELECT a.staff_id, w.week, d.state, d.is_late
              FROM hscm_teaching_assignment a
              CROSS JOIN generate_series(1, 35) w(week)
              LEFT JOIN LATERAL (
                    SELECT d.state, d.is_late FROM hscm_dossier d
                      JOIN hscm_dossier_hscm_school_class_rel r ON r.hscm_dossier_id = d.id
                     WHERE d.owner_id = a.user_id AND d.subject_id = a.subject_id
                       AND r.hscm_school_class_id = a.class_id
                       AND d.week_number = w.week AND d.type_id = %s AND d.school_year_id = %s
                       AND d.state IN ('submitted', 'approved', 'rejected')) d ON true
             WHERE a.school_department_id = %s AND w.week BETWEEN coalesce(a.from_week, 1) AND coalesce(a.to_week, 35)
        """, (env.ref("hscm_odoo.dossier_type_lesson_plan").id, year.id, dept.id))
        expected = {}
        for staff_id, week, state, late in cr.fetchall():
            due = deadline_of[week]
            if state is None:
                status = status_tools.MISSING if due and now.replace(tzinfo=dt.timezone.utc) > due \
                    else status_tools.NOT_DUE
            else:
                status = {"submitted": status_tools.PENDING, "rejected": status_tools.REJECTED}.get(
                    state, status_tools.APPROVED_LATE if late else status_tools.APPROVED_ON_TIME)
            expected.setdefault((staff_id, week), []).append(status)
        got = {(s, w): cell.status for s, cells in grid.items() for w, cell in cells.items()}
        want = {key: status_tools.worst(v) for key, v in expected.items()}
        tally = {}
        for status in got.values():
            tally[status] = tally.get(status, 0) + 1
        expect(got == want, f"hscm.progress._grid as {head.login} (head of {dept.name}, {len(members)} "
                            f"teachers × 35 weeks): {len(got)} cells equal the SQL statuses, "
                            f"in {seconds * 1000:.0f} ms: {dict(sorted(tally.items()))}")
        if got != want:
            diff = [(k, got.get(k), want.get(k)) for k in set(got) | set(want) if got.get(k) != want.get(k)]
            print("      first differences:", diff[:5])
        rollup = env["hscm.progress"]._rollup(grid, now)
        print(f"      rollup: on time {rollup.on_time_pct} % of {rollup.owed} owed cells, waiting {rollup.waiting}")

        # dossiers through the ORM, as that head
        Dossier = env["hscm.dossier"].with_user(head)
        names = [name for name, description in Dossier.fields_get(attributes=["type"]).items()
                 if description["type"] != "binary"]  # the fields this user may read
        for state in ("approved", "submitted", "rejected", "draft"):
            dossier = Dossier.search([("school_department_id", "=", dept.id), ("state", "=", state)], limit=1)
            if not dossier:
                print(f"      (no {state} dossier in that department)")
                continue
            values = dossier.read(names)[0]
            missing = [n for n, f in Dossier._fields.items() if f.required and not values.get(n)]
            expect(not missing, f"read {state} {values['name']} ({values['title']}) as the head: "
                                f"{len(values)} fields, required ones filled, {values['version_count']} "
                                f"version(s), waiting for {len(values['current_approver_ids'])} user(s)")
        other = Dossier.search([("school_department_id", "=", dept.id), ("type_id", "!=", policy.type_id.id),
                                ("state", "=", "approved")], limit=1)
        if other:
            values = other.read(names)[0]
            expect(all(values.get(n) for n, f in Dossier._fields.items() if f.required),
                   f"read {values['name']} ({values['title']}) as the head")
        owed = env["hscm.progress"].with_user(head)._owed_records_of(dept.head_id, now=now)
        expect(isinstance(owed, list), f"_owed_records_of the head: {len(owed)} record(s) still owed around now "
                                       f"({', '.join(sorted({c.status for _t, _p, _d, c in owed})) or 'none'})")
        pending = Dossier.search([("school_department_id", "=", dept.id), ("state", "=", "submitted"),
                                  ("current_approver_ids", "in", head.ids)], limit=1)
        if pending:
            expect(pending.can_approve, f"{head.login} may decide {pending.name} (can_approve)")
            try:
                with cr.savepoint():
                    pending.action_reject("ORM check")
                    env.flush_all()
                    expect(pending.state == "rejected" and pending.version_ids[:1].rejection_reason == "ORM check",
                           f"{head.login} rejects {pending.name} through the ORM (rolled back)")
                    raise RollBack
            except RollBack:
                pass
        env.invalidate_all()

        # record rules of the oversight roles, against the scope computed in SQL
        office = env["hscm.authority"].search([("parent_id", "=", sgd.id)], limit=1, order="code")
        for login, domain_sql, args_sql in (
                (f"hc.phong{office.code[-2:]}" if office else None,
                 "school_id IN (SELECT id FROM hscm_school WHERE reports_to_id = %s)", (office.id,)),
                ("hc.so.lanhdao", "authority_id = %s", (sgd.id,)),
                ("hc.so.cv.toan", "authority_id = %s AND subject_id = %s",
                 (sgd.id, env.ref("hscm_odoo.subject_toan").id))):
            if not login:
                continue
            user = env["res.users"].search([("login", "=", login)])
            t = time.perf_counter()
            count = env["hscm.dossier"].with_user(user).search_count([])
            seconds = time.perf_counter() - t
            cr.execute(f"SELECT count(*) FROM hscm_dossier WHERE {domain_sql}", args_sql)
            want_count = cr.fetchone()[0]
            expect(count == want_count, f"{login} sees {count:,} dossiers (its scope: {want_count:,}) "
                                        f"in {seconds * 1000:.0f} ms")

        # constraints and stored computes of the generated organisation
        schools = env["hscm.school"].search([("authority_id", "=", sgd.id)])
        authorities = env["hscm.authority"].search([("department_id", "=", sgd.id)])
        staff = env["hscm.staff"].search([("school_id", "=", school.id)])
        samples = [(authorities, ["department_id"]), (schools, ["reports_to_id", "authority_id"]),
                   (staff, ["is_leader", "is_school_admin"]),
                   (env["hscm.teaching.assignment"].search([("school_id", "=", school.id)]),
                    ["user_id", "school_id", "school_department_id"])]
        for records, computed in samples:
            stored = {(r.id, f): r[f] for r in records for f in computed}
            records._validate_fields(list(records._fields))
            for name in computed:
                env.add_to_compute(records._fields[name], records)
                records._recompute_field(records._fields[name])
            again = {(r.id, f): r[f] for r in records for f in computed}
            expect(stored == again, f"{len(records)} {records._name}: constraints hold, stored "
                                    f"{', '.join(computed)} equal their computation")
        for model, domain in (("hscm.school.department", [("school_id", "=", school.id)]),
                              ("hscm.school.class", [("school_id", "=", school.id)]),
                              ("hscm.school.year", [("id", "=", year.id)])):
            records = env[model].search(domain)
            records._validate_fields(list(records._fields))
            expect(True, f"{len(records)} {model}: constraints hold")
        users = (staff.user_id | head)
        groups_ok = all((u.share == (not u._is_internal())) for u in users)
        before = {u.id: set(u.groups_id.ids) for u in users}
        users._hscm_sync_groups()
        after = {u.id: set(u.groups_id.ids) for u in users}
        expect(groups_ok and before == after,
               f"{len(users)} accounts of {school.code}: groups are those the positions give (sync changes nothing)")
        try:
            with cr.savepoint():
                head.with_user(head)._check_credentials(
                    {"login": head.login, "password": meta["password"], "type": "password"}, {"interactive": False})
            expect(True, f"{head.login} logs in with the generated password")
        except AccessDenied:
            expect(False, f"{head.login} logs in with the generated password")
        cr.rollback()
    print(f"\n{'ORM check passed' if not problems else f'{len(problems)} problem(s)'}.")
    return not problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--teachers-per-school", type=int, default=45)
    parser.add_argument("--weeks-done", type=int, default=20,
                        help="teaching weeks whose lesson plans are past their deadline now (1-34)")
    parser.add_argument("--year-start", help="first teaching day (the real calendar); overrides --weeks-done")
    parser.add_argument("--items-per-teacher-week", type=float, default=ITEMS_PER_TEACHER_WEEK,
                        help="owed plans per teacher and week the classes are sized for (6 M / 45,000 / 35)")
    parser.add_argument("--ahead", type=float, default=0.25,
                        help="share of the next week's plans already handed in")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--password", default="hcity")
    parser.add_argument("--reminders", action="store_true", help="leave reminder e-mails on in the schools")
    parser.add_argument("--check", action="store_true", help="run the ORM check after generating")
    parser.add_argument("--check-only", action="store_true", help="only run the ORM check")
    parser.add_argument("--db-host", default="127.0.0.1")
    parser.add_argument("--db-port", default="55439")
    parser.add_argument("--db-user", default="odoo")
    args = parser.parse_args()
    if not args.db.startswith("hcity"):
        parser.error("the database name must start with 'hcity'")
    if not 1 <= args.weeks_done <= 34:
        parser.error("--weeks-done must be between 1 and 34")
    if args.teachers_per_school < 20:
        parser.error("--teachers-per-school must be 20 or more")
    if not args.check_only:
        generate(args)
    if args.check or args.check_only:
        sys.exit(0 if check(args) else 1)


if __name__ == "__main__":
    main()
