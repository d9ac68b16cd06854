"""The trainer's fast paths compute the same quantities as the straightforward formulas."""

import pytest
import torch

from zslbench.errors import ConfigError
from zslbench.models import scaled_cosine
from zslbench.train.gzsl import cosine_side, make_adam, predict_logits, torch_threads
from zslbench.train.trace import TRACE_COLUMNS, TraceBuffer


def test_trace_row_matches_the_direct_formulas():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(32, 16, generator=g) * 3
    protos = torch.rand(10, 16, generator=g)
    hidden = torch.randn(10, 8, generator=g) * 2 + 1
    gamma = 5.0
    logits = scaled_cosine(x, protos, gamma)
    loss = torch.tensor(1.25)
    direct = {
        "loss": 1.25,
        "pre_mean": (x @ protos.t()).mean(),
        "pre_std": (x @ protos.t()).std(),
        "pre_var": (x @ protos.t()).var(),
        "post_mean": logits.mean(),
        "post_std": logits.std(),
        "post_var": logits.var(),
        "hidden_var": hidden.var(dim=0).mean(),
    }
    for kwargs in ({"feats": x}, {"feats": None, "feat_norms": x.norm(dim=1)}):
        buf = TraceBuffer(1, torch.device("cpu"))
        feats = kwargs.pop("feats")
        buf.record(3, loss, feats, protos, logits, hidden, gamma, **kwargs)
        frame = buf.to_frame()
        assert frame["epoch"].tolist() == [3]
        for col in TRACE_COLUMNS:
            assert frame[col].iloc[0] == pytest.approx(float(direct[col]), rel=1e-5), col


@pytest.mark.parametrize("batch_size", [64, 7])
def test_evaluation_with_the_feature_side_computed_once_gives_the_same_logits_bit_for_bit(batch_size):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(300, 2048, generator=g) * 3
    attrs = torch.rand(40, 24, generator=g)
    model = torch.nn.Sequential(torch.nn.Linear(24, 512), torch.nn.ReLU(), torch.nn.Linear(512, 2048))
    direct = predict_logits(model, attrs, x, 5.0, batch_size)
    assert torch.equal(predict_logits(model, attrs, cosine_side(x, 5.0), 5.0, batch_size, scaled=True), direct)


def test_disabled_trace_records_nothing():
    buf = TraceBuffer(5, torch.device("cpu"), enabled=False)
    buf.record(
        1, torch.tensor(0.0), None, torch.ones(3, 2), torch.ones(4, 3), torch.ones(3, 2), 5.0, feat_norms=torch.ones(4)
    )
    assert len(buf.to_frame()) == 0


def test_make_adam_matches_the_plain_adam_update():
    torch.manual_seed(0)
    w0 = torch.randn(64, 32)
    grads = [torch.randn(64, 32) for _ in range(5)]
    results = []
    for make in (make_adam, lambda p, lr, wd: torch.optim.Adam(p, lr=lr, weight_decay=wd, foreach=False)):
        w = torch.nn.Parameter(w0.clone())
        opt = make([w], 1e-2, 1e-4)
        for gr in grads:
            w.grad = gr.clone()
            opt.step()
        results.append(w.detach())
    torch.testing.assert_close(results[0], results[1], rtol=1e-5, atol=1e-6)


def test_torch_threads_sets_and_restores():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before
    with pytest.raises(ConfigError, match="threads"):
        with torch_threads(0):
            pass
