// Reading a statement (GET /periods/{id}/statement) into typed values, and the checks of what
// the statement claims about itself that the chain cannot confirm line by line. Mirrors
// _statement_problems in ledger/chain/verify.py.

import { AbiCoder, getAddress, isHexString, keccak256 } from "ethers";

const DAY_SECONDS = 86400n;
const UINT32_MAX = 2n ** 32n - 1n;
const UINT256_MAX = 2n ** 256n - 1n;

export function address(value, what) {
  if (typeof value !== "string" || !isHexString(value, 20)) throw new Error(`${what} is not an address: ${value}`);
  return getAddress(value.toLowerCase()); // checksum case is not something to reject a statement over
}

export function bytes32(value, what) {
  if (typeof value !== "string" || !isHexString(value, 32)) throw new Error(`${what} is not 32 bytes of hex: ${value}`);
  return value.toLowerCase();
}

export function whole(value, what, max) {
  const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== "string" || !/^\d+$/.test(text)) throw new Error(`${what} is not a whole number: ${value}`);
  const n = BigInt(text);
  if (max !== undefined && n > max) throw new Error(`${what} is out of range: ${value}`);
  return n;
}

// [index, payee, workId, amount, ruleVersion, splitVersion] and the proof, ready for both the
// Merkle library and the contract; throws with the line's position when a field is malformed.
export function leafOf(line, position) {
  const where = `line ${position}`;
  if (line === null || typeof line !== "object") throw new Error(`${where} is not an object`);
  const leaf = [
    whole(line.index, `${where}: index`, UINT256_MAX),
    address(line.payee, `${where}: payee`),
    bytes32(line.work_id, `${where}: work_id`),
    whole(line.amount, `${where}: amount`, UINT256_MAX),
    whole(line.rule_version, `${where}: rule_version`, UINT32_MAX),
    whole(line.split_version, `${where}: split_version`, UINT32_MAX),
  ];
  if (!Array.isArray(line.proof)) throw new Error(`${where}: proof is not a list`);
  const proof = line.proof.map((p, i) => bytes32(p, `${where}: proof[${i}]`));
  return { leaf, proof };
}

function epochDay(text, what) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text));
  const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : NaN;
  if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== text) {
    throw new Error(`${what} is not a date: ${text}`);
  }
  return BigInt(ms / 86400000);
}

// The id the contract keys a period by: keccak256(abi.encode(platform, currency, start, end)),
// end exclusive (ledger/settlement/computation.py period_id_of).
export function periodIdOf(platform, currency, firstDay, endDay) {
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["address", "string", "uint64", "uint64"],
    [platform, currency, firstDay * DAY_SECONDS, endDay * DAY_SECONDS],
  );
  return keccak256(encoded);
}

export function statementProblems(statement, leaves, lineCount) {
  const problems = [];
  const period = statement.period || {};
  const first = epochDay(period.first_day, "period.first_day");
  const last = epochDay(period.last_day, "period.last_day");
  const platform = address(statement.platform, "platform");
  if (periodIdOf(platform, String(statement.currency), first, last + 1n) !== statement.period_id.toLowerCase()) {
    problems.push("the period id is not that of the statement's platform, currency and days");
  }
  const indexes = leaves.map(({ leaf }) => leaf[0]);
  if (new Set(indexes).size !== indexes.length) problems.push("a line appears more than once");
  if (indexes.some((i) => i >= lineCount) || whole(statement.line_count, "line_count") !== lineCount) {
    problems.push(`the chain holds ${lineCount} lines for this period`);
  }
  const payee = statement.payee;
  if (payee !== null && payee !== undefined) {
    const named = address(payee, "payee");
    if (leaves.some(({ leaf }) => leaf[1] !== named)) problems.push(`a line is not ${payee}'s`);
    const sum = leaves.reduce((total, { leaf }) => total + leaf[3], 0n);
    if (sum !== whole(statement.payee_total, "payee_total")) problems.push("the lines do not add up to the payee's total");
  }
  return problems;
}
