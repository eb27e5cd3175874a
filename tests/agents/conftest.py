"""Fixtures of the agents' tests: the executor's rigs (see `executor_rig`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agents.executor_rig import Rig, make_rig


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def rig(sqlite_url: str, tmp_path: Path) -> Iterator[Rig]:
    """A broker that knows client order ids (like the paper broker)."""
    yield from make_rig(sqlite_url, tmp_path, tags=True)


@pytest.fixture
def kis_rig(sqlite_url: str, tmp_path: Path) -> Iterator[Rig]:
    """A broker that knows client order ids only while this process remembers them (KIS)."""
    yield from make_rig(sqlite_url, tmp_path, tags=False)
