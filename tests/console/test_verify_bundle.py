"""The web console's bundle (api/console/static/console.js, built by scripts/build-console)
checks a real statement against a real Anvil chain, run under Node as a browser would run it:
the period committed by the service, every line proven both by the Merkle library and by the
contract, and a tampered line or an untrusted registry refused."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from eth_utils import keccak, to_checksum_address

from ledger.chain import artifacts
from ledger.chain.verify import verify_statement
from ledger.currencies import CURRENCIES
from ledger.settlement.lines import LINE_TYPES
from tests.helpers.service import running_service
from tests.helpers.settings import free_port
from tests.helpers.settlement import close, make_deal, post_report, rows, wait_status

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "api" / "console" / "static"
BUILT = [STATIC / "console.js", STATIC / "currency.js"]
SOURCES = ROOT / "console" / "src"
ARTIFACTS = ROOT / "ledger" / "artifacts"

# Reads {"module": file URL, "jobs": [...]} on stdin and prints one outcome per job: the value,
# or the message a rejected promise carried.
RUNNER = r"""
import { readFileSync } from "node:fs";
const { module, jobs } = JSON.parse(readFileSync(0, "utf8"));
const lib = await import(module);
const outcomes = [];
for (const job of jobs) {
  try {
    if (job.call === "verifyStatement") {
      const progress = [];
      const result = await lib.verifyStatement({ ...job.args, onProgress: (done, total) => progress.push([done, total]) });
      outcomes.push({ value: result, progress: { calls: progress.length, first: progress[0], last: progress.at(-1) } });
    } else if (job.call === "names") {
      outcomes.push({ value: Object.keys(lib).sort() });
    } else if (job.call === "exports") {
      outcomes.push({ value: { names: Object.keys(lib).sort(), charts: lib.Chart.registry.controllers.get("bar") !== undefined } });
    } else {
      outcomes.push({ value: lib[job.call](...job.args) });
    }
  } catch (error) {
    outcomes.push({ error: String(error && error.message || error) });
  }
}
process.stdout.write(JSON.stringify(outcomes));
"""


def node(module: Path, jobs: list[dict]) -> list[dict]:
    done = subprocess.run(
        ["node", "--input-type=module", "-e", RUNNER],
        cwd=ROOT,
        capture_output=True,
        text=True,
        input=json.dumps({"module": module.as_uri(), "jobs": jobs}),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The built modules, rebuilt if a source is newer, copied as .mjs so that Node loads them
    as the ES modules they are whatever its module detection does with a .js file."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    sources = [
        *SOURCES.iterdir(),
        ROOT / "console" / "build.mjs",
        ROOT / "package-lock.json",
        *ARTIFACTS.glob("*.json"),
    ]
    if any(not b.exists() or any(s.stat().st_mtime > b.stat().st_mtime for s in sources) for b in BUILT):
        subprocess.run([str(ROOT / "scripts" / "build-console")], cwd=ROOT, check=True, timeout=120)
    copies = tmp_path_factory.mktemp("bundle")
    for b in BUILT:
        shutil.copyfile(b, copies / f"{b.stem}.mjs")
    return copies


@pytest.fixture(scope="module")
def bundle(built) -> Path:
    return built / "console.mjs"


@pytest.fixture(scope="module")
def currency(built) -> Path:
    return built / "currency.mjs"


@pytest.fixture(scope="module")
def closed(tmp_path_factory):
    """A service with a finalised period of two lines, one of them paid off chain; yields the
    service and the platform's statement of every line."""
    with running_service(tmp_path_factory.mktemp("svc") / "data", write_wait=10, dispute_window=2) as service:
        deal = make_deal(service)
        posted = post_report(deal, "weekly-1", rows(deal))
        assert posted.status_code == 201, posted.text
        closing = close(deal)
        assert closing.status_code == 201, closing.text
        period = closing.json()
        assert wait_status(deal.platform, period["period_id"], "finalised")["status"] == "finalised"
        owner_line = deal.owner.get(f"/periods/{period['period_id']}/statement").json()["lines"][0]["index"]
        paid = deal.owner.post(
            f"/periods/{period['period_id']}/lines/{owner_line}/paid-off-chain",
            json={"payment_ref": "bank transfer #1"},
        )
        assert paid.status_code == 200, paid.text
        statement = deal.platform.get(f"/periods/{period['period_id']}/statement").json()
        assert len(statement["lines"]) == 2
        yield service, statement, owner_line


