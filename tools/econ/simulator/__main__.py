"""Serve the economic-data simulator on loopback: ``python -m tools.econ.simulator --port 8801``.

Then point the application at it, e.g. ``ECOS_BASE_URL=http://127.0.0.1:8801/ecos`` with
``ECOS_API_KEY`` set to the simulator's key (logged at start; simulator keys are not secrets).
"""

from __future__ import annotations

import argparse
import logging

import uvicorn

from tools.econ.simulator.app import EconSimulator
from tools.econ.simulator.state import SimulatorState

logger = logging.getLogger("tools.econ.simulator")


def main() -> None:
    """Parse the port and serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8801)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    simulator = EconSimulator(SimulatorState())
    urls = simulator.base_urls(f"http://127.0.0.1:{args.port}")
    keys = simulator.state.keys
    for name, url, key in (
        ("ECOS", urls.ecos, keys.ecos),
        ("FRED", urls.fred, keys.fred),
        ("DART", urls.dart, keys.dart),
    ):
        logger.info("%s_BASE_URL=%s  %s_API_KEY=%s", name, url, name, key)
    uvicorn.run(simulator.app(), host="127.0.0.1", port=args.port, access_log=False)


if __name__ == "__main__":
    main()
