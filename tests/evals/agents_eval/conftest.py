import socket
from collections.abc import Iterator

import pytest


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Fail any socket connection (an offline eval must not try the network)."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError(f"network attempt to {address} during an offline eval")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.delenv("LANGSMITH_API_KEY", raising=False)
    yield attempts
