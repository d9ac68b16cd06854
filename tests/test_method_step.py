"""What a continual-ZSL method sees of a training step (zslbench.api.CZSLStep), the public logits
helper (zslbench.api.czsl_logits), methods written for the state only, and the example plugin's
Learning without Forgetting, whose distillation term is computed on the step's own logits."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from zslbench import api
from zslbench.config import CZSLConfig
from zslbench.data.features.types import ZSLData
from zslbench.models import scaled_cosine
from zslbench.train.czsl import _make_state, build_czsl_head, prepare_czsl, train_task
from zslbench.train.methods.base import position_logits

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def _lwf_module():
    """The example's lwf.py on its own (importing the example package would register its items
    in this process)."""
    spec = importlib.util.spec_from_file_location("lwf_under_test", ROOT / "examples/plugin/zslbench_example/lwf.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # the dataclasses of a module resolve their annotations there
    spec.loader.exec_module(module)
    return module


def _state(seed: int = 0, classnorm: bool = True):
    rng = np.random.default_rng(seed)
    n_classes, per_class = 8, 6
    labels = np.repeat(np.arange(n_classes), per_class)
    attrs = rng.random((n_classes, 5)).astype(np.float32)
    feats = (attrs[labels] @ rng.normal(size=(5, 16)) + 0.1 * rng.normal(size=(labels.size, 16))).astype(np.float32)
    idx = np.arange(labels.size)
    data = ZSLData(
        name="cub",
        source="synthetic",
        features=feats,
        labels=labels,
        attrs=attrs,
        trainval_idx=idx,
        test_seen_idx=idx[:0],
        test_unseen_idx=idx[:0],
        seen_classes=np.arange(n_classes),
        unseen_classes=np.arange(0),
        class_names=tuple(map(str, range(n_classes))),
        vintage="synthetic",
        fingerprint="step",
    )
    cfg = CZSLConfig(tasks_cub=4, epochs_per_task=1, batch_size=4, hidden_dim=8)
    setup = prepare_czsl(data, cfg, seed=seed)
    model = build_czsl_head(5, 16, cfg, classnorm)
    return _make_state(data, setup, cfg, model, torch.device("cpu"), seed), cfg, setup


class Spy(api.CZSLMethod):
    def __init__(self, cfg, settings, options=None):
        super().__init__(cfg, settings, options)
        self.steps: list = []

    def step_penalty(self, state, step):
        self.steps.append(step)
        return None


def _count_forwards(module: torch.nn.Module) -> list[int]:
    """Forward passes of ``module`` itself (a deep copy keeps the hook but is not counted)."""
    calls = [0]

    def hook(mod, *_):
        if mod is module:
            calls[0] += 1

    module.register_forward_hook(hook)
    return calls


def test_a_method_sees_each_steps_inputs_labels_and_logits_of_the_one_forward_pass():
    state, cfg, setup = _state()
    method = Spy(cfg, setup.settings)
    calls = _count_forwards(state.model)
    row = train_task(state, method, 1)
    assert len(method.steps) == row["iterations"] == calls[0]  # one forward of the model per step
    hi = state.offsets[2]
    for step in method.steps:
        assert step.task == 1
        torch.testing.assert_close(step.inputs, state.encode(step.indices))
        assert torch.equal(step.labels, state.train_pos[step.indices])
        assert set(step.labels.tolist()) <= set(range(state.offsets[1], hi))
        assert step.logits.shape == (len(step.indices), hi) and step.logits.requires_grad
        assert step.loss.ndim == 0
    # the logits are those of the step's model: recomputed with the trained weights they differ
    last = method.steps[-1]
    state.model.train()
    again = scaled_cosine(last.inputs, state.model(state.attrs[:hi]), state.gamma)
    assert again.shape == last.logits.shape and not torch.allclose(again, last.logits)


class OldStyle(api.CZSLMethod):
    """A method written for ``penalty(state)`` only."""

    def __init__(self, cfg, settings, options=None):
        super().__init__(cfg, settings, options)
        self.calls = 0

    def penalty(self, state):
        self.calls += 1
        return 0.5 * sum((p**2).sum() for p in state.params())


def test_a_method_overriding_penalty_of_the_state_still_registers_and_trains():
    api.register_method("old-style-penalty", OldStyle, description="penalty(state) only")
    try:
        state, cfg, setup = _state()
        method = api.METHODS.get("old-style-penalty")(cfg, setup.settings)
        row = train_task(state, method, 0)
        assert method.calls == row["iterations"] > 0
        plain, _, _ = _state()
        train_task(plain, Spy(cfg, setup.settings), 0)
        # the penalty took part: the weights differ from a run without it
        assert not torch.allclose(state.model.last.weight, plain.model.last.weight)
    finally:
        api.METHODS.remove("old-style-penalty")


def test_a_penalty_that_wants_the_step_is_refused_with_what_to_change():
    class WantsStep(api.CZSLMethod):
        def penalty(self, state, step):
            return None

    with pytest.raises(TypeError, match=r"override step_penalty\(state, step\) instead"):
        api.register_method("wants-step", WantsStep)
    assert "wants-step" not in api.METHODS


def test_the_logits_helper_leaves_running_statistics_and_the_mode_alone():
    state, cfg, setup = _state()
    train_task(state, Spy(cfg, setup.settings), 0)  # running statistics of the first task
    state.task = 1
    state.model.train()
    x = state.encode(state.task_train_idx[1][:5])
    before = [b.clone() for b in state.model.buffers()]
    n = state.offsets[2]

    evaluated = api.czsl_logits(state, x)
    state.model.eval()
    torch.testing.assert_close(evaluated, scaled_cosine(x, state.model(state.attrs[:n]), state.gamma))
    state.model.train()
    trained = api.czsl_logits(state, x, n, train_mode=True)
    assert state.model.training
    for a, b in zip(before, state.model.buffers()):
        assert torch.equal(a, b)
    assert trained.requires_grad and trained.shape == (5, n)
    # the same numbers as a training step's forward pass, which does move the statistics
    torch.testing.assert_close(trained, position_logits(state, x, n))
    assert any(not torch.equal(a, b) for a, b in zip(before, state.model.buffers()))


def test_lwf_distils_the_previous_model_on_the_steps_own_logits():
    lwf = _lwf_module()
    state, cfg, setup = _state()
    records = []

    class Recording(lwf.LearningWithoutForgetting):
        def step_penalty(self, state, step):
            term = super().step_penalty(state, step)
            # what the term depends on, while the step's graph is still there
            grad = None if term is None else torch.autograd.grad(term, step.logits, retain_graph=True)[0]
            records.append((step, term, self.old_model, grad))
            return term

    method = Recording(cfg, setup.settings, lwf.LwFOptions(temperature=2.0, lam=0.7))
    calls = _count_forwards(state.model)
    train_task(state, method, 0)
    assert all(term is None for _, term, _, _ in records)  # no earlier task, nothing to distil
    records.clear()
    calls[0] = 0
    row = train_task(state, method, 1)
    assert calls[0] == row["iterations"] == len(records) == method.n_distilled  # no second forward pass
    n_old = state.offsets[1]
    for step, term, old_model, grad in records:
        with torch.no_grad():
            old = api.czsl_logits(state, step.inputs, n_old, model=old_model)
        soft = F.softmax(old / 2.0, dim=1)
        expected = -0.7 * (soft * F.log_softmax(step.logits[:, :n_old] / 2.0, dim=1)).sum(1).mean()
        torch.testing.assert_close(term.detach(), expected.detach())
        # the term is a function of the step's logits (of its old classes only)
        assert grad[:, :n_old].abs().sum() > 0 and torch.all(grad[:, n_old:] == 0)
    assert method.summary() == {"temperature": 2.0, "lam": 0.7, "distilled_steps": method.n_distilled}


@pytest.mark.parametrize("values", [{"temperature": 0.0}, {"lam": -1.0}])
def test_lwf_options_refuse_values_outside_their_range(values):
    with pytest.raises(ValueError):
        _lwf_module().LwFOptions(**values)
