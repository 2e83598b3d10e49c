// The contract functions the console calls, put in by console/build.mjs from the compiled
// artifacts, and nothing else of the contracts' interfaces.

import views from "abi:SettlementRegistry/period,verifyLine,isLineSettled";
import claim from "abi:PeriodPayout/claim";

export const SETTLEMENT_REGISTRY_ABI = views;
export const PERIOD_PAYOUT_ABI = claim;

// PeriodState in SettlementRegistry.sol: 0 none, 1 committed, 2 finalised.
export const PERIOD_NONE = 0;
