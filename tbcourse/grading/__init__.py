"""The grader: the pytest plugin and the graded tests' way to student code (``student``), the grade of one folder
(``grade``), a class's gradebook, watch mode, progress and the manifest. It runs student code only through the
runner's face (``tbcourse.runner.api``); imported by the CLI, platforms/ and authoring/, never by the runner."""
