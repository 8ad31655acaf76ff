"""The code of "TensorBoard, part 2": ``settings`` (the layout, shared by all), ``kit/`` (what lessons import),
``runner/`` (runs student code apart), ``grading/`` (the grader), ``platforms/`` (Gradescope, GitHub Classroom)
and ``authoring/`` (authors' and CI's tools). Imported by lessons (``kit`` only), the graded tests and the CLI."""
