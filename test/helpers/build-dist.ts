// The CLI and bundler-example tests run the built package (dist/): `ensureFreshDist()` in
// their beforeAll rebuilds it whenever anything it is built from is newer, so a run after
// editing src/ never tests a stale build. Concurrent runs take turns (a lock folder in
// node_modules/.cache), and the second finds the build fresh.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const outputs = ["dist/index.js", "dist/index.cjs", "dist/cli.js", "dist/esbuild.js", "dist/vite.js", "dist/rollup.js", "dist/index.d.ts"];

function newestInput(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(root, "src"));
  for (const f of ["tsup.config.ts", "package.json", "tsconfig.json"]) newest = Math.max(newest, statSync(join(root, f)).mtimeMs);
  return newest;
}

function oldestOutput(): number {
  let oldest = Infinity;
  for (const f of outputs) {
    try {
      oldest = Math.min(oldest, statSync(join(root, f)).mtimeMs);
    } catch {
      return 0;
    }
  }
  return oldest;
}

const stale = () => oldestOutput() < newestInput();

export async function ensureFreshDist(): Promise<void> {
  if (!stale()) return;
  const lock = join(root, "node_modules/.cache/gradc-build.lock");
  mkdirSync(join(root, "node_modules/.cache"), { recursive: true });
  for (let waited = 0; ; waited += 250) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (waited > 120_000) rmdirSync(lock); // a build that died left its lock
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (stale()) execFileSync("npx", ["tsup"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  } finally {
    rmdirSync(lock);
  }
}