def verify_jobs(service, *statements, registry=None, rpc_url=None, code_hash=None) -> list[dict]:
    chain = service.ledger.chain
    args = {"rpcUrl": rpc_url or chain.rpc_url, "registry": registry or chain.addresses["SettlementRegistry"]}
    if code_hash:
        args["codeHash"] = code_hash
    return [{"call": "verifyStatement", "args": {**args, "statement": s}} for s in statements]


def _names(fragment) -> set[str]:
    """Every name in an ABI fragment: the function's, its parameters' and their components'."""
    found = {fragment.get("name", "")}
    for part in [*fragment.get("inputs", []), *fragment.get("outputs", []), *fragment.get("components", [])]:
        found |= _names(part)
    return found


CALLED = {"SettlementRegistry": {"period", "verifyLine", "isLineSettled"}, "PeriodPayout": {"claim"}}


def test_the_bundle_carries_the_functions_it_calls_and_nothing_else_of_the_contracts(bundle):
    text = bundle.read_text()
    compiled = {name: artifacts.load(name) for name in CALLED}
    functions = {name: {f["name"]: f for f in c.abi if f.get("type") == "function"} for name, c in compiled.items()}
    named = set()  # what the bundle names anyway: the functions called, their parameters, struct fields ("root")
    for contract, used in CALLED.items():
        assert used <= set(functions[contract])
        assert all(f'name:"{name}"' in text for name in used)
        named |= set().union(*(_names(functions[contract][name]) for name in used))
    for contract, c in compiled.items():
        assert not [name for name in set(functions[contract]) - named if f'name:"{name}"' in text], contract
        assert c.deployed_bytecode[2:][200:264] not in text  # the artifact's bytecode stays out


def test_each_module_exports_what_the_pages_use(bundle, currency):
    [outcome] = node(bundle, [{"call": "exports"}])
    assert outcome["value"] == {
        "names": ["Chart", "claimWithWallet", "settledLines", "verifyStatement"],
        "charts": True,
    }
    assert currency.stat().st_size < 8_000  # every page loads it: no library rides along
    [outcome] = node(currency, [{"call": "names"}])
    assert outcome["value"] == ["formatMicroMinor", "formatMinor", "minorExponent", "parseMajor"]


# Lays out random lines with console/src/calldata.js and with the libraries it stands in for.
LAYOUT = r"""
import { readFileSync } from "node:fs";
const { calldata, abi, types, periodId, lines } = JSON.parse(readFileSync(0, "utf8"));
const mine = await import(calldata);
const { Interface } = await import("ethers");
const { StandardMerkleTree } = await import("@openzeppelin/merkle-tree");
const registry = new Interface(abi);
const [verifyLine, isLineSettled] = ["verifyLine", "isLineSettled"].map((name) => registry.getFunction(name).selector);
const differ = [];
for (const line of lines) {
  const leaf = [BigInt(line.index), line.payee, line.work_id, BigInt(line.amount), BigInt(line.rule), BigInt(line.split)];
  const words = mine.leafWords(leaf);
  const pairs = [
    [mine.leafHash(words), StandardMerkleTree.of([leaf], types, { sortLeaves: false }).leafHash(leaf)],
    [mine.verifyLineData(verifyLine, periodId, words, line.proof), registry.encodeFunctionData("verifyLine", [periodId, leaf, line.proof])],
    [mine.isLineSettledData(isLineSettled, periodId, leaf[0]), registry.encodeFunctionData("isLineSettled", [periodId, leaf[0]])],
  ];
  pairs.forEach(([a, b], which) => { if (a !== b) differ.push({ line, which, a, b }); });
}
const bools = ["0x" + "0".repeat(63) + "1", "0x" + "0".repeat(64), "0x" + "0".repeat(63) + "2", "0x01", null].map((r) => {
  try { return mine.decodeBool(r); } catch { return "refused"; }
});
process.stdout.write(JSON.stringify({ differ, bools }));
"""


