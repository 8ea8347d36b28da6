// libhostkv from Node.js worker_threads through koffi: the whole lifecycle, asserted (see
// ../README.md).
//   node test_kv.js                       # lifecycle
//   node test_kv.js exit-while-waiting
//   node test_kv.js hang-without-shutdown # never exits on its own (the pitfall; run.sh
//                                         # checks that it has to be killed)
// Exits non-zero on the first failed expectation.
'use strict';

const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const kv = require('./kv');

const WORKERS = 4;
const ADDS = 20000; // per worker and store

function expect(condition, what) {
  if (!condition) {
    console.error(`node: FAILED: ${what}`);
    process.exit(1);
  }
}

const failed = (v) => kv.big(v) === kv.KV_ERROR;

// ---- worker side: one long-lived worker per thread, doing what the main thread asks ----

function workerMain() {
  // counters[i]: worker i's progress (returned calls, or successful adds while hammering);
  // started[i]: 1 once worker i is about to make its first call.
  const counters = new BigInt64Array(workerData.counters);
  const started = new Int32Array(workerData.started);
  const id = workerData.id;
  parentPort.on('message', (task) => {
    switch (task.kind) {
      case 'new-store': {
        Atomics.store(started, id, 1);
        const store = kv.kv_store_new(); // before kv_init: waits here
        Atomics.add(counters, id, 1n);
        parentPort.postMessage({ store: kv.big(store), error: store ? null : kv.lastError() });
        break;
      }
      case 'add': {
        for (let n = 0; n < ADDS; n++) {
          if (failed(kv.kv_add(task.shared, 'hits', 1)) || failed(kv.kv_add(task.own, 'mine', 1))) {
            parentPort.postMessage({ error: kv.lastError() });
            return;
          }
        }
        parentPort.postMessage({ error: null });
        break;
      }
      case 'panic': {
        const text = `boom ${id}`;
        const result = kv.kv_debug_panic(text);
        parentPort.postMessage({ result, text, error: kv.lastError() });
        break;
      }
      case 'hammer': {
        Atomics.store(counters, id, 0n);
        while (!failed(kv.kv_add(task.shared, 'late', 1))) Atomics.add(counters, id, 1n);
        parentPort.postMessage({ successes: Atomics.load(counters, id), error: kv.lastError() });
        break;
      }
      default:
        throw new Error(`unknown task ${task.kind}`);
    }
  });
}

// ---- main thread ----

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class Pool {
  constructor(size) {
    this.counters = new BigInt64Array(new SharedArrayBuffer(8 * size));
    this.started = new Int32Array(new SharedArrayBuffer(4 * size));
    this.workers = Array.from({ length: size }, (_, id) => {
      const workerData = { id, counters: this.counters.buffer, started: this.started.buffer };
      const worker = new Worker(__filename, { workerData });
      worker.on('error', (e) => expect(false, `worker ${id}: ${e.stack}`));
      return worker;
    });
  }

  // Resolves once every worker has begun its first call (worker start-up takes a while).
  async allStarted() {
    while (!this.started.every((_, i) => Atomics.load(this.started, i) === 1)) await sleep(1);
  }

  // Sends task(i) to every worker; resolves to their replies, in order.
  ask(task) {
    return Promise.all(
      this.workers.map(
        (worker, i) =>
          new Promise((resolve) => {
            worker.once('message', resolve);
            worker.postMessage(task(i));
          }),
      ),
    );
  }

  close() {
    return Promise.all(this.workers.map((w) => w.terminate()));
  }
}

