import { defineConfig } from "tsup";

export default defineConfig([
  {
    // The library and the bundler plugins (`gradc/esbuild`, `gradc/vite`, `gradc/rollup`).
    entry: {
      index: "src/index.ts",
      esbuild: "src/plugins/esbuild.ts",
      vite: "src/plugins/vite.ts",
      rollup: "src/plugins/rollup.ts",
    },
    format: ["esm", "cjs"],
    dts: true,
    clean: true,
    target: "node20",
    sourcemap: true,
  },
  {
    entry: { cli: "src/cli/main.ts" },
    format: ["esm"],
    target: "node20",
  },
]);
