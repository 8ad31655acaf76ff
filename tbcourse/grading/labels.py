"""What the instructor reads in the gradebook, the class report and the summary: every label in one place,
so that they can be translated together. Each is marked for the catalog with ``N_()`` and translated where it
is read (``LABELS[key]``), into the language in force then (``--lang``, ``COURSE_LANG``)."""
from collections.abc import Mapping

from tbcourse.i18n import N_, _

ENGLISH = {
    "maximum": N_("(maximum)"),
    "override unmatched": N_("override for student {student!r}, exercise {exercise!r}: no such student or exercise "
                             "in this class; not applied"),
    "title": N_("Class report"),
    "students": N_("{graded} of {count} students graded"),
    "totals": N_("Totals"),
    "totals plot": N_("Students per total (of {max} points)"),
    "total axis": N_("total points"),
    "students axis": N_("students"),
    "pass rates": N_("Pass rate per exercise"),
    "pass rate axis": N_("students who passed"),
    "exercise": N_("exercise"),
    "passed": N_("passed"),
    "reasons": N_("Why exercises failed"),
    "reasons intro": N_("Failure messages grouped by what they diagnose (numbers and quoted values set aside), "
                        "commonest first."),
    "reason": N_("reason"),
    "count": N_("students"),
    "who": N_("who"),
    "no failures": N_("no exercise failed"),
    "not graded": N_("Not graded"),
    "everyone graded": N_("every student was graded"),
    "status": N_("why"),
    "student": N_("student"),
    "mean": N_("mean {mean:.1f}, median {median:g}, lowest {low:g}, highest {high:g} of {max}"),
    "hardest": N_("hardest exercises:"),
    "hardest line": N_("  {title}: {rate:.0%} passed; commonest reason ({n}): {reason}"),
    "not graded line": N_("not graded: {students}"),
    "overrides": N_("overrides: {count} applied"),
    "override problems": N_("Files and overrides not used"),
    "hidden": N_("Public and hidden checks"),
    "hidden intro": N_("Points earned by the class in the checks students can run themselves (public) and in those "
                       "only this grade ran (hidden). A student who passed every public check of an exercise and "
                       "failed a hidden one may have fitted the answer to the public cases."),
    "public points": N_("public points"),
    "hidden points": N_("hidden points"),
    "public only": N_("passed public, failed hidden"),
    # what the intake says of a submission (tbcourse.grading.intake, tbcourse.grading.delivery)
    "no lesson": N_("{name}: matches no lesson: not graded"),
    "no student": N_("{name}: names no student: not graded"),
    "bad zip": N_("{name}: not a zip that can be read ({error}): not graded"),
    "zip beside folder": N_("{name}: student {student} also has a folder: not graded; put the work in one place"),
    "files beside folder": N_("files {names}: student {student} also has a folder or a zip: not graded; put the work "
                              "in one place"),
    "ambiguous": N_("{names} in {folder} all look like {lesson}: keep one, or name it {lesson}"),
}


class _Translated(Mapping):
    """``ENGLISH`` in the language in force at each look-up."""

    def __getitem__(self, key: str) -> str:
        return _(ENGLISH[key])

    def __iter__(self):
        return iter(ENGLISH)

    def __len__(self) -> int:
        return len(ENGLISH)


LABELS = _Translated()
