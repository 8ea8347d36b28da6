// libhostkv from C++ std::threads: the whole lifecycle, asserted (see ../README.md).
//   test_kv              # lifecycle
//   test_kv exit-while-waiting
// Exits non-zero on the first failed expectation.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kv.hpp"

namespace {

constexpr int kThreads = 4;
constexpr int kAdds = 20000;  // per thread and store

void expect(bool condition, const std::string &what) {
    if (!condition) {
        std::fprintf(stderr, "cpp: FAILED: %s\n", what.c_str());
        std::exit(1);
    }
}

std::string last_error() { return kv::Error::last_error(); }

bool contains(const std::string &text, const char *part) { return text.find(part) != std::string::npos; }

void run_threads(const std::function<void(int)> &body) {
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; i++) threads.emplace_back(body, i);
    for (auto &t : threads) t.join();
}

void lifecycle() {
    expect(kv_wait_ready(50) == -1, "kv_wait_ready before kv_init must time out");
    expect(contains(last_error(), "timed out"), "kv_wait_ready: " + last_error());

    // Early callers wait for kv_init.
    std::atomic<bool> initialized{false};
    std::atomic<int> started{0}, returned{0};
    std::vector<uint64_t> early(kThreads, 0);
    {
        std::vector<std::thread> threads;
        for (int i = 0; i < kThreads; i++) {
            threads.emplace_back([&, i] {
                started++;
                early[i] = kv_store_new();
                returned++;
                expect(initialized.load(), "kv_store_new returned before kv_init");
                expect(early[i] != 0, "kv_store_new after waiting: " + last_error());
            });
        }
        while (started.load() < kThreads) std::this_thread::yield();  // all about to call
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        expect(returned.load() == 0, "a call before kv_init returned instead of waiting");
        initialized = true;
        kv::check(kv_init());
        for (auto &t : threads) t.join();
    }
    expect(std::set<uint64_t>(early.begin(), early.end()).size() == kThreads, "distinct handles");
    std::vector<kv::Store> stores;  // owners of the handles: freed when they go
    for (uint64_t h : early) stores.emplace_back(h);
    const kv::Store &shared = stores[0];

    // Several threads: a shared store and one of their own.
    run_threads([&](int i) {
        for (int n = 0; n < kAdds; n++) {
            shared.add("hits", 1);
            stores[i].add("mine", 1);
        }
    });
    expect(shared.get("hits") == int64_t{kThreads} * kAdds, "lost or extra adds");
    for (int i = 1; i < kThreads; i++) expect(stores[i].get("mine") == kAdds, "own store");
    expect(shared.size() == 2, "shared store holds hits and mine");
    int64_t served = 2 * int64_t{kThreads} * kAdds;

    // Errors: the value says failed, kv_last_error says why, per thread.
    expect(kv_add(shared.handle(), nullptr, 1) == KV_ERROR, "NULL key must fail");
    expect(last_error() == "key is NULL", "NULL key: " + last_error());
    try {
        shared.add("hits", INT64_MAX);
        expect(false, "overflow must throw");
    } catch (const kv::Error &e) {
        expect(contains(e.what(), "would overflow"), std::string("overflow: ") + e.what());
    }
    run_threads([](int i) {
        std::string message = "boom " + std::to_string(i);
        expect(kv_debug_panic(message.c_str()) == -1, "a panic returns -1");
        expect(last_error() == "crosscall: kv_debug_panic panicked: " + message, "panic: " + last_error());
    });
    expect(contains(last_error(), "would overflow"), "another thread's error leaked here");

    // Handles: a freed one is stale, a made-up one was never issued.
    uint64_t freed = stores[1].handle();
    stores[1].reset();
    expect(kv_get(freed, "mine") == KV_ERROR, "a freed handle must fail");
    expect(contains(last_error(), "stale handle"), "freed handle: " + last_error());
    expect(kv_store_free(freed) == -1, "double free must fail");
    expect(kv_get(0xdeadbeef, "x") == KV_ERROR, "a made-up handle must fail");
    expect(contains(last_error(), "never issued"), "made-up handle: " + last_error());

    // Shutdown while threads keep calling: it drains them, then refuses.
    std::vector<std::atomic<int64_t>> successes(kThreads);
    std::vector<std::string> refusals(kThreads);
    std::vector<std::thread> hammer;
    for (int i = 0; i < kThreads; i++) {
        hammer.emplace_back([&, i] {
            while (kv_add(shared.handle(), "late", 1) != KV_ERROR) successes[i]++;
            refusals[i] = last_error();
        });
    }
    for (auto &s : successes)
        while (s.load() == 0) std::this_thread::yield();
    int64_t drained = kv_shutdown();
    for (auto &t : hammer) t.join();
    int64_t seen = served;
    for (auto &s : successes) seen += s.load();
    expect(drained == seen, "kv_shutdown served " + std::to_string(drained) + ", threads saw " +
                                std::to_string(seen));
    for (auto &r : refusals) expect(r == "crosscall: the gate is closed", "after shutdown: " + r);
    expect(kv_store_new() == 0, "kv_store_new after shutdown must fail");
    expect(kv_wait_ready(10) == -1, "kv_wait_ready after shutdown must fail");

    // Init again: a new generation; every old handle is stale.
    kv::check(kv_init());
    expect(kv_get(shared.handle(), "hits") == KV_ERROR, "an old handle must be stale");
    expect(contains(last_error(), "stale handle"), "old handle: " + last_error());
    {
        kv::Store fresh;
        expect(fresh.add("ключ", 5) == 5, "a store of the new generation");
    }
    expect(kv_shutdown() == 1, "one add in the second generation");
    // `stores` are destroyed after this: their frees fail quietly (already freed).
}

void exit_while_waiting() {
    std::atomic<bool> done{false};
    uint64_t store = 1;
    std::string error;
    std::thread waiter([&] {
        store = kv_store_new();  // waits: kv_init never comes
        error = last_error();
        done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    expect(!done.load(), "the call before kv_init must wait");
    // Done without ever initializing: shut down so the waiter returns and can be joined.
    expect(kv_shutdown() == 0, last_error());
    waiter.join();
    expect(store == 0, "the waiter must be refused");
    expect(error == "crosscall: the gate is closed", "waiter: " + error);
}

}  // namespace

int main(int argc, char **argv) {
    std::string mode = argc > 1 ? argv[1] : "lifecycle";
    if (mode == "lifecycle") {
        lifecycle();
    } else if (mode == "exit-while-waiting") {
        exit_while_waiting();
    } else {
        std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
        return 2;
    }
    std::printf("cpp %s: ok\n", mode.c_str());
    return 0;
}
