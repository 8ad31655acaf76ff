"""One source, two languages: the Chinese of every lesson cell, message and README is there and current, keeps
the glossary's terms and the English's code and numbers; the English build leaves it out, a Chinese build puts
it in place, and a changed English is reported stale; messages follow --lang, COURSE_LANG, a release's language
and the locale."""
import re
import subprocess
import sys

import pytest

from tbcourse import i18n
from tbcourse.authoring import catalogs
from tbcourse.authoring.build import catalog_translator, lesson_text, strip_solutions
from tbcourse.authoring.translation_check import problems
from tbcourse.authoring.translations import Cell, Untranslated, english_hash, faithful, glossary, in_language, pairs
from tbcourse.grading.grade import scorecard
from tbcourse.settings import HIDDEN_TESTS, ROOT

ENGLISH = "# %% [markdown]\n# ## The scaling rule\n#\n# A float image is multiplied by 255.\n\n"
CODE = '# %%\ndef f(x):\n    ### BEGIN SOLUTION 09.1: return x doubled\n    return 2 * x\n    ### END SOLUTION\n'


def translated(english=ENGLISH, signed=None):
    body = "# ## 缩放规则\n#\n# 浮点图像乘以 255。\n\n"
    sign = signed or english_hash(Cell(1, "", english.partition("\n")[2]))
    return f'{english}# %% [markdown] en="{sign}" lang="zh"\n{body}{CODE}'


def test_the_english_build_leaves_every_translation_out():
    assert in_language(translated(), "en") == ENGLISH + CODE


def test_a_chinese_build_puts_each_translation_in_place_of_its_english():
    assert in_language(translated(), "zh") == "# %% [markdown]\n# ## 缩放规则\n#\n# 浮点图像乘以 255。\n\n" + CODE


@pytest.mark.parametrize("source, complaint", [
    (ENGLISH + CODE, "has no zh translation"),
    (translated(signed="0badc0de"), r"changed since its zh translation was written \(translated from 0badc0de"),
    (re.sub(r' en="\w+"', "", translated()), "not signed"),
])
def test_a_missing_or_stale_translation_is_named(source, complaint):
    with pytest.raises(Untranslated, match=complaint):
        in_language(source, "zh", "solutions/09_x.py")
    said = pairs(source, "zh", "solutions/09_x.py")[1]
    assert said[0].startswith("solutions/09_x.py:1: the cell '## The scaling rule'"), said


def test_a_todo_without_a_translation_is_named_and_one_with_it_is_chinese():
    with pytest.raises(Untranslated, match=r"09\.1 'return x doubled' has no translation"):
        strip_solutions(CODE, "solutions/09_x.py", catalog_translator("zh"))
    task = catalogs.todo_tasks()[0][0]
    marked = f"    ### BEGIN SOLUTION 00.1: {task}\n    pass\n    ### END SOLUTION\n"
    stub = strip_solutions(marked, "x", catalog_translator("zh"))
    assert stub == f"    raise NotImplementedError({'TODO(00.1): ' + catalog_translator('zh')(task)!r})\n"


def test_the_glossary_codes_and_numbers_hold_a_translation():
    terms = glossary()
    assert terms["feature map"] == ["特征图"] and terms["vanishing gradient"] == ["梯度消失"]
    english = "The `ones * 1.1` feature maps became 280.5, the 'fake_img' tag."
    assert faithful("x", english, "`ones * 1.1` 的特征图变成了 280.5，'fake_img' 标签。", terms) == []
    assert faithful("x", english, "`ones * 1.1` 的特征映射变成了 280，'fake_img'。", terms) == [
        "x: 'feature map' is translated without the glossary's 特征图", "x: 'tag' is translated without the glossary's 标签",
        "x: the number 280.5 of the English is missing from the translation"]


def test_a_changed_english_message_is_reported_stale_and_a_new_one_missing(monkeypatch):
    fresh, loaded = catalogs.template(), catalogs.load("zh")
    first = next(m for m in loaded if m.id == "total: {total}/{best} points")
    first.flags.add("fuzzy")
    first.previous_id = ["total: {total} of {best} points"]
    fresh.add("a message added since")
    monkeypatch.setattr(catalogs, "DOMAINS", [catalogs.COURSE])
    monkeypatch.setattr(catalogs, "template", lambda domain=catalogs.COURSE: fresh)
    monkeypatch.setattr(catalogs, "load", lambda lang, domain=catalogs.COURSE: loaded)
    found = catalogs.problems()
    assert any("no zh for 'a message added since'" in line for line in found), found
    assert any("stale zh for 'total: {total}/{best} points'" in line and "'total: {total} of {best} points'" in line
               for line in found), found


