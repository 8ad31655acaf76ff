"""The platforms a class hands work in through — Gradescope and GitHub Classroom: their graders and what builds
their bundles. Imported by authoring/ (the release writes the Classroom workflow) and run as programs; it
imports grading/ and the runner's face, never the other way round."""
