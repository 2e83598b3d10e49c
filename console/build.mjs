// Builds the browser console's modules from console/src into api/console/static (see
// scripts/build-console). The verifier's contract interface comes from the compiled artifact
// at build time, cut down to the views it calls, so that the bundle neither copies the ABI by
// hand nor carries the rest of the contract.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const ARTIFACT = `${root}ledger/artifacts/SettlementRegistry.json`;
const VIEWS = ["period", "verifyLine", "isLineSettled"];

const settlementViews = {
  name: "settlement-registry-views",
  setup(bundler) {
    bundler.onResolve({ filter: /^settlement-registry-views$/ }, ({ path }) => ({ path, namespace: "views" }));
    bundler.onLoad({ filter: /.*/, namespace: "views" }, () => {
      const { abi } = JSON.parse(readFileSync(ARTIFACT, "utf8"));
      const views = VIEWS.map((name) => {
        const fragment = abi.find((f) => f.type === "function" && f.name === name);
        if (!fragment) throw new Error(`${ARTIFACT} has no function ${name}`);
        return fragment;
      });
      return { contents: JSON.stringify(views), loader: "json", watchFiles: [ARTIFACT] };
    });
  },
};

await build({
  entryPoints: { console: `${root}console/src/index.js`, currency: `${root}console/src/currency.js` },
  outdir: `${root}api/console/static`,
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  platform: "browser",
  sourcemap: true,
  logLevel: "warning",
  plugins: [settlementViews],
});