async function lifecycle() {
  expect(kv.kv_wait_ready(50) === -1, 'kv_wait_ready before kv_init must time out');
  expect(kv.lastError().includes('timed out'), `kv_wait_ready: ${kv.lastError()}`);

  // Early callers (workers) wait for kv_init.
  const pool = new Pool(WORKERS);
  const early = pool.ask(() => ({ kind: 'new-store' }));
  await pool.allStarted();
  await sleep(200);
  expect(pool.counters.every((_, i) => Atomics.load(pool.counters, i) === 0n), 'a call before kv_init returned instead of waiting');
  expect(kv.kv_init() === 0, `kv_init: ${kv.lastError()}`);
  const replies = await early;
  for (const r of replies) expect(r.store !== 0n, `kv_store_new after waiting: ${r.error}`);
  const stores = replies.map((r) => r.store);
  expect(new Set(stores).size === WORKERS, 'distinct handles');
  const shared = stores[0];

  // Several workers: a shared store and one of their own.
  for (const r of await pool.ask((i) => ({ kind: 'add', shared, own: stores[i] })))
    expect(r.error === null, `kv_add: ${r.error}`);
  expect(kv.big(kv.kv_get(shared, 'hits')) === BigInt(WORKERS * ADDS), 'lost or extra adds');
  for (const s of stores.slice(1)) expect(kv.big(kv.kv_get(s, 'mine')) === BigInt(ADDS), 'own store');
  expect(kv.big(kv.kv_len(shared)) === 2n, 'shared store holds hits and mine');
  const served = BigInt(2 * WORKERS * ADDS);

  // Errors: the value says failed, kv_last_error says why, per thread.
  expect(failed(kv.kv_add(shared, null, 1)), 'NULL key must fail');
  expect(kv.lastError() === 'key is NULL', `NULL key: ${kv.lastError()}`);
  for (const r of await pool.ask(() => ({ kind: 'panic' }))) {
    expect(r.result === -1, 'a panic returns -1');
    expect(r.error === `crosscall: kv_debug_panic panicked: ${r.text}`, `panic: ${r.error}`);
  }
  expect(kv.lastError() === 'key is NULL', "another thread's error leaked into this one");

  // Handles: a freed one is stale, a made-up one was never issued.
  const freed = stores[1];
  expect(kv.kv_store_free(freed) === 0, `kv_store_free: ${kv.lastError()}`);
  expect(failed(kv.kv_get(freed, 'mine')), 'a freed handle must fail');
  expect(kv.lastError().includes('stale handle'), `freed handle: ${kv.lastError()}`);
  expect(kv.kv_store_free(freed) === -1, 'double free must fail');
  expect(failed(kv.kv_get(0xdeadbeef, 'x')), 'a made-up handle must fail');
  expect(kv.lastError().includes('never issued'), `made-up handle: ${kv.lastError()}`);

  // Shutdown while workers keep calling: it drains them, then refuses.
  pool.counters.fill(0n);
  const hammer = pool.ask(() => ({ kind: 'hammer', shared }));
  while (!pool.counters.every((_, i) => Atomics.load(pool.counters, i) > 0n)) await sleep(1);
  const drained = kv.big(kv.kv_shutdown());
  const results = await hammer;
  const seen = results.reduce((sum, r) => sum + r.successes, served);
  expect(drained === seen, `kv_shutdown served ${drained}, workers saw ${seen}`);
  for (const r of results) expect(r.error === 'crosscall: the gate is closed', `after shutdown: ${r.error}`);
  expect(kv.big(kv.kv_store_new()) === 0n, 'kv_store_new after shutdown must fail');
  expect(kv.kv_wait_ready(10) === -1, 'kv_wait_ready after shutdown must fail');

  // Init again: a new generation; every old handle is stale.
  expect(kv.kv_init() === 0, `kv_init again: ${kv.lastError()}`);
  expect(failed(kv.kv_get(shared, 'hits')), 'an old handle must be stale');
  expect(kv.lastError().includes('stale handle'), `old handle: ${kv.lastError()}`);
  const fresh = kv.kv_store_new();
  expect(kv.big(kv.kv_add(fresh, 'ключ', 5)) === 5n, `kv_add in the new generation: ${kv.lastError()}`);
  expect(kv.big(kv.kv_shutdown()) === 1n, 'one add in the second generation');
  await pool.close();
}

// A worker waits for a kv_init that never comes. Node waits for every worker at exit, and
// terminate() cannot stop one that is inside a native call: only kv_shutdown releases it.
async function exitWhileWaiting(shutdown) {
  const pool = new Pool(1);
  const waiting = pool.ask(() => ({ kind: 'new-store' }));
  await pool.allStarted();
  await sleep(200);
  expect(Atomics.load(pool.counters, 0) === 0n, 'the call before kv_init must wait');
  if (!shutdown) {
    pool.workers[0].terminate(); // returns a promise that never settles: the worker is in C
    return; // ...and the process does not exit
  }
  expect(kv.big(kv.kv_shutdown()) === 0n, `kv_shutdown: ${kv.lastError()}`);
  const [reply] = await waiting;
  expect(reply.store === 0n, 'the waiter must be refused');
  expect(reply.error === 'crosscall: the gate is closed', `waiter: ${reply.error}`);
  await pool.close();
}

async function main() {
  const mode = process.argv[2] || 'lifecycle';
  if (mode === 'lifecycle') await lifecycle();
  else if (mode === 'exit-while-waiting') await exitWhileWaiting(true);
  else if (mode === 'hang-without-shutdown') {
    await exitWhileWaiting(false);
    console.log('node hang-without-shutdown: main() returned; the process now waits for its worker');
    return;
  } else expect(false, `unknown mode ${mode}`);
  console.log(`node ${mode}: ok`);
}

if (isMainThread) {
  main().catch((e) => expect(false, e.stack));
} else {
  workerMain();
}
