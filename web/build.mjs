// Builds the web UI into Notify.Api/wwwroot: index.html, app.css and one bundled app.js (the SDK included).
// The output is committed so `dotnet run` serves the UI on a fresh clone without npm.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync } from "node:fs";

const out = new URL("../Notify.Api/wwwroot/", import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(new URL("./public/", import.meta.url).pathname, out, { recursive: true });
await build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  format: "iife",
  target: "es2020",
  minify: true,
  sourcemap: false,
  legalComments: "none",
  outfile: `${out}app.js`,
});
console.log(`web UI built into ${out}`);
