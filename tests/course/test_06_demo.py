"""What lesson 06's demo logs: the two summaries of LeNet as text, and the three totals of the tied model."""
from tbcourse.kit.events import accumulator


def texts(run):
    acc = accumulator(run)
    return {tag: acc.Tensors(tag)[0].tensor_proto.string_val[0].decode() for tag in acc.Tags()["tensors"]}


def test_summaries_logged_as_text(demo_logs):
    logged = texts(demo_logs["06_model_summary"])
    assert set(logged) == {"lenet/torchsummary/text_summary", "lenet/torchinfo/text_summary",
                           "tied/total_params/text_summary"}
    assert "Total params: 61,326" in logged["lenet/torchsummary/text_summary"]
    assert "Params size (MB): 0.23" in logged["lenet/torchsummary/text_summary"]
    assert "Params size (MB): 0.25" in logged["lenet/torchinfo/text_summary"]
    assert logged["tied/total_params/text_summary"].splitlines() == \
        ["- model.parameters(): 152", "- torchsummary: 288", "- torchinfo: 216"]
