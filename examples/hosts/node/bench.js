// Per-call cost of a gated export from Node.js (koffi), beside the same function ungated.
//
// Calls hb_ungated_add1 and hb_export_add1 (crates/crosscall-hostbench: body `x + 1`, the
// second behind #[crosscall::export]) from 1 and 2 worker threads. Rounds interleave the two
// (ABBA order) so load drift hits both alike, after one warm-up round for the JIT; prints the
// median ns per call of each, the median per-round difference and the ratio. With 2 workers
// a round's figure is the slower one's. ROUNDS and CALLS in the environment override the
// defaults.
'use strict';

const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const koffi = require('koffi');

const ROUNDS = Number(process.env.ROUNDS || 21);
const CALLS = Number(process.env.CALLS || 2000000);

function bind() {
  const lib = koffi.load(process.env.HOSTBENCH_LIB);
  return {
    shapes: [lib.func('int32_t hb_ungated_add1(int32_t)'), lib.func('int32_t hb_export_add1(int32_t)')],
    init: lib.func('void hb_init(void)'),
  };
}

function nsPerCall(f) {
  let x = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) x = f(x);
  const elapsed = process.hrtime.bigint() - start;
  if (x !== CALLS) throw new Error(`wrong result ${x}`);
  return Number(elapsed) / CALLS;
}

// Worker: figures[r][s] for rounds 0..ROUNDS (0 is the warm-up), starting each measurement
// together with the other workers.
function workerMain() {
  const { shapes } = bind();
  const line = new Int32Array(workerData.line);
  const figures = [];
  for (let r = 0, step = 0; r <= ROUNDS; r++) {
    const pair = [0, 0];
    for (let k = 0; k < 2; k++, step++) {
      const s = r % 2 === 0 ? k : 1 - k;
      // Start line: wait until every worker has arrived at this step.
      Atomics.add(line, 0, 1);
      while (Atomics.load(line, 0) < workerData.threads * (step + 1));
      pair[s] = nsPerCall(shapes[s]);
    }
    figures.push(pair);
  }
  parentPort.postMessage(figures);
}

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function main() {
  bind().init();
  console.log(`# Node ${process.version} (koffi ${koffi.version}, worker_threads), ${ROUNDS} rounds x ${CALLS} calls, ns per call`);
  console.log(`${'host'.padEnd(16)}${'threads'.padStart(8)}${'ungated'.padStart(10)}${'gated'.padStart(10)}${'delta'.padStart(9)}${'ratio'.padStart(8)}`);
  for (const threads of [1, 2]) {
    const line = new SharedArrayBuffer(4);
    const perWorker = await Promise.all(
      Array.from({ length: threads }, () => new Promise((resolve, reject) => {
        const w = new Worker(__filename, { workerData: { threads, line } });
        w.once('message', resolve);
        w.once('error', reject);
      })),
    );
    const u = [], g = [], d = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const ur = Math.max(...perWorker.map((f) => f[r][0]));
      const gr = Math.max(...perWorker.map((f) => f[r][1]));
      u.push(ur); g.push(gr); d.push(gr - ur);
    }
    const mu = median(u), mg = median(g), md = median(d);
    console.log(`${'Node koffi'.padEnd(16)}${String(threads).padStart(8)}${mu.toFixed(2).padStart(10)}${mg.toFixed(2).padStart(10)}${((md >= 0 ? '+' : '') + md.toFixed(2)).padStart(9)}${(mg / mu).toFixed(3).padStart(8)}`);
  }
}

if (isMainThread) main().catch((e) => { console.error(e); process.exit(1); });
else workerMain();
