/**
 * bench:shield — what the nudity shield costs in real Chromium on this machine (fake camera, the
 * client's own classifier worker and nsfwjs' bundled MobileNetV2, built by vite as the client is):
 *   load:      new Worker -> model loaded and warmed up (chunks fetched, WebAssembly compiled,
 *              weights decoded, one zero frame run), as the page sees it and as the worker does
 *   inference: one frame scaled to 224x224 (createImageBitmap), handed to the worker and
 *              classified, back to back, --frames of them: p50/p95 ms
 *   cpu:       Chromium's CPU time (all its processes, and the renderer alone, whose threads run
 *              the worker) while the shield samples every --every ms for --duration s, minus the
 *              same with the video playing and nothing sampled: in % of one core
 * Baseline from the same page: one plain canvas draw of the video at 224x224 and getImageData
 * (median of 200). --backend picks TensorFlow.js' backend (wasm, cpu, webgl; default: the
 * worker's own order, as in the app).
 * Usage: npm run bench:shield -- --frames 50 [--every 500] [--duration 10] [--backend wasm]
 * Ends with one JSON line: {"backend":..,"loadMs":..,"inferP50Ms":..,"inferP95Ms":..,
 *   "cpuPctOfCore":..,"rendererCpuPctOfCore":..,"baselineDrawP50Ms":..,"load1m":..,...}
 */
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { SAMPLE_MS } from '../client/src/shield/shield';
import { launchChromium } from '../tests/e2e/support/browser';
import { benchArgs } from './lib/args';
import { machine, printResult, printTable, progress } from './lib/report';
import { percentile } from './lib/stats';

const args = benchArgs('shield', {
  frames: { default: 50, help: 'frames classified back to back for the inference figures' },
  every: { default: SAMPLE_MS, help: 'ms between sampled frames for the CPU figure (the app: SAMPLE_MS)' },
  backend: { default: '', help: 'wasm, cpu or webgl alone (default: the worker order, as in the app)' },
});

// Linux' USER_HZ: /proc/<pid>/stat counts CPU time in these.
const CLOCK_TICKS = 100;
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

type ShieldPage = {
  start(only: string): Promise<{ backend: string; loadMs: number; pageLoadMs: number }>;
  frames(n: number): Promise<number[]>;
  sample(everyMs: number, seconds: number): Promise<number>;
  baseline(n: number): number[];
  verdicts(): Record<string, number>;
};
type WithShield = Window & { __shield: ShieldPage };

/** CPU seconds used so far by this process's descendants (Chromium's processes), all and renderers only. */
function chromiumCpu(): { all: number; renderer: number } {
  const procs = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return [{ pid: Number(pid), ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / CLOCK_TICKS, renderer: cmd.includes('--type=renderer') }];
      } catch {
        return []; // gone meanwhile
      }
    });
  const mine = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (!mine.has(p.pid) && mine.has(p.ppid)) grew = !!mine.add(p.pid);
  }
  const ours = procs.filter((p) => p.pid !== process.pid && mine.has(p.pid));
  const sum = (ps: typeof ours) => ps.reduce((s, p) => s + p.cpu, 0);
  return { all: sum(ours), renderer: sum(ours.filter((p) => p.renderer)) };
}

async function cpuWhile(run: () => Promise<unknown>): Promise<{ all: number; renderer: number; seconds: number }> {
  const [c0, t0] = [chromiumCpu(), performance.now()];
  await run();
  const [c1, t1] = [chromiumCpu(), performance.now()];
  const seconds = (t1 - t0) / 1000;
  return { all: (c1.all - c0.all) / seconds, renderer: (c1.renderer - c0.renderer) / seconds, seconds };
}

async function buildPage(): Promise<string> {
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'bench-shield-'));
  await build({
    root: fileURLToPath(new URL('./shield-page', import.meta.url)),
    logLevel: 'warn',
    configFile: false,
    worker: { format: 'es' },
    build: { outDir, emptyOutDir: true, target: 'es2022' },
  });
  return outDir;
}

function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const file = path.join(dir, path.normalize(new URL(req.url ?? '/', 'http://x').pathname.replace(/\/$/, '/index.html')));
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })),
  );
}

