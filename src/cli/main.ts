#!/usr/bin/env node
// Entry point of the `gradc` binary.
import { run } from "./run";

// A reader that stops early (`gradc grad m.grad | head`) closes the pipe: the rest of the
// output has nowhere to go, which is not an error of gradc's.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = run(process.argv.slice(2), (s) => process.stdout.write(s), (s) => process.stderr.write(s));
