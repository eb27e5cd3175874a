"""The application shell: settings, CLI, HTTP API and scheduler."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("market-auto-trader")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
