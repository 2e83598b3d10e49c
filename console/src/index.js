// The console bundle: what the pages import from /static/console.js.

export { default as Chart } from "chart.js/auto";
export { formatMinor, minorExponent } from "./currency.js";
export { verifyStatement } from "./verify.js";
