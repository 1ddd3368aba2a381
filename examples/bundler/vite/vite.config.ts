// Vite with the gradc plugin: `.grad` imports and grad`...` models compile at build time,
// and the dev server recompiles a model when its file changes.
import { defineConfig } from "vite";
import gradc from "gradc/vite";

export default defineConfig({
  plugins: [gradc()],
  // The seed model lives outside this project.
  server: { fs: { allow: [".", "../../xor"] } },
  build: { sourcemap: true, modulePreload: false },
});
