// Bundles the SDK for <script> use: one file that defines the global `Notify`.
import { build } from "esbuild";

const common = { entryPoints: ["src/index.ts"], bundle: true, target: "es2020", sourcemap: true, legalComments: "none" };
await build({ ...common, format: "iife", globalName: "Notify", outfile: "dist/browser/notify.js" });
await build({ ...common, format: "iife", globalName: "Notify", minify: true, outfile: "dist/browser/notify.min.js" });
