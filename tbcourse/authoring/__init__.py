"""The course authors' and CI's tools: the lesson build, notebooks, figures and screenshots, a
TensorBoard server for tests, the demo runner and the benchmark. Neither lessons nor the grader import them."""
