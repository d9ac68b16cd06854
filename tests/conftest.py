"""Shared pytest fixtures."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def one_thread():
    """Train with one torch thread, then restore the caller's count. The test models are tiny: on
    a shared 2-core machine a second intra-op thread only adds contention (training becomes
    several times slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
