// A statement line as the ABI lays it out: the six static words of its Merkle leaf, and the
// calldata of the two per-line views. ethers' general encoder costs about 0.6 ms a line and
// merkle-tree's leaf encoder about 0.3 ms, most of a 10,000-line verification; these are the
// same bytes (tests/console/test_verify_bundle.py compares them with both libraries), as
// ledger/settlement/lines.line_leaf_hash lays out the leaf on the service's side.

import { keccak256 } from "ethers";

const OFFSET_OF_PROOF = 8n * 32n; // verifyLine's head: periodId, the line's six words (a static struct), the proof's offset

function word(n) {
  return n.toString(16).padStart(64, "0");
}

// `leaf` as statement.js leafOf returns it: [index, payee, workId, amount, ruleVersion,
// splitVersion], already checked (whole numbers in range, 20- and 32-byte hex).
export function leafWords([index, payee, workId, amount, ruleVersion, splitVersion]) {
  return word(index) + payee.slice(2).toLowerCase().padStart(64, "0") + workId.slice(2)
    + word(amount) + word(ruleVersion) + word(splitVersion);
}

// OpenZeppelin StandardMerkleTree's leaf hash: keccak256(keccak256(abi.encode(...))).
export function leafHash(words) {
  return keccak256(keccak256(`0x${words}`));
}

export function verifyLineData(selector, periodId, words, proof) {
  return selector + periodId.slice(2) + words + word(OFFSET_OF_PROOF) + word(BigInt(proof.length))
    + proof.map((node) => node.slice(2)).join("");
}

export function isLineSettledData(selector, periodId, index) {
  return selector + periodId.slice(2) + word(index);
}

// A view's bool answer; anything but one word holding 0 or 1 is not an answer.
export function decodeBool(result) {
  if (typeof result !== "string" || !/^0x0{63}[01]$/.test(result)) throw new Error(`not a bool: ${result}`);
  return result.endsWith("1");
}
