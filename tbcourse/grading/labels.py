"""What the instructor reads in the gradebook, the class report and the summary: every label in one place,
so that they can be translated together."""

LABELS = {
    "maximum": "(maximum)",
    "override unmatched": "override for student {student!r}, exercise {exercise!r}: no such student or exercise "
                          "in this class; not applied",
    "title": "Class report",
    "students": "{graded} of {count} students graded",
    "totals": "Totals",
    "totals plot": "Students per total (of {max} points)",
    "total axis": "total points",
    "students axis": "students",
    "pass rates": "Pass rate per exercise",
    "pass rate axis": "students who passed",
    "exercise": "exercise",
    "passed": "passed",
    "reasons": "Why exercises failed",
    "reasons intro": "Failure messages grouped by what they diagnose (numbers and quoted values set aside), "
                     "commonest first.",
    "reason": "reason",
    "count": "students",
    "who": "who",
    "no failures": "no exercise failed",
    "not graded": "Not graded",
    "everyone graded": "every student was graded",
    "status": "why",
    "student": "student",
    "mean": "mean {mean:.1f}, median {median:g}, lowest {low:g}, highest {high:g} of {max}",
    "hardest": "hardest exercises:",
    "hardest line": "  {title}: {rate:.0%} passed; commonest reason ({n}): {reason}",
    "not graded line": "not graded: {students}",
    "overrides": "overrides: {count} applied",
    "override problems": "Files and overrides not used",
    # what the intake says of a submission (tbcourse.grading.intake, tbcourse.grading.delivery)
    "no lesson": "{name}: matches no lesson: not graded",
    "no student": "{name}: names no student: not graded",
    "bad zip": "{name}: not a zip that can be read ({error}): not graded",
    "zip beside folder": "{name}: student {student} also has a folder: not graded; put the work in one place",
    "files beside folder": "files {names}: student {student} also has a folder or a zip: not graded; put the work "
                           "in one place",
    "ambiguous": "{names} in {folder} all look like {lesson}: keep one, or name it {lesson}",
}
