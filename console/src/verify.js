// Checking a payee's statement against the chain from the browser, trusting neither the
// service that served the statement nor the page's origin: only the node at rpcUrl and the
// registry address the payee already trusts. Mirrors verify_statement in
// ledger/chain/verify.py.

import { SimpleMerkleTree } from "@openzeppelin/merkle-tree";
import { FetchRequest, Interface, JsonRpcProvider, Network, keccak256, toQuantity } from "ethers";

import { PERIOD_NONE, SETTLEMENT_REGISTRY_ABI } from "./abi.js";
import { decodeBool, isLineSettledData, leafHash, leafWords, verifyLineData } from "./calldata.js";
import { address, bytes32, leafOf, statementProblems, whole } from "./statement.js";

// Lines checked per round: 2 view calls each, sent as JSON-RPC batches of BATCH_CALLS, so a
// 1,000-line statement takes a handful of round trips without queueing thousands of calls.
const LINES_PER_ROUND = 250;
const BATCH_CALLS = 100;
const TIMEOUT_MS = 10000;

const registryInterface = new Interface(SETTLEMENT_REGISTRY_ABI);
const PERIOD = registryInterface.getFunction("period");
const VERIFY_LINE = registryInterface.getFunction("verifyLine").selector;
const IS_LINE_SETTLED = registryInterface.getFunction("isLineSettled").selector;

function connect(rpcUrl, chainId) {
  const request = new FetchRequest(rpcUrl);
  request.timeout = TIMEOUT_MS;
  // A static network: ethers would otherwise retry detection forever against a dead node.
  // The chain id is then asked for explicitly and compared.
  return new JsonRpcProvider(request, Network.from(chainId), {
    staticNetwork: true,
    batchMaxCount: BATCH_CALLS,
  });
}

// A view call at a fixed block, sent as a raw eth_call: ethers' Contract wrapper costs about a
// millisecond a call in argument resolution and formatting, which adds up over 2,000 calls.
function viewCall(provider, to, blockTag) {
  const tag = toQuantity(blockTag);
  return (data) => provider.send("eth_call", [{ to, data }, tag]);
}

async function ask(rpcUrl, what, promise) {
  try {
    return await promise;
  } catch (error) {
    const reason = error && (error.shortMessage || error.message);
    throw new Error(`the node at ${rpcUrl} did not answer ${what}: ${reason}`, { cause: error });
  }
}

function checkArgs({ rpcUrl, registry, statement }) {
  if (typeof rpcUrl !== "string" || !rpcUrl) throw new Error("rpcUrl is required");
  if (!statement || typeof statement !== "object" || !Array.isArray(statement.lines)) {
    throw new Error("this is not a statement (no lines in it)");
  }
  const trusted = address(registry, "the registry");
  const chainId = whole(statement.chain_id, "chain_id");
  const periodId = bytes32(statement.period_id, "period_id");
  const leaves = statement.lines.map(leafOf);
  return { trusted, chainId, periodId, leaves };
}

/**
 * Which of `indexes` (line indexes of the period `periodId`) the SettlementRegistry at `registry` on chain `chainId`
 * holds as settled (claimed or paid off-chain): a Set of those indexes. The same batched view
 * calls as a verification, without the proofs: what a page needs to know before offering a claim.
 */
export async function settledLines({ rpcUrl, registry, chainId, periodId, indexes }) {
  const trusted = address(registry, "the registry");
  const period = bytes32(periodId, "period_id");
  const provider = connect(rpcUrl, whole(chainId, "chain_id"));
  try {
    const blockTag = await ask(rpcUrl, "its block number", provider.getBlockNumber());
    const call = viewCall(provider, trusted, blockTag);
    const settled = new Set();
    for (let start = 0; start < indexes.length; start += LINES_PER_ROUND) {
      const round = indexes.slice(start, start + LINES_PER_ROUND).map(async (index) => {
        const answer = await call(isLineSettledData(IS_LINE_SETTLED, period, BigInt(index))).then(decodeBool);
        if (answer) settled.add(index);
      });
      await ask(rpcUrl, "whether the lines are settled", Promise.all(round));
    }
    return settled;
  } finally {
    provider.destroy();
  }
}

