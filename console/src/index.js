// The console bundle: what the pages import from /static/console.js when they need the chain
// or a chart. Amount formatting is its own small module (currency.js), loaded by every page.

export { default as Chart } from "chart.js/auto";
export { claimWithWallet } from "./claim.js";
export { settledLines, verifyStatement } from "./verify.js";
