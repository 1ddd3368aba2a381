// tsup (esbuild) with the gradc plugin: `.grad` imports compile at build time.
import { defineConfig } from "tsup";
import { gradc } from "gradc/esbuild";

export default defineConfig({
  entry: { main: "src/main.ts" },
  format: ["esm"],
  platform: "node",
  target: "node20",
  clean: true,
  sourcemap: true,
  esbuildPlugins: [gradc()],
});
