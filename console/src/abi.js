// The SettlementRegistry views the verifier calls: put in by console/build.mjs from the
// compiled artifact, and nothing else of the contract's interface.

import views from "settlement-registry-views";

export const SETTLEMENT_REGISTRY_ABI = views;

// PeriodState in SettlementRegistry.sol: 0 none, 1 committed, 2 finalised.
export const PERIOD_NONE = 0;
