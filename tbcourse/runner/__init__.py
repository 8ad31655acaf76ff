"""Runs functions of students' lesson files apart from the checks — forked, spawned, inside bubblewrap or as an
unprivileged user — and brings back plain data only. grading/ and platforms/ import its face, ``tbcourse.runner.api``,
and nothing else of it; the runner imports nothing from grading/."""
