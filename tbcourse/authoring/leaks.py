"""What of an answer a release (or the autograder's zip) must not hold, and where it does: ``leaks(folder)``.

Two rules, on every text file of the folder:

- **Lines**: a line of an answer (inside the solution markers of ``solutions/``) of at least ``MIN_CHARS``
  characters, found whole in a line of the file.
- **Recipes**: the same answer in other words, in what people read: the built lessons' prose, comments and
  TODOs, and every text file that is not Python (the syllabus, the hints, the READMEs). An answer's line is
  cut into tokens (names, numbers, operators, brackets, in their order: ``n_params * bytes_per_param /
  1024**2`` is seven); any ``RUN`` of them in a row found among the file's tokens is a recipe. Python code
  that ships (the graded tests, the kit) shares the language's idioms with the answers; that no function of
  the graded tests solves an exercise is checked by running them as one (tests/course/test_shipped_helpers.py).

Neither rule counts what the lessons show anyway: an answer's line that also stands outside the markers, a run
of tokens found in the lessons' code outside the markers (the demos show the library's calls on other values,
on purpose). ``CONTRACT`` names the exercises whose answer transcribes the lesson's own table (the notes'
calls): that table is the question, so their lines count whole only, and their runs count as shown.
"""
import re
from pathlib import Path

from tbcourse.authoring.build import BEGIN, END, strip_solutions
from tbcourse.settings import LESSONS, ROOT, SOLUTIONS, lesson_names

MIN_CHARS = 20  # a shorter line of an answer (`return rows`) tells too little to be worth a search
RUN = 7  # tokens of an answer's line in a row: shorter runs are the language's and the libraries' idiom
TOKEN = re.compile(r"[A-Za-z_]\w*|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\*\*|//|[-+*/%<>!=]=?|[()\[\]{},.:@]")
ACTIONS = {".", "[", "=", "**", "//", "*", "/", "+", "-", "%", "<", ">", "<=", ">=", "==", "!="}
CONTRACT = {
    "01.1": "the five calls are the notes' table, which the lesson prints: logging them is the exercise",
    "02.4": "the six grids' options are the lesson's table: logging them is the exercise",
}


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def runs(toks: list[str]) -> set[tuple[str, ...]]:
    """The runs of RUN tokens that do something: a call, an index, an operator or a number. A bare list of
    names (a shape's ``c_out, c_in, kh, kw``, a hook's ``(module, inputs, output)``) names a contract."""
    out = set()
    for i in range(len(toks) - RUN + 1):
        run = toks[i:i + RUN]
        acting = any(tok[0].isdigit() or tok in ACTIONS or (tok == "(" and k and run[k - 1][0].isalpha())
                     for k, tok in enumerate(run))
        if acting:
            out.add(tuple(run))
    return out


def answer_lines() -> list[tuple[str, str, str]]:
    """(exercise, line stripped, where: ``solutions/NN_topic.py:line``) of every line inside the markers."""
    found = []
    for name in lesson_names():
        path = SOLUTIONS / f"{name}.py"
        exercise = None
        for number, line in enumerate(read(path).splitlines(), start=1):
            begin = BEGIN.match(line)
            if begin or END.match(line):
                exercise = begin["id"] if begin else None
            elif exercise and line.strip():
                found.append((exercise, line.strip(), f"{path.relative_to(ROOT)}:{number}"))
    return found


def shown_code() -> tuple[str, set]:
    """What the lessons show anyway: their text outside the markers, and the token runs of its code lines."""
    shown = "".join(strip_solutions(read(SOLUTIONS / f"{name}.py")) for name in lesson_names())
    code = [line for line in shown.splitlines() if not line.lstrip().startswith("#")]
    return shown, runs(tokens("\n".join(code)))


def solution_lines() -> dict[str, str]:
    """Each line of an answer worth searching for -> where it is (``solutions/NN_topic.py:line``): at least
    MIN_CHARS long, and not something the lessons show anyway (``with torch.no_grad():``)."""
    shown, _ = shown_code()
    lines = {}
    for _, line, where in answer_lines():
        if len(line) >= MIN_CHARS and line not in shown:
            lines.setdefault(line, where)
    return lines


def recipe_runs() -> dict[tuple[str, ...], str]:
    """Each run of RUN tokens of an answer's line -> where the line is; what the lessons show left out."""
    _, shown = shown_code()
    lines = answer_lines()
    shown |= {run for exercise, line, _ in lines if exercise in CONTRACT for run in runs(tokens(line))}
    found = {}
    for _, line, where in lines:
        for run in runs(tokens(line)) - shown:
            found.setdefault(run, where)
    return found


def searched_lines(path: Path, text: str, folder: Path) -> list[tuple[int, str]]:
    """The numbered lines of a file that the recipe rule searches: a built lesson's prose, comments and TODOs,
    every line of a text that is not Python, nothing of other Python files."""
    lines = list(enumerate(text.splitlines(), start=1))
    if path.parent == folder / LESSONS.relative_to(ROOT) and path.suffix == ".py":
        return [(n, line) for n, line in lines if line.lstrip().startswith("#") or "TODO(" in line]
    return [] if path.suffix == ".py" else lines


def leaks(folder: Path) -> list[str]:
    """Each line of a file in ``folder`` (its .git left out) holding a line of an answer, and each place holding
    a recipe: ``file:line: 'the answer's line or run' (solutions/NN_topic.py:line)``."""
    answers, recipes, found = solution_lines(), recipe_runs(), []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.relative_to(folder).parts):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # the images
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            found += [f"{path.relative_to(folder)}:{number}: {answer!r} ({where})"
                      for answer, where in answers.items() if answer in line]
        searched = searched_lines(path, text, folder)
        toks = [(number, tok) for number, line in searched for tok in tokens(line)]
        reported = set()
        for i in range(len(toks) - RUN + 1):
            run = tuple(tok for _, tok in toks[i:i + RUN])
            if run in recipes and (toks[i][0], recipes[run]) not in reported:
                reported.add((toks[i][0], recipes[run]))
                found.append(f"{path.relative_to(folder)}:{toks[i][0]}: recipe {' '.join(run)!r} ({recipes[run]})")
    return found
