#!/usr/bin/env node
// Entry point of the `gradc` binary.
import { run } from "./run";

process.exitCode = run(process.argv.slice(2), (s) => process.stdout.write(s), (s) => process.stderr.write(s));
