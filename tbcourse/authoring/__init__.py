"""The course authors' and CI's tools: the lesson build, notebooks, figures and screenshots, a
TensorBoard server for tests, the demo runner, the benchmark and the student release. Neither lessons
nor the grader import them."""
