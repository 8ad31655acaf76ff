"""What lesson 05's demo logs: LeNet's graph in the lesson's folder, AlexNet's in its subfolder alexnet."""
from tbcourse.kit.events import graph


def module_scopes(run):
    return {part for node in graph(run).node for part in node.name.split("/")[1:2] if part.endswith("]")}


def test_lenet_graph(demo_logs):
    nodes = graph(demo_logs["05_add_graph"]).node
    assert module_scopes(demo_logs["05_add_graph"]) == \
        {"Conv2d[conv1]", "Conv2d[conv2]", "Linear[fc1]", "Linear[fc2]", "Linear[fc3]"}
    assert {n.op for n in nodes} >= {"aten::_convolution", "aten::max_pool2d", "aten::relu", "aten::linear"}


def test_alexnet_graph(demo_logs):
    names = [n.name for n in graph(demo_logs["05_add_graph"] / "alexnet").node]
    assert module_scopes(demo_logs["05_add_graph"] / "alexnet") == \
        {"Sequential[features]", "AdaptiveAvgPool2d[avgpool]", "Sequential[classifier]"}
    assert any(name.startswith("AlexNet/Sequential[classifier]/Linear[6]/") for name in names)


def test_no_deprecation_warning_printed(demo_results):
    _, done, _ = demo_results
    assert "is deprecated" not in done["05_add_graph"].stderr, done["05_add_graph"].stderr[-1000:]
