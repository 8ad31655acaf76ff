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


def test_each_tools_size_is_given_in_its_own_megabyte(demo_results):
    """Beside each table, the demo gives that tool's size in that tool's megabyte (torchsummary 1024**2 bytes,
    torchinfo 10**6): LeNet(2)'s 245,304 bytes are 0.2339 of the one and 0.2453 of the other."""
    _, done, _ = demo_results
    said = [line for line in done["06_model_summary"].stdout.splitlines() if line.startswith("params size:")]
    assert len(said) == 1 and "torchsummary's 0.2339 MB, of 1024**2 bytes" in said[0] \
        and "torchinfo's 0.2453 MB, of 10**6 bytes (its table: 0.25)" in said[0], said
