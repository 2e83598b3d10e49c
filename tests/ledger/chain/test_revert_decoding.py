"""A contract's refusal is named from whichever node reports it.

Each node flavour puts the revert bytes somewhere else in its JSON-RPC error object, and
web3.py 8 turns each into a different exception (ContractCustomError, ContractLogicError with
a dict, a plain Web3RPCError). The error objects below are the shapes those nodes send, with
the ABI-encoded custom errors of our own contracts inside, answered over loopback HTTP to a
real web3 client, so the exceptions under test are the ones web3 raises for them.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from ledger.chain.errors import decode_revert, is_revert, revert_data_of, revert_payload

ACCOUNT = Web3.to_checksum_address("0x70997970c51812dc3a010c7d01b50e20d17dc79c")
WORK_ID = bytes.fromhex("ab" * 32)
TX_HASH = "0x" + "5e" * 32
# web3 tries to read "Reverted 0x<custom error>" as a reason string and warns that it is none.
pytestmark = pytest.mark.filterwarnings("ignore:Could not decode revert reason as UTF-8:RuntimeWarning")
STACK = (
    "RuntimeError: VM Exception while processing transaction: revert\n"
    "    at exactimate (ganache/dist/node/1.js:2:182136)"
)


def encoded(signature: str, types: list[str], values: list) -> str:
    return "0x" + (function_signature_to_4byte_selector(signature) + encode(types, values)).hex()


# WorkRegistry.WorkUnauthorized(bytes32 workId, address account), as the contract reverts with it.
UNAUTHORIZED = encoded("WorkUnauthorized(bytes32,address)", ["bytes32", "address"], [WORK_ID, ACCOUNT])
# LicenseRegistry.LicenseTooDeep(uint256 parentId, uint8 maxDepth)
TOO_DEEP = encoded("LicenseTooDeep(uint256,uint8)", ["uint256", "uint8"], [41, 8])
# require(..., "reason"): Error(string)
ERROR_STRING = encoded("Error(string)", ["string"], ["ERC20: transfer amount exceeds balance"])

# The error objects each node flavour answers eth_estimateGas / eth_call with on a revert.
FLAVOURS = {
    "anvil": lambda data: {"code": 3, "message": "execution reverted: custom error 0x" + data[2:10], "data": data},
    "hardhat": lambda data: {
        "code": -32603,
        "message": "Error: VM Exception while processing transaction: reverted with custom error",
        "data": {
            "message": "Error: VM Exception while processing transaction: reverted with custom error",
            "data": data,
        },
    },
    "ganache-7": lambda data: {
        "message": "VM Exception while processing transaction: revert",
        "stack": STACK,
        "code": -32000,
        "name": "RuntimeError",
        "data": {"hash": None, "programCounter": 1676, "result": data, "reason": None, "message": "revert"},
    },
    "ganache-7-sent": lambda data: {  # a sent transaction: its hash is hex as well, and no revert
        "message": "VM Exception while processing transaction: revert",
        "code": -32000,
        "data": {"hash": TX_HASH, "programCounter": 1676, "result": data, "reason": None, "message": "revert"},
    },
    "ganache-6": lambda data: {
        "message": "VM Exception while processing transaction: revert",
        "code": -32000,
        "data": {
            TX_HASH: {"error": "revert", "program_counter": 92, "return": data},
            "stack": STACK,
            "name": "RuntimeError",
        },
    },
    "geth": lambda data: {"code": 3, "message": "execution reverted", "data": data},
    "besu": lambda data: {"code": -32000, "message": "Execution reverted", "data": data},
    "besu-reverted-prefix": lambda data: {"code": -32015, "message": "VM execution error.", "data": f"Reverted {data}"},
    "relay-wrapped": lambda data: {
        "code": -32603,
        "message": "execution reverted",
        "data": {"originalError": {"code": 3, "data": data, "message": "execution reverted"}},
    },
}


class Node(BaseHTTPRequestHandler):
    """Answers eth_estimateGas and eth_call with the error object it was given, and eth_chainId
    (which web3 asks first, to validate the transaction) as chain 31337."""

    error: dict = {}

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answer = (
            {"error": type(self).error}
            if request["method"] in ("eth_estimateGas", "eth_call")
            else {"result": "0x7a69"}
        )
        body = json.dumps({"jsonrpc": "2.0", "id": request["id"], **answer}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def node():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Node)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Web3(Web3.HTTPProvider(f"http://127.0.0.1:{server.server_port}", exception_retry_configuration=None))
    server.shutdown()


def refusal(w3: Web3, error: dict, method: str = "estimate_gas") -> Exception:
    Node.error = error
    tx = {"from": ACCOUNT, "to": "0x5FbDB2315678afecb367f032d93F642f64180aa3", "data": "0x12345678"}
    with pytest.raises((ContractLogicError, Web3RPCError)) as raised:
        getattr(w3.eth, method)(tx)
    return raised.value


@pytest.mark.parametrize("method", ["estimate_gas", "call"])
@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_a_custom_error_is_named_with_its_values_from_every_node_flavour(node, flavour, method):
    exc = refusal(node, FLAVOURS[flavour](UNAUTHORIZED), method)

    revert = decode_revert(revert_data_of(exc))

    assert is_revert(exc)
    assert (revert.name, revert.args_by_name) == ("WorkUnauthorized", {"workId": WORK_ID, "account": ACCOUNT.lower()})


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_a_reason_string_is_named_error_with_its_message_from_every_node_flavour(node, flavour):
    exc = refusal(node, FLAVOURS[flavour](ERROR_STRING))

    revert = decode_revert(revert_data_of(exc))

    assert is_revert(exc)
    assert (revert.name, revert.args_by_name) == ("Error", {"message": "ERC20: transfer amount exceeds balance"})


def test_web3_raises_different_exceptions_for_the_flavours_and_each_is_read(node):
    """Why the decoder reads `.data` as a string or an object, and `.rpc_response` too: web3 8
    raises a ContractCustomError for geth's and Besu's custom errors, a ContractLogicError
    carrying the whole object for Ganache and Hardhat, and a bare Web3RPCError for Besu's
    Error(string) revert (code -32000, "Execution reverted", which it does not see as a revert)."""
    besu_string = refusal(node, FLAVOURS["besu"](ERROR_STRING))
    besu_custom = refusal(node, FLAVOURS["besu"](TOO_DEEP))
    ganache = refusal(node, FLAVOURS["ganache-7"](TOO_DEEP))

    assert (type(besu_string), type(besu_custom), type(ganache)) == (
        Web3RPCError,
        ContractCustomError,
        ContractLogicError,
    )
    assert isinstance(ganache.data, dict)
    assert [decode_revert(revert_data_of(exc)).name for exc in (besu_string, besu_custom, ganache)] == [
        "Error",
        "LicenseTooDeep",
        "LicenseTooDeep",
    ]
    assert decode_revert(revert_data_of(ganache)).args_by_name == {"parentId": 41, "maxDepth": 8}


def test_a_node_refusing_for_its_own_reasons_is_no_revert(node):
    exc = refusal(node, {"code": -32000, "message": "insufficient funds for gas * price + value"})

    assert not is_revert(exc)
    assert revert_data_of(exc) is None


def test_a_revert_without_data_is_an_unknown_revert(node):
    exc = refusal(node, {"code": 3, "message": "execution reverted"})

    assert is_revert(exc)
    assert decode_revert(revert_data_of(exc)).name == "UnknownRevert"


def test_a_besu_receipt_revert_reason_is_read():
    receipt = {"status": "0x0", "revertReason": TOO_DEEP, "transactionHash": TX_HASH}

    assert decode_revert(revert_payload(receipt)).name == "LicenseTooDeep"
