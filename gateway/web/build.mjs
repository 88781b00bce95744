// Bundles the front end into dist/ (embedded by the Go package in web.go): the demo visitor page,
// the agent workbench (workbench.html/.js, served at /agent/), the one-tag widget (loader.js, served as /im/{appid}.js; widget.html/.js/.css, the page in its
// iframe) and the site admin page (admin.html/.js/.css).
// Usage: npm run build
import { build } from "esbuild";
import { copyFile, mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

const dist = "dist";

await mkdir(dist, { recursive: true });
// Start from an empty dist/, but keep the committed .gitkeep (go:embed needs it on a fresh clone).
for (const name of await readdir(dist)) {
  if (name !== ".gitkeep") await rm(join(dist, name), { recursive: true, force: true });
}

await build({
  entryPoints: {
    visitor: "src/visitor.ts",
    loader: "src/loader.ts",
    widget: "src/widget/main.ts",
    admin: "src/admin/main.ts",
    workbench: "src/workbench/main.ts",
  },
  outdir: dist,
  bundle: true,
  minify: true,
  sourcemap: false,
  target: "es2019",
  platform: "browser",
  format: "iife",
  legalComments: "none",
  logLevel: "info",
});

for (const name of await readdir("pages")) {
  if (name.endsWith(".html") || name.endsWith(".css")) {
    await copyFile(join("pages", name), join(dist, name));
  }
}
console.log("pages copied to dist/");
