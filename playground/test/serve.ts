// A static file server for a built app's folder (what "open it from any static server" means).

import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";

const types: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".map": "application/json" };

export async function serve(folder: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    // The browser asks for a favicon the apps do not have: no content, not a 404 error.
    if (req.url === "/favicon.ico") { res.writeHead(204).end(); return; }
    const path = normalize(decodeURIComponent(new URL(req.url!, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    try {
      const body = await readFile(join(folder, path.endsWith("/") ? `${path}index.html` : path));
      res.writeHead(200, { "content-type": types[extname(path) || ".html"] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((done) => {
    server.close(() => done());
    server.closeAllConnections(); // Chromium keeps its connections alive; close waits for them
  }) };
}
