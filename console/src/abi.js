// The three SettlementRegistry views the verifier calls, copied verbatim from
// ledger/artifacts/SettlementRegistry.json (tests/console compares them) so the bundle
// carries no more of the contract's interface than it uses.

export const SETTLEMENT_REGISTRY_ABI = [
  {
    inputs: [{ internalType: "bytes32", name: "periodId", type: "bytes32" }],
    name: "period",
    outputs: [
      {
        components: [
          { internalType: "bytes32", name: "root", type: "bytes32" },
          { internalType: "address", name: "token", type: "address" },
          { internalType: "enum SettlementRegistry.PeriodState", name: "state", type: "uint8" },
          { internalType: "uint256", name: "total", type: "uint256" },
          { internalType: "uint256", name: "funded", type: "uint256" },
          { internalType: "uint256", name: "paidOffChain", type: "uint256" },
          { internalType: "address", name: "payout", type: "address" },
          { internalType: "uint32", name: "lineCount", type: "uint32" },
          { internalType: "uint64", name: "disputeEnds", type: "uint64" },
          { internalType: "uint256", name: "openDisputes", type: "uint256" },
          { internalType: "bytes32", name: "inputsHash", type: "bytes32" },
        ],
        internalType: "struct SettlementRegistry.Period",
        name: "",
        type: "tuple",
      },
    ],
    stateMutability: "view",
    type: "function",
  },
  {
    inputs: [
      { internalType: "bytes32", name: "periodId", type: "bytes32" },
      { internalType: "uint256", name: "index", type: "uint256" },
      { internalType: "address", name: "payee", type: "address" },
      { internalType: "bytes32", name: "workId", type: "bytes32" },
      { internalType: "uint256", name: "amount", type: "uint256" },
      { internalType: "uint32", name: "ruleVersion", type: "uint32" },
      { internalType: "uint32", name: "splitVersion", type: "uint32" },
      { internalType: "bytes32[]", name: "proof", type: "bytes32[]" },
    ],
    name: "verifyLine",
    outputs: [{ internalType: "bool", name: "", type: "bool" }],
    stateMutability: "view",
    type: "function",
  },
  {
    inputs: [
      { internalType: "bytes32", name: "periodId", type: "bytes32" },
      { internalType: "uint256", name: "index", type: "uint256" },
    ],
    name: "isLineSettled",
    outputs: [{ internalType: "bool", name: "", type: "bool" }],
    stateMutability: "view",
    type: "function",
  },
];

// PeriodState in SettlementRegistry.sol: 0 none, 1 committed, 2 finalised.
export const PERIOD_NONE = 0;
