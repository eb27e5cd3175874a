"""The local receiver fixture (`tests.tools.notify.receiver`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.tools.notify.receiver import Receiver, running_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A fresh HTTP receiver on 127.0.0.1."""
    with running_receiver() as state:
        yield state


@pytest.fixture
def anyio_backend() -> str:
    """The notifiers run on asyncio (as the runner does)."""
    return "asyncio"