def test_lines_are_laid_out_as_the_abi_and_merkle_libraries_lay_them_out(built):
    import random

    rng = random.Random(7)
    word = lambda bits: rng.getrandbits(bits)  # noqa: E731
    lines = [
        {
            "index": str(word(rng.choice((8, 64, 256)))),
            "payee": to_checksum_address(rng.randbytes(20)),
            "work_id": "0x" + rng.randbytes(32).hex(),
            "amount": str(word(rng.choice((1, 40, 256)))),
            "rule": str(word(32)),
            "split": str(word(rng.choice((1, 32)))),
            "proof": ["0x" + rng.randbytes(32).hex() for _ in range(rng.randrange(0, 20))],
        }
        for _ in range(300)
    ]
    job = {
        "calldata": (SOURCES / "calldata.js").as_uri(),
        "abi": artifacts.load("SettlementRegistry").abi,
        "types": list(LINE_TYPES),
        "periodId": "0x" + rng.randbytes(32).hex(),
        "lines": lines,
    }
    done = subprocess.run(
        ["node", "--input-type=module", "-e", LAYOUT],
        cwd=ROOT,
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["differ"] == []
    assert outcome["bools"] == [True, False, "refused", "refused", "refused"]


def test_amounts_are_formatted_from_minor_units(currency):
    cases = [
        ("123456", "CNY", "1,234.56"),
        ("5", "USD", "0.05"),
        ("100", "EUR", "1.00"),
        ("0", "CNY", "0.00"),
        ("123456", "JPY", "123,456"),
        ("1234567", "KRW", "1,234,567"),
        ("1234", "KWD", "1.234"),
        ("-250", "CNY", "-2.50"),
        (str(2**88 + 1), "USD", "3,094,850,098,213,450,687,247,810.57"),
    ]
    outcomes = node(currency, [{"call": "formatMinor", "args": [amount, currency]} for amount, currency, _ in cases])
    assert [o.get("value") for o in outcomes] == [expected for *_, expected in cases]
    refused = node(currency, [{"call": "formatMinor", "args": args} for args in (["12.5", "CNY"], ["1", "ZZZ"])])
    assert all("error" in o for o in refused)
    exponents = node(currency, [{"call": "minorExponent", "args": [code]} for code in sorted(CURRENCIES)])
    assert all(o.get("value") in (0, 2, 3, 4) for o in exponents), exponents


def test_amounts_typed_in_major_units_are_read_as_minor_units(currency):
    """What the console's forms take (a period's pools, an arbiter's corrected amount) is typed
    as amounts are shown, and sent as the whole number of minor units the service reads."""
    cases = [
        ("12.34", "CNY", "1234"),
        ("1,234.5", "CNY", "123450"),
        (" 7 ", "USD", "700"),
        (".5", "EUR", "50"),
        ("3.", "CNY", "300"),
        ("500", "JPY", "500"),
        ("1.234", "KWD", "1234"),
        ("0", "CNY", "0"),
        ("3,094,850,098,213,450,687,247,810.57", "USD", str(2**88 + 1)),
    ]
    outcomes = node(currency, [{"call": "parseMajor", "args": [text, code]} for text, code, _ in cases])
    assert [o.get("value") for o in outcomes] == [expected for *_, expected in cases]
    refused = [
        ["1.234", "CNY"],  # a fen has no thousandths
        ["1.5", "JPY"],
        ["-1", "CNY"],
        ["1e3", "CNY"],
        ["12,34", "CNY"],
        ["", "CNY"],
        [".", "CNY"],
        ["1", "ZZZ"],
    ]
    outcomes = node(currency, [{"call": "parseMajor", "args": args} for args in refused])
    assert all("error" in o for o in outcomes), outcomes


def test_a_real_statement_verifies_line_by_line(bundle, closed):
    service, statement, owner_line = closed
    chain = service.ledger.chain
    registry = chain.addresses["SettlementRegistry"]
    code_hash = "0x" + keccak(bytes(chain.w3.eth.get_code(registry))).hex()
    [outcome] = node(bundle, verify_jobs(service, statement, code_hash=code_hash))
    result = outcome.get("value")
    assert result, outcome
    assert result["ok"], result
    assert (result["chainId"], result["periodState"]) == (statement["chain_id"], 2)
    assert result["rootMatches"] and result["totalMatches"] and result["tokenMatches"] and result["problems"] == []
    assert [line["index"] for line in result["lines"]] == [line["index"] for line in statement["lines"]]
    assert [line["amount"] for line in result["lines"]] == [line["amount"] for line in statement["lines"]]
    assert all(line["proofOk"] and line["contractOk"] for line in result["lines"])
    assert {line["index"]: line["settled"] for line in result["lines"]} == {
        line["index"]: line["index"] == owner_line for line in statement["lines"]
    }
    assert outcome["progress"]["first"] == [0, 2] and outcome["progress"]["last"] == [2, 2]
    # The same verdict as the Python verifier's.
    check = verify_statement(chain.rpc_url, statement, registry)
    assert (check.ok, check.root_matches, check.total_matches, check.token_matches) == (
        result["ok"],
        result["rootMatches"],
        result["totalMatches"],
        result["tokenMatches"],
    )
    assert [(c.index, c.proof_ok, c.contract_ok, c.settled) for c in check.lines] == [
        (line["index"], line["proofOk"], line["contractOk"], line["settled"]) for line in result["lines"]
    ]


def test_a_tampered_line_fails_and_so_does_the_statement(bundle, closed):
    service, statement, _ = closed
    raised = json.loads(json.dumps(statement))
    raised["lines"][1]["amount"] = str(int(raised["lines"][1]["amount"]) + 1)
    other_payee = json.loads(json.dumps(statement))  # a line's amount moved to the other payee
    other_payee["lines"][0]["payee"] = statement["lines"][1]["payee"]
    for outcome, bad in zip(node(bundle, verify_jobs(service, raised, other_payee)), (1, 0), strict=True):
        result = outcome["value"]
        assert not result["ok"]
        assert [(line["proofOk"], line["contractOk"]) for line in result["lines"]] == [
            (i != bad, i != bad) for i in range(2)
        ]
        assert result["rootMatches"] and result["totalMatches"]  # the period itself is what it was


def test_an_untrusted_registry_node_or_chain_is_refused_with_a_reason(bundle, closed):
    service, statement, _ = closed
    chain = service.ledger.chain
    registry = chain.addresses["SettlementRegistry"]
    elsewhere = chain.addresses["WorkRegistry"]
    empty = "0x" + "11" * 20
    lookalike = {**statement, "contract": empty}  # a statement that names an address with no code
    wrong_chain = {**statement, "chain_id": statement["chain_id"] + 1}
    jobs = [
        *verify_jobs(service, statement, registry=elsewhere),
        *verify_jobs(service, lookalike, registry=empty),
        *verify_jobs(service, statement, code_hash="0x" + "00" * 32),
        *verify_jobs(service, wrong_chain),
        *verify_jobs(service, statement, rpc_url=f"http://127.0.0.1:{free_port()}"),
        *verify_jobs(service, {"lines": "none"}),
    ]
    errors = [outcome.get("error") for outcome in node(bundle, jobs)]
    assert errors[0] == f"the statement names the contract {registry}, not {elsewhere}"
    assert errors[1] == f"there is no contract at {empty} on chain {statement['chain_id']}"
    assert "does not hold the SettlementRegistry code expected" in errors[2]
    assert (
        errors[3] == f"the statement is for chain {wrong_chain['chain_id']}, the node at {chain.rpc_url} "
        f"is chain {statement['chain_id']}"
    )
    assert errors[4].startswith("the node at http://127.0.0.1:") and "did not answer its chain id" in errors[4]
    assert errors[5] == "this is not a statement (no lines in it)"


def test_a_thousand_lines_are_checked_in_batches(bundle, closed):
    """A statement of 1,200 lines (its two real lines, repeated) costs a few batched round trips."""
    service, statement, _ = closed
    long = {**statement, "lines": statement["lines"] * 600}
    [outcome] = node(bundle, verify_jobs(service, long))
    result = outcome["value"]
    assert len(result["lines"]) == 1200 and all(line["proofOk"] and line["contractOk"] for line in result["lines"])
    assert result["problems"] == ["a line appears more than once"] and not result["ok"]
    assert outcome["progress"]["last"] == [1200, 1200] and outcome["progress"]["calls"] == 1201
    assert result["millis"] < 20_000, result["millis"]
