"""The dev container opens the course set up: the file is valid against the schema written from the Dev
Container specification, builds on the Python the course is tested with, sets up the course with its own
command, forwards TensorBoard's port and recommends the Python and Jupyter extensions."""
import json

import jsonschema
import pytest

from tbcourse.settings import ROOT

CONFIG = ROOT / ".devcontainer" / "devcontainer.json"
SCHEMA = json.loads((ROOT / "docs" / "devcontainer.schema.json").read_text(encoding="utf-8"))


def test_valid_against_the_specification():
    jsonschema.validate(json.loads(CONFIG.read_text(encoding="utf-8")), SCHEMA)


@pytest.mark.parametrize("broken", [{"forwardPort": [6006]}, {"forwardPorts": ["tensorboard"]},
                                    {"postCreateCommand": 3}, {"image": ""}])
def test_the_schema_can_refuse(broken):
    config = {**json.loads(CONFIG.read_text(encoding="utf-8")), **broken}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(config, SCHEMA)


def test_sets_up_what_the_course_needs():
    config = json.loads(CONFIG.read_text(encoding="utf-8"))
    assert "python:1-3.11" in config["image"], "the course is tested on Python 3.11"
    assert config["postCreateCommand"] == "python -m tbcourse setup"
    assert 6006 in config["forwardPorts"], "TensorBoard's port (make tensorboard) is not forwarded"
    assert {"ms-python.python", "ms-toolsai.jupyter"} <= set(config["customizations"]["vscode"]["extensions"])
