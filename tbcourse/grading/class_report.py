"""The class at a glance: ``reports/class.html`` (one page that opens offline) and a one-screen text summary.

The page shows the distribution of totals and the pass rate per exercise as images drawn with matplotlib
(embedded in the page: no network, no JavaScript), the commonest reasons each exercise failed (the messages
grouped by what they diagnose, with counts and the students behind each), who was not graded and why, and
the overrides that matched nothing, and where an exercise has hidden checks, the points earned in public and
in hidden ones, with who passed the public checks only. Every section is a function of the gradebook's
``Table`` in ``SECTIONS``: a new one is one more function there. Every label comes from
``tbcourse.grading.labels``, in the language in force; a figure's labels fall back to English when no font
installed has the translation's characters (``CJK_FONTS``), rather than show empty boxes.
"""
import base64
import html
import io
import re
import statistics
from collections import defaultdict
from functools import lru_cache

from tbcourse.grading.book import Table
from tbcourse.grading.intake import shown
from tbcourse.grading.labels import ENGLISH, LABELS
from tbcourse.grading.manifest import exercises

REASONS_SHOWN = 5  # per exercise
# Fonts with Chinese characters, the figures' fallback after matplotlib's own (which has none): Linux, Windows, macOS
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "Microsoft YaHei", "SimHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "Arial Unicode MS")
STYLE = """body{font-family:sans-serif;max-width:70em;margin:1em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;
vertical-align:top}th{background:#f3f3f3}img{max-width:100%}.n{text-align:right}"""


def diagnosis(message: str, student: str) -> str:
    """What a failure message diagnoses, the same for every student it happens to: its first line, without the
    student's name, numbers, or quoted values."""
    lines = message.replace(f"{shown(student)}'s work", "the work").strip().splitlines()
    first = re.sub(r"\s*\(raised at [^)]*\)", "", lines[0]) if lines else "(no message)"
    first = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", first)
    first = re.sub(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?", "#", first)
    return re.sub(r"\s+", " ", first)[:200]


def titles_of_exercises() -> dict[str, str]:
    """Exercise id -> its title as the scorecard shows it (``01.2 displayed_pixels()``)."""
    return {ex: info.title for ex, info in exercises().items()}


def graded_records(book: Table) -> dict[str, dict]:
    return {s: r for s, r in book.records.items() if r["status"] == "graded"}


def pass_rates(book: Table) -> dict[str, float]:
    graded = graded_records(book)
    return {ex: sum(r["exercises"].get(ex, {}).get("passed", False) for r in graded.values()) / len(graded)
            for ex in book.ids} if graded else {}


def reasons(book: Table) -> dict[str, list[tuple[str, list[str]]]]:
    """exercise -> [(diagnosis, students)], commonest first."""
    found = defaultdict(lambda: defaultdict(list))
    for student, rec in graded_records(book).items():
        for ex, result in rec["exercises"].items():
            if not result["passed"]:
                found[ex][diagnosis(result["message"], student)].append(student)
    return {ex: sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])) for ex, groups in found.items()}


def totals(book: Table) -> list[float]:
    graded = graded_records(book)
    return [row.total for row in book.rows if row.student in graded]


def summary(book: Table) -> str:
    """The one-screen text printed at the end of ``make grade``."""
    marks, titles = totals(book), titles_of_exercises()
    lines = [LABELS["students"].format(graded=len(marks), count=len(book.rows))]
    if marks:
        lines.append(LABELS["mean"].format(mean=statistics.mean(marks), median=statistics.median(marks),
                                           low=min(marks), high=max(marks), max=book.max_total))
        rates, why = pass_rates(book), reasons(book)
        hardest = sorted((rate, ex) for ex, rate in rates.items() if rate < 1)[:3]
        if hardest:
            lines.append(LABELS["hardest"])
        for rate, ex in hardest:
            reason, who = why[ex][0]
            lines.append(LABELS["hardest line"].format(title=titles[ex], rate=rate, n=len(who), reason=reason))
    left_out = [shown(row.student) for row in book.rows if row.student not in graded_records(book)]
    if left_out:
        lines.append(LABELS["not graded line"].format(students=", ".join(left_out)))
    if any(row.adjustments for row in book.rows):
        lines.append(LABELS["overrides"].format(count=sum(len(row.adjustments) for row in book.rows)))
    lines += book.problems
    return "\n".join(lines)


