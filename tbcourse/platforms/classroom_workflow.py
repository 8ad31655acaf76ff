"""GitHub Classroom's workflow for a student release: ``classroom.yml`` beside this file, filled in.

A step of classroom-resources/autograding-command-grader (the actions GitHub Classroom itself generates) per
exercise of the manifest, worth the points of its graded tests, that passes when ``python -m
tbcourse.platforms.classroom`` finds the exercise passed in reports/grade.json; a step that writes the
scorecard into the run's summary (the command grader shows a student only a failed exit code); and
classroom-resources/autograding-grading-reporter with every step as a runner.
"""
import json
from pathlib import Path

from tbcourse.grading.manifest import exercises, graded_points
from tbcourse.settings import EXERCISE_ID, TESTED_PINS, TESTED_PYTHON, TORCH_CPU_INDEX

TEMPLATE = Path(__file__).with_name("classroom.yml")
CHECK_MINUTES = 1  # an exercise's step of the Classroom workflow only reads reports/grade.json


def step_id(exercise: str) -> str:
    """An exercise's step in the workflow, letters and digits as the reporter wants: ``01.2`` -> ``ex0102``."""
    parts = EXERCISE_ID.match(exercise)
    return f"ex{parts['lesson']}{int(parts['n']):02d}"


def classroom_workflow() -> str:
    """GitHub Classroom's workflow: ``classroom.yml`` with a step per exercise and the reporter's runners."""
    points, steps, env = graded_points(), [], []
    for exercise in exercises().values():
        name, step = json.dumps(exercise.title), step_id(exercise.id)
        steps.append(f"""      - name: {name}
        id: {step}
        uses: classroom-resources/autograding-command-grader@v1
        with:
          test-name: {name}
          command: .venv/bin/python -m tbcourse.platforms.classroom {exercise.id}
          timeout: {CHECK_MINUTES}
          max-score: {points[exercise.id]}
""")
        env.append(f'          {step.upper()}_RESULTS: "${{{{steps.{step}.outputs.result}}}}"\n')
    fill = {"{{python}}": TESTED_PYTHON, "{{torch index}}": TORCH_CPU_INDEX, "{{pins}}": " ".join(TESTED_PINS),
            "{{exercise steps}}\n": "".join(steps), "{{reporter env}}\n": "".join(env),
            "{{runners}}": ",".join(step_id(ex) for ex in exercises())}
    text = TEMPLATE.read_text(encoding="utf-8")
    for placeholder, value in fill.items():
        text = text.replace(placeholder, value)
    return text
