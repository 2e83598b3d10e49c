"""An external chain per test: Hardhat (Cancun) and Ganache (Shanghai), from npm, each started on
a free loopback port and stopped afterwards."""

from __future__ import annotations

import pytest

from tests.helpers.external_nodes import KINDS, ExternalNode


@pytest.fixture(params=sorted(KINDS))
def node(request, tmp_path) -> ExternalNode:
    started = ExternalNode(KINDS[request.param], tmp_path).start()
    yield started
    started.stop()
