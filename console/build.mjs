// Builds the browser console's modules from console/src into api/console/static (see
// scripts/build-console). Contract interfaces come from the compiled artifacts at build time,
// cut down to the functions the console calls, so that the bundle neither copies an ABI by
// hand nor carries the rest of a contract.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

// `import fragments from "abi:Contract/fnA,fnB"`: those functions of the compiled contract,
// and its custom errors, so that a revert can be told by name.
const contractFunctions = {
  name: "contract-functions",
  setup(bundler) {
    bundler.onResolve({ filter: /^abi:/ }, ({ path }) => ({ path, namespace: "abi" }));
    bundler.onLoad({ filter: /.*/, namespace: "abi" }, ({ path }) => {
      const [contract, names] = path.slice("abi:".length).split("/");
      const artifact = `${root}ledger/artifacts/${contract}.json`;
      const { abi } = JSON.parse(readFileSync(artifact, "utf8"));
      const fragments = names.split(",").map((name) => {
        const fragment = abi.find((f) => f.type === "function" && f.name === name);
        if (!fragment) throw new Error(`${artifact} has no function ${name}`);
        return fragment;
      });
      const errors = abi.filter((f) => f.type === "error");
      return { contents: JSON.stringify([...fragments, ...errors]), loader: "json", watchFiles: [artifact] };
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
  plugins: [contractFunctions],
});

// Swagger UI for the service's /docs page (api/docs.py), served from here rather than a CDN so
// that the page works without internet: the pinned swagger-ui-dist package's prebuilt files.
const swagger = `${root}api/console/static/swagger`;
mkdirSync(swagger, { recursive: true });
for (const name of ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"]) {
  copyFileSync(`${root}node_modules/swagger-ui-dist/${name}`, `${swagger}/${name}`);
}
