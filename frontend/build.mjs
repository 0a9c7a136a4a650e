// Builds the dashboard into src/berrys_monitoring/hub/web/static/ (gitignored):
//   assets/main-<hash>.js, assets/main-<hash>.css  (content-hashed: served with a one-year cache)
//   index.html                                     (served for every page route, never cached)
// Usage: npm run build  (or `make assets` from the repo root); --watch rebuilds on change.
import * as esbuild from "esbuild";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const outRoot = path.resolve(here, "../src/berrys_monitoring/hub/web/static");
const outAssets = path.join(outRoot, "assets");
const watch = process.argv.includes("--watch");

function writeIndex(metafile) {
  const outputs = Object.keys(metafile.outputs).map((p) => path.basename(p));
  const js = outputs.find((f) => /^main-[A-Z0-9]+\.js$/i.test(f));
  const css = outputs.find((f) => /^main-[A-Z0-9]+\.css$/i.test(f));
  if (!js || !css) throw new Error(`build produced no main js/css: ${outputs.join(", ")}`);
  fs.copyFileSync(path.join(here, "src/favicon.svg"), path.join(outAssets, "favicon.svg"));
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>berrys-monitoring</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/${css}">
<script type="module" src="/assets/${js}"></script>
</head>
<body>
<div id="app"><noscript>The berrys-monitoring dashboard needs JavaScript.</noscript></div>
</body>
</html>
`;
  fs.writeFileSync(path.join(outRoot, "index.html"), html);
  fs.writeFileSync(
    path.join(outRoot, "manifest.json"),
    JSON.stringify({ js: `assets/${js}`, css: `assets/${css}` }, null, 2) + "\n",
  );
}

const options = {
  entryPoints: { main: path.join(here, "src/main.js") },
  bundle: true,
  format: "esm",
  target: ["es2020"],
  minify: !watch,
  sourcemap: watch ? "inline" : false,
  outdir: outAssets,
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  metafile: true,
  legalComments: "linked",
  logLevel: "warning",
  plugins: [
    {
      name: "index-html",
      setup(build) {
        build.onEnd((result) => {
          if (result.errors.length === 0) writeIndex(result.metafile);
        });
      },
    },
  ],
};

fs.rmSync(outRoot, { recursive: true, force: true });
fs.mkdirSync(outAssets, { recursive: true });
if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log(`watching; output in ${outRoot}`);
} else {
  await esbuild.build(options);
  console.log(`built ${outRoot}`);
}
