// The playground: a static site. It imports the compiler from ../src (plain TypeScript)
// and the example models from ../examples, so Vite may read the repository root.
import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  // Relative URLs: the built site works from any folder of any static server.
  base: "./",
  server: { fs: { allow: [root] } },
  worker: { format: "es" },
  // Graphviz (wasm inside its module) is most of the page: one chunk, loaded once.
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 2500 },
});