def test_every_message_and_the_readme_have_a_current_faithful_translation():
    found = [line for line in problems() if not line.startswith("solutions/")]
    assert not found, f"{len(found)} problems (make catalogs, then edit the .po):\n" + "\n".join(found)


def test_every_lesson_cell_has_a_current_faithful_translation():
    found = [line for line in problems() if line.startswith("solutions/")]
    assert not found, f"{len(found)} cells of the lessons lack a current Chinese:\n" + "\n".join(found)


@pytest.mark.parametrize("env, expected", [
    ({"COURSE_LANG": "zh"}, "zh"), ({"COURSE_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"), ({"LANG": "en_US.UTF-8"}, "en"), ({"LC_ALL": "zh_TW.UTF-8", "LANG": "C"}, "zh"),
])
def test_the_language_follows_course_lang_then_the_locale(monkeypatch, env, expected):
    for var in ("COURSE_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert i18n.language() == expected


def test_a_release_language_comes_before_the_locale(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_LANG", raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.setattr(i18n, "RELEASE_LANGUAGE", tmp_path / "LANGUAGE")
    (tmp_path / "LANGUAGE").write_text("zh\n", encoding="utf-8")
    assert i18n.language() == "zh"
    monkeypatch.setenv("COURSE_LANG", "en")
    assert i18n.language() == "en"


def test_the_scorecard_is_chinese_and_aligned(monkeypatch):
    monkeypatch.setenv("COURSE_LANG", "zh")
    results = {"01.1": {"lesson": "01_add_image", "function": "log_note_images", "points": 0, "max": 3,
                        "passed": False, "message": "还没有完成：TODO(01.1)：…", "hint": "提示的文字"}}
    card = scorecard(results).splitlines()
    assert card[0].split() == ["课", "练习", "函数", "得分", "结果"] and "未通过" in card[2] and card[-1] == "总分：0/3"
    assert i18n.width(card[0].rstrip()) <= i18n.width(card[2]), card
    assert card[3].lstrip().startswith("提示：提示的文字（逐级提示：python -m tbcourse hint 01.1）")


def test_the_cli_speaks_the_language_of_lang(tmp_path):
    def hint(*lang):
        command = [sys.executable, "-m", "tbcourse", *lang, "hint", "01.1", "--seen", str(tmp_path / "seen")]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, encoding="utf-8", check=True,
                              env={"PATH": "", "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"}).stdout
    assert "hint 1 of 3" in hint() and "提示 2/3" in hint("--lang", "zh")


def test_the_chinese_lesson_of_a_translated_source_is_built_whole():
    task = catalogs.todo_tasks()[0][0]
    lesson = lesson_text(translated().replace("return x doubled", task), "09_x", "solutions/09_x.py", "zh")
    assert "缩放规则" in lesson and "scaling rule" not in lesson and "## 检查你的代码" in lesson
    assert f"TODO(09.1): {catalog_translator('zh')(task)}" in lesson and "2 * x" not in lesson


def test_the_hidden_checks_speak_from_a_catalog_no_release_ships(monkeypatch):
    """A release ships the course's catalog: the messages of the hidden checks would tell what they look at."""
    shipped = {m.id for m in catalogs.load("zh") if m.id}
    course = {m.id for m in catalogs.template() if m.id}
    hidden_only = {m.id for m in catalogs.template(catalogs.HIDDEN) if m.id} - course
    assert hidden_only, "the hidden checks say nothing of their own"
    assert not hidden_only & shipped, f"the course's catalog holds the hidden checks' {sorted(hidden_only & shipped)}"
    sys.path.insert(0, str(HIDDEN_TESTS))
    from hidden_messages import _ as hidden

    message = sorted(hidden_only)[0]
    monkeypatch.setenv("COURSE_LANG", "zh")
    assert hidden(message) != message, "the hidden checks' own catalog is not read"
    monkeypatch.setenv("COURSE_LANG", "en")
    assert hidden(message) == message
