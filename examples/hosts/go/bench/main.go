// Per-call cost of a gated export from Go (cgo), beside the same function ungated.
//
// Calls hb_ungated_add1 and hb_export_add1 (crates/crosscall-hostbench: body `x + 1`, the
// second behind #[crosscall::export]) from 1 and 2 goroutines. Rounds interleave the two
// (ABBA order) so load drift hits both alike; prints the median ns per call of each, the
// median per-round difference and the ratio. With 2 goroutines a round's figure is the
// slower one's. ROUNDS and CALLS in the environment override the defaults.
package main

/*
#cgo LDFLAGS: -lcrosscall_hostbench
#include <stdint.h>
int32_t hb_ungated_add1(int32_t);
int32_t hb_export_add1(int32_t);
void hb_init(void);
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"
)

func envOr(name string, fallback int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return fallback
}

func nsPerCall(gated bool, calls int) float64 {
	x := C.int32_t(0)
	start := time.Now()
	if gated {
		for i := 0; i < calls; i++ {
			x = C.hb_export_add1(x)
		}
	} else {
		for i := 0; i < calls; i++ {
			x = C.hb_ungated_add1(x)
		}
	}
	elapsed := time.Since(start)
	if int(x) != calls {
		panic("wrong result")
	}
	return float64(elapsed.Nanoseconds()) / float64(calls)
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func main() {
	rounds, calls := envOr("ROUNDS", 21), envOr("CALLS", 2000000)
	C.hb_init()
	fmt.Printf("# %s (cgo), GOMAXPROCS %d, %d rounds x %d calls, ns per call\n",
		runtime.Version(), runtime.GOMAXPROCS(0), rounds, calls)
	fmt.Printf("%-16s%8s%10s%10s%9s%8s\n", "host", "threads", "ungated", "gated", "delta", "ratio")
	for _, threads := range []int{1, 2} {
		// figures[t][r][s]: goroutine t, round r, shape s (0 ungated, 1 gated).
		figures := make([][][2]float64, threads)
		var start sync.WaitGroup
		for r := 0; r < rounds; r++ {
			for k := 0; k < 2; k++ {
				shape := k
				if r%2 == 1 {
					shape = 1 - k
				}
				start.Add(threads)
				var done sync.WaitGroup
				for t := 0; t < threads; t++ {
					if r == 0 && k == 0 {
						figures[t] = make([][2]float64, rounds)
					}
					done.Add(1)
					go func(t int) {
						defer done.Done()
						start.Done()
						start.Wait() // all goroutines start together
						figures[t][r][shape] = nsPerCall(shape == 1, calls)
					}(t)
				}
				done.Wait()
			}
		}
		var u, g, d []float64
		for r := 0; r < rounds; r++ {
			ur, gr := 0.0, 0.0
			for t := 0; t < threads; t++ {
				ur = max(ur, figures[t][r][0])
				gr = max(gr, figures[t][r][1])
			}
			u, g, d = append(u, ur), append(g, gr), append(d, gr-ur)
		}
		mu, mg := median(u), median(g)
		fmt.Printf("%-16s%8d%10.2f%10.2f%+9.2f%8.3f\n", "Go cgo", threads, mu, mg, median(d), mg/mu)
	}
}
