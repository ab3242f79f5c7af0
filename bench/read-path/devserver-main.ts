/**
 * @module bench/read-path/devserver-main — the dev server in its own process (never in the bench's: the
 * bench does synchronous file-system calls on the mount, which would starve an in-process server the
 * daemon is waiting on), with its per-path request counters readable from outside:
 *
 *   bun bench/read-path/devserver-main.ts <repo> [latency-ms]
 *
 * Prints the URL on the first stdout line. On SIGUSR1 it prints one line `STATS <json>` with every
 * `METHOD /path` counter seen since start (the bench takes differences between snapshots).
 * Every answer is delayed by `latency-ms` (default 0): a server that far away.
 * Stops on SIGTERM/SIGINT. Same code as `scorpio devserver`, run from source.
 */
import { startDevServer } from "../../src/devserver/index.ts";

const repo = process.argv[2];
if (!repo) {
  process.stderr.write("usage: devserver-main.ts <repo>\n");
  process.exit(2);
}
const server = await startDevServer({ repo, port: 0, latencyMs: Number(process.argv[3] ?? 0) });
process.stdout.write(server.url + "\n");
process.on("SIGUSR1", () => {
  // ServerStats keeps its counters in a private map; a snapshot of it is all the bench needs.
  const byKey = (server.stats as unknown as { byKey: Map<string, number> }).byKey;
  process.stdout.write(`STATS ${JSON.stringify(Object.fromEntries(byKey))}\n`);
});
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
