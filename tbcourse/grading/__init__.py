"""The grader: runs the graded tests against a folder of lesson files, with student code kept in
processes of its own (student proxy, sandbox), and turns their verdicts into a scorecard, a report
and a class gradebook."""
