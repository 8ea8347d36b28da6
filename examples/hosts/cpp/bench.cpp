// Per-call cost of a gated export from C++, beside the same function ungated.
//
// Calls hb_ungated_add1 and hb_export_add1 (crates/crosscall-hostbench: body `x + 1`, the
// second behind #[crosscall::export]) from 1 and 2 std::threads. Rounds interleave the two
// (ABBA order) so load drift hits both alike; prints the median ns per call of each, the
// median per-round difference and the ratio. With 2 threads a round's figure is the slower
// thread's. ROUNDS and CALLS in the environment override the defaults.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

extern "C" {
int32_t hb_ungated_add1(int32_t);
int32_t hb_export_add1(int32_t);
void hb_init(void);
}

namespace {

using Fn = int32_t (*)(int32_t);

long env_or(const char *name, long fallback) {
    const char *value = std::getenv(name);
    return value != nullptr ? std::atol(value) : fallback;
}

double ns_per_call(Fn f, long calls) {
    int32_t x = 0;
    auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < calls; i++) x = f(x);
    auto elapsed = std::chrono::steady_clock::now() - start;
    if (x != static_cast<int32_t>(calls)) std::abort();
    return std::chrono::duration<double, std::nano>(elapsed).count() / static_cast<double>(calls);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// A reusable start line for `n` threads (C++17 has no std::barrier).
class StartLine {
  public:
    explicit StartLine(int n) : n_(n) {}
    void wait() {
        int gen = generation_.load();
        if (arrived_.fetch_add(1) + 1 == n_) {
            arrived_ = 0;
            generation_++;
        } else {
            while (generation_.load() == gen) std::this_thread::yield();
        }
    }

  private:
    const int n_;
    std::atomic<int> arrived_{0};
    std::atomic<int> generation_{0};
};

}  // namespace

int main() {
    const long rounds = env_or("ROUNDS", 21), calls = env_or("CALLS", 10000000);
    const Fn shapes[2] = {hb_ungated_add1, hb_export_add1};
    hb_init();
    std::printf("# C++ (g++ -O2), %ld rounds x %ld calls, ns per call\n", rounds, calls);
    std::printf("%-16s%8s%10s%10s%9s%8s\n", "host", "threads", "ungated", "gated", "delta", "ratio");
    for (int threads : {1, 2}) {
        // figures[t][r][s]: thread t, round r, shape s.
        std::vector<std::vector<std::array<double, 2>>> figures(threads, std::vector<std::array<double, 2>>(rounds));
        StartLine line(threads);
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; t++) {
            workers.emplace_back([&, t] {
                for (long r = 0; r < rounds; r++) {
                    for (int k = 0; k < 2; k++) {
                        int s = r % 2 == 0 ? k : 1 - k;
                        line.wait();
                        figures[t][r][s] = ns_per_call(shapes[s], calls);
                    }
                }
            });
        }
        for (auto &w : workers) w.join();
        std::vector<double> u, g, d;
        for (long r = 0; r < rounds; r++) {
            double ur = 0, gr = 0;
            for (int t = 0; t < threads; t++) {
                ur = std::max(ur, figures[t][r][0]);
                gr = std::max(gr, figures[t][r][1]);
            }
            u.push_back(ur);
            g.push_back(gr);
            d.push_back(gr - ur);
        }
        double mu = median(u), mg = median(g);
        std::printf("%-16s%8d%10.2f%10.2f%+9.2f%8.3f\n", "C++", threads, mu, mg, median(d), mg / mu);
    }
    return 0;
}