@lru_cache(maxsize=None)
def _cjk_fonts() -> tuple[str, ...]:
    """The fonts of ``CJK_FONTS`` that are installed."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return tuple(name for name in CJK_FONTS if name in installed)


def _plot_label(key: str) -> str:
    """``LABELS[key]`` for a figure: in English when no installed font can draw the translation."""
    text = LABELS[key]
    return text if text.isascii() or _cjk_fonts() else ENGLISH[key]


def _figure_html(draw, alt: str) -> str:
    """A matplotlib figure drawn by ``draw(axes)``, as an <img> holding its PNG."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure  # no pyplot: no window, no global state

    with rc_context({"font.family": ["DejaVu Sans", *_cjk_fonts()]}):  # each glyph from the first font having it
        fig = Figure(figsize=(8, 2.8), dpi=100, layout="constrained")
        draw(fig.add_subplot())
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def totals_section(book: Table) -> str:
    marks = totals(book)
    if not marks:
        return ""

    def draw(ax):
        ax.hist(marks, bins=range(0, book.max_total + 2), color="#4477aa", edgecolor="white", align="left")
        ax.set(xlabel=_plot_label("total axis"), ylabel=_plot_label("students axis"), xlim=(-1, book.max_total + 1))
        ax.yaxis.get_major_locator().set_params(integer=True)
    alt = LABELS["totals plot"].format(max=book.max_total)
    stats = LABELS["mean"].format(mean=statistics.mean(marks), median=statistics.median(marks), low=min(marks),
                                  high=max(marks), max=book.max_total)
    return f"<h2>{LABELS['totals']}</h2><p>{html.escape(stats)}</p>{_figure_html(draw, alt)}"


def pass_rate_section(book: Table) -> str:
    rates = pass_rates(book)
    if not rates:
        return ""

    def draw(ax):
        ax.bar(list(rates), [100 * r for r in rates.values()], color="#228833")
        ax.set(ylabel=_plot_label("pass rate axis"), ylim=(0, 100), xlabel=_plot_label("exercise"))
        ax.yaxis.set_major_formatter("{x:.0f}%")
        ax.tick_params(axis="x", labelrotation=90 if len(rates) > 12 else 0)
    titles = titles_of_exercises()
    rows = [[titles[ex], f"{rate:.0%}"] for ex, rate in rates.items()]
    return (f"<h2>{LABELS['pass rates']}</h2>{_figure_html(draw, LABELS['pass rates'])}"
            + _table([LABELS["exercise"], LABELS["passed"]], rows))


def reasons_section(book: Table) -> str:
    why, titles = reasons(book), titles_of_exercises()
    rows = [[titles[ex], reason, str(len(who)), ", ".join(map(shown, sorted(who)))]
            for ex in book.ids for reason, who in why.get(ex, [])[:REASONS_SHOWN]]
    body = (_table([LABELS["exercise"], LABELS["reason"], LABELS["count"], LABELS["who"]], rows) if rows
            else f"<p>{LABELS['no failures']}</p>")
    return f"<h2>{LABELS['reasons']}</h2><p>{LABELS['reasons intro']}</p>{body}"


def not_graded_section(book: Table) -> str:
    graded = graded_records(book)
    rows = [[shown(row.student), shown(row.status)] for row in book.rows if row.student not in graded]
    body = _table([LABELS["student"], LABELS["status"]], rows) if rows else f"<p>{LABELS['everyone graded']}</p>"
    problems = "".join(f"<li>{html.escape(p)}</li>" for p in book.problems)
    return (f"<h2>{LABELS['not graded']}</h2>{body}"
            + (f"<h2>{LABELS['override problems']}</h2><ul>{problems}</ul>" if problems else ""))


def public_and_hidden(book: Table) -> dict[str, dict]:
    """exercise -> the class's public and hidden points (earned, possible) and the students who passed every
    public check of it and failed a hidden one; only exercises graded with hidden checks."""
    split = {}
    for student, rec in graded_records(book).items():
        for ex, r in rec["exercises"].items():
            if not r.get("hidden_max"):
                continue
            entry = split.setdefault(ex, {"public": [0, 0], "hidden": [0, 0], "public only": []})
            public, public_max = r["points"] - r["hidden_points"], r["max"] - r["hidden_max"]
            entry["public"][0] += public
            entry["public"][1] += public_max
            entry["hidden"][0] += r["hidden_points"]
            entry["hidden"][1] += r["hidden_max"]
            if public == public_max and r["hidden_points"] < r["hidden_max"]:
                entry["public only"].append(student)
    return split


def hidden_section(book: Table) -> str:
    split, titles = public_and_hidden(book), titles_of_exercises()
    if not split:
        return ""
    rows = [[titles[ex], "{} / {}".format(*s["public"]), "{} / {}".format(*s["hidden"]),
             ", ".join(map(shown, sorted(s["public only"])))] for ex, s in split.items()]
    return (f"<h2>{LABELS['hidden']}</h2><p>{LABELS['hidden intro']}</p>"
            + _table([LABELS["exercise"], LABELS["public points"], LABELS["hidden points"], LABELS["public only"]],
                     rows))


SECTIONS = [totals_section, pass_rate_section, reasons_section, hidden_section, not_graded_section]


def write_report(book: Table, path) -> None:
    """reports/class.html, rewritten whole."""
    graded = LABELS["students"].format(graded=len(totals(book)), count=len(book.rows))
    page = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{LABELS["title"]}</title>'
            f"<style>{STYLE}</style></head><body><h1>{LABELS['title']}</h1><p>{html.escape(graded)}</p>"
            + "".join(section(book) for section in SECTIONS) + "</body></html>\n")
    path.write_text(page, encoding="utf-8")
