import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntConsumer;

/**
 * libhostkv from Java threads through JNA: the whole lifecycle, asserted (see
 * ../README.md). {@code java KvTest [lifecycle|exit-while-waiting]}; exits non-zero on the
 * first failed expectation.
 */
public final class KvTest {
    static final int THREADS = 4;
    static final int ADDS = 20000; // per thread and store

    static void expect(boolean condition, String what) {
        if (!condition) {
            System.err.println("java: FAILED: " + what);
            System.exit(1);
        }
    }

    static String lastError() {
        return String.valueOf(HostKv.lastError());
    }

    /** Runs body(i) on THREADS threads and joins them; a thread's exception fails the test. */
    static void parallel(IntConsumer body) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        AtomicBoolean failed = new AtomicBoolean();
        for (int i = 0; i < THREADS; i++) {
            final int id = i;
            Thread t = new Thread(() -> body.accept(id));
            t.setUncaughtExceptionHandler((th, e) -> {
                e.printStackTrace();
                failed.set(true);
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) t.join();
        expect(!failed.get(), "a thread threw");
    }

    static void lifecycle() throws InterruptedException {
        expect(HostKv.kv_wait_ready(50) == -1, "kv_wait_ready before kv_init must time out");
        expect(lastError().contains("timed out"), "kv_wait_ready: " + lastError());

        // Early callers wait for kv_init.
        AtomicBoolean initialized = new AtomicBoolean();
        AtomicInteger started = new AtomicInteger();
        AtomicInteger returned = new AtomicInteger();
        long[] stores = new long[THREADS];
        List<Thread> early = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            final int id = i;
            Thread t = new Thread(() -> {
                started.incrementAndGet();
                stores[id] = HostKv.kv_store_new();
                returned.incrementAndGet();
                expect(initialized.get(), "kv_store_new returned before kv_init");
                expect(stores[id] != 0, "kv_store_new after waiting: " + lastError());
            });
            early.add(t);
            t.start();
        }
        while (started.get() < THREADS) Thread.sleep(1); // every thread is about to call
        Thread.sleep(200);
        expect(returned.get() == 0, "a call before kv_init returned instead of waiting");
        initialized.set(true);
        expect(HostKv.kv_init() == 0, "kv_init: " + lastError());
        for (Thread t : early) t.join();
        HashSet<Long> distinct = new HashSet<>();
        for (long s : stores) distinct.add(s);
        expect(distinct.size() == THREADS, "distinct handles");
        long shared = stores[0];

        // Several threads: a shared store and one of their own.
        parallel(i -> {
            for (int n = 0; n < ADDS; n++) {
                if (HostKv.kv_add(shared, "hits", 1) == HostKv.KV_ERROR) throw new HostKv.KvException("kv_add");
                if (HostKv.kv_add(stores[i], "mine", 1) == HostKv.KV_ERROR) throw new HostKv.KvException("kv_add");
            }
        });
        expect(HostKv.kv_get(shared, "hits") == (long) THREADS * ADDS, "lost or extra adds");
        for (int i = 1; i < THREADS; i++) expect(HostKv.kv_get(stores[i], "mine") == ADDS, "own store");
        expect(HostKv.kv_len(shared) == 2, "shared store holds hits and mine");
        long served = 2L * THREADS * ADDS;

        // Errors: the value says failed, kv_last_error says why, per thread.
        expect(HostKv.kv_add(shared, null, 1) == HostKv.KV_ERROR, "NULL key must fail");
        expect(lastError().equals("key is NULL"), "NULL key: " + lastError());
        parallel(i -> {
            String text = "boom " + i;
            expect(HostKv.kv_debug_panic(text) == -1, "a panic returns -1");
            expect(lastError().equals("crosscall: kv_debug_panic panicked: " + text), "panic: " + lastError());
        });
        expect(lastError().equals("key is NULL"), "another thread's error leaked into this one");

        // Handles: a freed one is stale, a made-up one was never issued.
        long freed = stores[1];
        expect(HostKv.kv_store_free(freed) == 0, "kv_store_free: " + lastError());
        expect(HostKv.kv_get(freed, "mine") == HostKv.KV_ERROR, "a freed handle must fail");
        expect(lastError().contains("stale handle"), "freed handle: " + lastError());
        expect(HostKv.kv_store_free(freed) == -1, "double free must fail");
        expect(HostKv.kv_get(0xdeadbeefL, "x") == HostKv.KV_ERROR, "a made-up handle must fail");
        expect(lastError().contains("never issued"), "made-up handle: " + lastError());

        // Shutdown while threads keep calling: it drains them, then refuses.
        AtomicLongArray successes = new AtomicLongArray(THREADS);
        String[] refusals = new String[THREADS];
        List<Thread> hammer = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            final int id = i;
            Thread t = new Thread(() -> {
                while (HostKv.kv_add(shared, "late", 1) != HostKv.KV_ERROR) successes.incrementAndGet(id);
                refusals[id] = lastError();
            });
            hammer.add(t);
            t.start();
        }
        for (int i = 0; i < THREADS; i++) while (successes.get(i) == 0) Thread.sleep(1);
        long drained = HostKv.kv_shutdown();
        for (Thread t : hammer) t.join();
        long seen = served;
        for (int i = 0; i < THREADS; i++) seen += successes.get(i);
        expect(drained == seen, "kv_shutdown served " + drained + ", threads saw " + seen);
        for (String r : refusals) expect("crosscall: the gate is closed".equals(r), "after shutdown: " + r);
        expect(HostKv.kv_store_new() == 0, "kv_store_new after shutdown must fail");
        expect(HostKv.kv_wait_ready(10) == -1, "kv_wait_ready after shutdown must fail");

        // Init again: a new generation; every old handle is stale.
        expect(HostKv.kv_init() == 0, "kv_init again: " + lastError());
        expect(HostKv.kv_get(shared, "hits") == HostKv.KV_ERROR, "an old handle must be stale");
        expect(lastError().contains("stale handle"), "old handle: " + lastError());
        long fresh = HostKv.kv_store_new();
        expect(HostKv.kv_add(fresh, "ключ", 5) == 5, "kv_add in the new generation: " + lastError());
        expect(HostKv.kv_shutdown() == 1, "one add in the second generation");
    }

    static void exitWhileWaiting() throws InterruptedException {
        long[] store = {1};
        String[] error = {null};
        // Not a daemon thread: the JVM waits for it at exit, as Node and Ruby wait for theirs.
        Thread waiter = new Thread(() -> {
            store[0] = HostKv.kv_store_new(); // waits: kv_init never comes
            error[0] = lastError();
        });
        waiter.start();
        Thread.sleep(200);
        expect(waiter.isAlive(), "the call before kv_init must wait");
        // Done without ever initializing: shut down so the waiter returns and the JVM can exit.
        expect(HostKv.kv_shutdown() == 0, "kv_shutdown: " + lastError());
        waiter.join();
        expect(store[0] == 0, "the waiter must be refused");
        expect("crosscall: the gate is closed".equals(error[0]), "waiter: " + error[0]);
    }

    public static void main(String[] args) throws InterruptedException {
        String mode = args.length > 0 ? args[0] : "lifecycle";
        switch (mode) {
            case "lifecycle" -> lifecycle();
            case "exit-while-waiting" -> exitWhileWaiting();
            default -> {
                System.err.println("unknown mode " + mode);
                System.exit(2);
            }
        }
        System.out.println("java " + mode + ": ok");
    }
}
