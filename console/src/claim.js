// Claiming a statement line from the payee's own browser wallet (an EIP-1193 provider such as
// MetaMask's window.ethereum), for payees whose keys the service does not hold.
// PeriodPayout.claim pays the line to its payee whoever sends it, so any account of the wallet
// may send it; the wallet pays the gas.

import { BrowserProvider, Interface, ZeroAddress, toQuantity } from "ethers";

import { PERIOD_PAYOUT_ABI, SETTLEMENT_REGISTRY_ABI } from "./abi.js";
import { address, bytes32, leafOf, whole } from "./statement.js";

const payout = new Interface(PERIOD_PAYOUT_ABI);
const registryInterface = new Interface(SETTLEMENT_REGISTRY_ABI);

// The contract's reason for refusing, by name (PeriodPayoutLineAlreadySettled, PeriodPayoutInsufficientFunding...).
function refusal(error) {
  const data = error?.data ?? error?.info?.error?.data ?? error?.error?.data;
  try {
    const parsed = typeof data === "string" ? payout.parseError(data) : null;
    if (parsed) return parsed.name;
  } catch {
    // not one of the contract's errors
  }
  return error?.shortMessage || error?.message || String(error);
}

async function onChain(ethereum, chainId) {
  let provider = new BrowserProvider(ethereum);
  if ((await provider.getNetwork()).chainId !== chainId) {
    await ethereum.request({ method: "wallet_switchEthereumChain", params: [{ chainId: toQuantity(chainId) }] });
    provider = new BrowserProvider(ethereum); // a provider keeps the network it first saw
    if ((await provider.getNetwork()).chainId !== chainId) throw new Error(`the wallet is not on chain ${chainId}`);
  }
  return provider;
}

// The period's payout contract as the registry (an address the caller trusts) has it: the
// statement's own word for it could send the claim, and the wallet's gas, anywhere.
async function payoutOf(provider, registry, periodId) {
  const answer = await provider.call({ to: registry, data: registryInterface.encodeFunctionData("period", [periodId]) });
  const { payout: found } = registryInterface.decodeFunctionResult("period", answer)[0];
  if (found === ZeroAddress) throw new Error(`the registry ${registry} holds no payout contract for period ${periodId}`);
  return found;
}

/**
 * Sends PeriodPayout.claim for `line` (with its proof) of `statement` from `ethereum` to the
 * period's payout contract as the SettlementRegistry at `registry` names it, and resolves once
 * it is mined: { hash, block }. `onSent(hash)` is called when the wallet sent it. Rejects with
 * the contract's reason by name when it refuses.
 */
export async function claimWithWallet({ ethereum, registry, statement, line, onSent }) {
  if (!ethereum || typeof ethereum.request !== "function") throw new Error("there is no wallet in this browser");
  const { leaf, proof } = leafOf(line, 0);
  const trusted = address(registry, "the registry");
  const provider = await onChain(ethereum, whole(statement.chain_id, "chain_id"));
  const to = await payoutOf(provider, trusted, bytes32(statement.period_id, "period_id"));
  if (statement.payout != null && address(statement.payout, "the statement's payout") !== to) {
    throw new Error(`the statement sends claims to ${statement.payout}, the registry to ${to}`);
  }
  const signer = await provider.getSigner();
  const data = payout.encodeFunctionData("claim", [leaf, proof]);
  let tx;
  try {
    tx = await signer.sendTransaction({ to, data });
  } catch (error) {
    throw new Error(refusal(error), { cause: error });
  }
  onSent?.(tx.hash);
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new Error(`the claim ${tx.hash} failed on chain`);
  return { hash: tx.hash, block: receipt.blockNumber };
}
