"""The gradebook of a class, for a spreadsheet and an LMS: ``reports/gradebook.csv`` and ``reports/lms.csv``.

- A **roster** (``--roster``, ``make grade ROSTER=file``): a CSV with the columns ``id,name,folder``, one row
  per student; ``folder`` is the student's folder (or the name the intake gave the student's files).
  Its id and name are joined to the student's row.
- **Overrides** (``--overrides``, ``make grade OVERRIDES=file``): a CSV with the columns
  ``student,exercise,points,reason``, where ``exercise`` is an id (``01.2``) or ``total``. The grader only
  reads it, so it survives every rerun; each override replaces the points it names and is listed, with its
  reason, in the row's ``adjustments``. An override naming no student or exercise of the class is an error.
- ``gradebook.csv`` is UTF-8 with a byte-order mark (Excel then reads 李雷 right), its first row below the
  header holds the maxima, and each exercise's column is headed by its title (``01.2 displayed_pixels()``),
  which no spreadsheet takes for a number. A cell a spreadsheet would run as a formula is quoted.
- ``lms.csv`` is what Canvas's and Moodle's grade imports take: ``Student`` (name), ``SIS User ID`` (the
  roster's id) and one column of points named after the assignment (``--assignment``).
"""
import csv
from dataclasses import dataclass, field
from pathlib import Path

from tbcourse.grading.intake import shown
from tbcourse.grading.labels import LABELS
from tbcourse.grading.manifest import exercises, graded_points

ROSTER_COLUMNS, OVERRIDE_COLUMNS = ("id", "name", "folder"), ("student", "exercise", "points", "reason")
ASSIGNMENT = "TensorBoard part 2"


class BadInput(ValueError):
    """A roster or overrides file the grader cannot use: the message says where and why."""


@dataclass
class Override:
    student: str
    exercise: str  # an exercise id, or "total"
    points: float
    reason: str


@dataclass
class Row:
    student: str
    id: str
    name: str
    points: dict[str, float]
    total: float
    max: int | None
    status: str
    adjustments: list[str] = field(default_factory=list)


@dataclass
class Table:
    ids: list[str]
    maxima: dict[str, int]
    rows: list[Row]
    records: dict[str, dict]
    problems: list[str]

    @property
    def max_total(self) -> int:
        return sum(self.maxima.values())


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as src:
            reader = csv.DictReader(src)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise BadInput(f"{path}: needs the columns {', '.join(columns)} (missing {', '.join(missing)})")
            return [{k: (row.get(k) or "").strip() for k in columns} for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise BadInput(f"{path}: cannot be read as UTF-8 CSV ({err})") from err


def read_roster(path: Path | None) -> dict[str, dict]:
    """folder -> {"id", "name"}; empty without a roster."""
    if path is None:
        return {}
    roster = {}
    for n, row in enumerate(_read_csv(path, ROSTER_COLUMNS), start=2):
        if not row["folder"]:
            raise BadInput(f"{path}, line {n}: no folder")
        roster[row["folder"]] = {"id": row["id"], "name": row["name"]}
    return roster


def read_overrides(path: Path | None) -> list[Override]:
    if path is None:
        return []
    found = []
    for n, row in enumerate(_read_csv(path, OVERRIDE_COLUMNS), start=2):
        try:
            points = float(row["points"])
        except ValueError:
            raise BadInput(f"{path}, line {n}: points {row['points']!r} is not a number") from None
        found.append(Override(row["student"], row["exercise"], int(points) if points.is_integer() else points,
                              row["reason"]))
    return found


def table(records: dict[str, dict], roster: dict[str, dict], overrides: list[Override]) -> Table:
    """The class's rows, overrides applied; ``problems`` says which overrides matched nothing."""
    manifest = exercises()
    graded = {ex: rec for r in records.values() for ex, rec in r["exercises"].items()}
    ids = [ex for ex in manifest if ex in graded] or list(manifest)
    points = graded_points()
    maxima = {ex: graded[ex]["max"] if ex in graded else points.get(ex, 0) for ex in ids}
    rows, problems = {}, []
    for student in sorted(records):
        rec, who = records[student], roster.get(student, {})
        got = {ex: rec["exercises"].get(ex, {}).get("points", 0) for ex in ids}
        rows[student] = Row(student, who.get("id", ""), who.get("name", ""), got, rec["total"], rec["max"],
                            rec["status"])
    for o in overrides:
        row = rows.get(o.student)
        if row is None or (o.exercise != "total" and o.exercise not in ids):
            problems.append(LABELS["override unmatched"].format(student=o.student, exercise=o.exercise))
            continue
        if o.exercise == "total":
            row.total = o.points
        else:
            row.total += o.points - row.points[o.exercise]
            row.points[o.exercise] = o.points
        row.adjustments.append(f"{o.exercise}: {o.points} ({o.reason})")
    return Table(ids, maxima, list(rows.values()), records, problems)


def cell(text: str) -> str:
    """A text cell that no spreadsheet runs as a formula (a leading = + - @ tab or return is quoted), and that
    holds no control character."""
    text = shown(text)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_gradebook(book: Table, path: Path) -> None:
    """gradebook.csv: the maxima, then a row per student; rewritten whole and atomically."""
    manifest = exercises()
    titles = [manifest[ex].title for ex in book.ids]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8-sig") as out:
        sheet = csv.writer(out)
        sheet.writerow(["student", "id", "name", *titles, "total", "max", "status", "adjustments"])
        sheet.writerow([LABELS["maximum"], "", "", *(book.maxima[ex] for ex in book.ids), book.max_total,
                        book.max_total, "", ""])
        for row in book.rows:
            sheet.writerow([cell(row.student), cell(row.id), cell(row.name), *(row.points[ex] for ex in book.ids),
                            row.total, row.max or "", cell(row.status), cell("; ".join(row.adjustments))])
    tmp.replace(path)


def write_lms(book: Table, path: Path, assignment: str = ASSIGNMENT) -> None:
    """lms.csv: the student's name, the roster's id and the total, for Canvas's or Moodle's grade import."""
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8-sig") as out:
        sheet = csv.writer(out)
        sheet.writerow(["Student", "SIS User ID", assignment])
        for row in book.rows:
            sheet.writerow([cell(row.name or row.student), cell(row.id), row.total])
    tmp.replace(path)


def write_all(records: dict[str, dict], reports: Path, roster: dict[str, dict], overrides: list[Override],
              problems: list[str] = ()) -> Table:
    """gradebook.csv and lms.csv in ``reports``; the table they were written from, with ``problems`` (of the
    intake) among its own."""
    book = table(records, roster, overrides)
    book.problems[:0] = problems
    reports.mkdir(parents=True, exist_ok=True)
    write_gradebook(book, reports / "gradebook.csv")
    write_lms(book, reports / "lms.csv")
    return book