/**
 * Verify every line of `statement` against the SettlementRegistry at `registry` (an address
 * the caller trusts, never the one the statement names: anyone can deploy a look-alike).
 * `codeHash`, optional, is the keccak256 of the registry's runtime code as deployed.
 * Rejects with a readable message when the node, chain or contract is not the expected one.
 */
export async function verifyStatement({ rpcUrl, registry, statement, codeHash, onProgress }) {
  const started = performance.now();
  const { trusted, chainId, periodId, leaves } = checkArgs({ rpcUrl, registry, statement });
  const provider = connect(rpcUrl, chainId);
  try {
    const nodeChain = BigInt(await ask(rpcUrl, "its chain id", provider.send("eth_chainId", [])));
    if (nodeChain !== chainId) {
      throw new Error(`the statement is for chain ${chainId}, the node at ${rpcUrl} is chain ${nodeChain}`);
    }
    if (address(statement.contract, "the statement's contract") !== trusted) {
      throw new Error(`the statement names the contract ${statement.contract}, not ${trusted}`);
    }
    // Every read at one block, so the period and the settled flags describe the same moment.
    const blockTag = await ask(rpcUrl, "its block number", provider.getBlockNumber());
    const code = await ask(rpcUrl, "for the registry's code", provider.getCode(trusted, blockTag));
    if (code === "0x") throw new Error(`there is no contract at ${trusted} on chain ${chainId}`);
    if (codeHash && keccak256(code) !== codeHash.toLowerCase()) {
      throw new Error(`${trusted} does not hold the SettlementRegistry code expected (${codeHash})`);
    }
    const call = viewCall(provider, trusted, blockTag);
    const periodData = registryInterface.encodeFunctionData(PERIOD, [periodId]);
    const onChain = registryInterface.decodeFunctionResult(PERIOD, await ask(rpcUrl, "for the period", call(periodData)))[0];
    const state = Number(onChain.state);
    const root = onChain.root;

    const total = leaves.length;
    const lines = new Array(total); // in the statement's order, whatever order the answers come in
    let done = 0;
    if (onProgress) onProgress(0, total);
    for (let start = 0; start < total; start += LINES_PER_ROUND) {
      const round = leaves.slice(start, start + LINES_PER_ROUND).map(async ({ leaf, proof }, i) => {
        const words = leafWords(leaf);
        const [contractOk, settled] = await Promise.all([
          call(verifyLineData(VERIFY_LINE, periodId, words, proof)).then(decodeBool),
          call(isLineSettledData(IS_LINE_SETTLED, periodId, leaf[0])).then(decodeBool),
        ]);
        lines[start + i] = {
          index: Number(leaf[0]),
          amount: leaf[3].toString(),
          proofOk: SimpleMerkleTree.verify(root, leafHash(words), proof),
          contractOk,
          settled,
        };
        done += 1;
        if (onProgress) onProgress(done, total);
      });
      await ask(rpcUrl, "the line checks", Promise.all(round));
    }

    const problems = statementProblems(statement, leaves, onChain.lineCount);
    const payout = statement.payout;
    if (payout !== null && payout !== undefined && state !== PERIOD_NONE
        && address(payout, "payout") !== onChain.payout) {
      problems.push(`the statement sends claims to ${payout}, the period's payout is ${onChain.payout}`);
    }
    const rootMatches = state !== PERIOD_NONE && typeof statement.root === "string"
      && root === statement.root.toLowerCase();
    const tokenMatches = typeof statement.token === "string" && onChain.token === address(statement.token, "token");
    const totalMatches = onChain.total === whole(statement.total, "total");
    const ok = problems.length === 0 && rootMatches && tokenMatches && totalMatches
      && lines.every((line) => line.proofOk && line.contractOk);
    return {
      ok,
      chainId: Number(chainId),
      blockNumber: blockTag,
      periodState: state,
      rootMatches,
      totalMatches,
      tokenMatches,
      problems,
      lines,
      millis: Math.round(performance.now() - started),
    };
  } finally {
    provider.destroy();
  }
}