const p = (xs: number[], q: number) =>
  Math.round(
    percentile(
      [...xs].sort((a, b) => a - b),
      q,
    ) * 10,
  ) / 10;
const pct = (x: number) => Math.round(x * 1000) / 10;

async function main(): Promise<void> {
  const loadBefore = os.loadavg()[0]!;
  progress('building the bench page (vite)...');
  const dir = await buildPage();
  const { server, url } = await serve(dir);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => progress(`[page] ${e.message}`));
    await page.goto(url);
    await page.waitForFunction(() => '__shield' in window);
    const started = await page.evaluate((only) => (window as unknown as WithShield).__shield.start(only), args.backend);
    progress(`model loaded on ${started.backend} in ${Math.round(started.pageLoadMs)} ms; ${args.frames} frames back to back...`);
    const infer = await page.evaluate((n) => (window as unknown as WithShield).__shield.frames(n), args.frames);
    progress(`CPU: ${args.duration} s idle, then ${args.duration} s sampling every ${args.every} ms...`);
    const idle = await cpuWhile(() => page.waitForTimeout(args.duration * 1000));
    let sampled = 0;
    const sample = (a: { every: number; seconds: number }) => (window as unknown as WithShield).__shield.sample(a.every, a.seconds);
    const busy = await cpuWhile(async () => (sampled = await page.evaluate(sample, { every: args.every, seconds: args.duration })));
    const base = await page.evaluate(() => (window as unknown as WithShield).__shield.baseline(200));
    const verdicts = await page.evaluate(() => (window as unknown as WithShield).__shield.verdicts());
    report({ started, infer, idle, busy, sampled, base, verdicts, loadBefore });
  } finally {
    await browser.close();
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function report(r: {
  started: { backend: string; loadMs: number; pageLoadMs: number };
  infer: number[];
  idle: { all: number; renderer: number };
  busy: { all: number; renderer: number; seconds: number };
  sampled: number;
  base: number[];
  verdicts: Record<string, number>;
  loadBefore: number;
}): void {
  const cpuPctOfCore = pct(Math.max(0, r.busy.all - r.idle.all));
  const rendererCpuPctOfCore = pct(Math.max(0, r.busy.renderer - r.idle.renderer));
  const figures = {
    backend: r.started.backend,
    loadMs: Math.round(r.started.pageLoadMs),
    workerLoadMs: Math.round(r.started.loadMs),
    frames: r.infer.length,
    inferP50Ms: p(r.infer, 50),
    inferP95Ms: p(r.infer, 95),
    everyMs: args.every,
    sampledPerS: Math.round((r.sampled / r.busy.seconds) * 100) / 100,
    cpuPctOfCore,
    rendererCpuPctOfCore,
    idleCpuPctOfCore: pct(r.idle.all),
    verdictsSafe: r.verdicts.safe ?? 0,
    verdictsExplicit: r.verdicts.explicit ?? 0,
    baselineDrawP50Ms: p(r.base, 50),
  };
  printTable(`bench:shield (Chromium headless, fake camera, nsfwjs MobileNetV2 on ${figures.backend})`, [
    { measure: 'model load (new Worker -> warmed up)', ms: figures.loadMs, note: `worker's own: ${figures.workerLoadMs} ms` },
    { measure: `inference p50, ${figures.frames} frames`, ms: figures.inferP50Ms, note: 'scale + hand over + classify' },
    { measure: 'inference p95', ms: figures.inferP95Ms, note: '' },
    {
      measure: `CPU sampling every ${args.every} ms`,
      ms: '',
      note: `+${cpuPctOfCore}% of a core (renderer +${rendererCpuPctOfCore}%), ${figures.sampledPerS} frames/s`,
    },
    { measure: 'baseline: canvas draw 224x224 + getImageData, p50', ms: figures.baselineDrawP50Ms, note: '' },
  ]);
  const m = machine();
  printTable('machine', [{ ...m, load1mBefore: Math.round(r.loadBefore * 100) / 100 }]);
  printResult({ ...figures, ...m, load1mBefore: Math.round(r.loadBefore * 100) / 100 });
}

await main();
process.exit(0);
