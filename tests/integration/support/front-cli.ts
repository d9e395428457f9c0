/**
 * The test front as a command, for measuring a whole suite run behind it by hand:
 *
 *   node --import tsx tests/integration/support/front-cli.ts --upstream 4530 --port 4532 [--drop 0.01] [--idle 5000]
 *     [--seed 1] [--stats /tmp/front-stats.json]
 *
 * It forwards 127.0.0.1:<port> to 127.0.0.1:<upstream> and, on SIGINT/SIGTERM, prints its counts (and writes them to
 * --stats).
 */
import { writeFileSync } from 'node:fs';
import { startFront } from './front.js';

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) {
    console.error(`front: --${name} is required`);
    process.exit(2);
  }
  return v;
}

const front = await startFront({
  upstream: { host: '127.0.0.1', port: Number(arg('upstream')) },
  port: Number(arg('port', '0')),
  dropRate: Number(arg('drop', '0.01')),
  idleTimeoutMs: Number(arg('idle', '5000')),
  seed: Number(arg('seed', '1')),
});
console.log(`front listening on ${front.url} → 127.0.0.1:${arg('upstream')}`);
const statsFile = process.argv.includes('--stats') ? arg('stats') : undefined;
const stop = (): void => {
  const { droppedRequests, ...counts } = front.stats();
  const text = JSON.stringify({ ...counts, droppedRequests }, null, 1);
  console.log(JSON.stringify(counts));
  if (statsFile) writeFileSync(statsFile, text);
  void front.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
