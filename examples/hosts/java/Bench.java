import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.util.Arrays;

/**
 * Per-call cost of a gated export from Java (JNA direct mapping), beside the same function
 * ungated.
 *
 * <p>Calls hb_ungated_add1 and hb_export_add1 (crates/crosscall-hostbench: body {@code x + 1},
 * the second behind #[crosscall::export]) from 1 and 2 threads, through JNA's direct mapping
 * and, for comparison, its interface mapping. Rounds interleave the two
 * (ABBA order) so load drift hits both alike, after one warm-up round for the JIT; prints the
 * median ns per call of each, the median per-round difference and the ratio. With 2 threads a
 * round's figure is the slower thread's. ROUNDS and CALLS in the environment override the
 * defaults.
 */
public final class Bench {
    static {
        Native.register(Bench.class, NativeLibrary.getInstance(System.getProperty("hostbench.lib")));
    }

    public static native int hb_ungated_add1(int x);
    public static native int hb_export_add1(int x);
    public static native void hb_init();

    /** The same two functions through interface mapping (a proxy per call). */
    public interface HostBench extends Library {
        int hb_ungated_add1(int x);
        int hb_export_add1(int x);
    }

    static final HostBench IFACE = Native.load(System.getProperty("hostbench.lib"), HostBench.class);

    static int envOr(String name, int fallback) {
        String value = System.getenv(name);
        return value == null ? fallback : Integer.parseInt(value);
    }

    static double nsPerCall(boolean iface, boolean gated, int calls) {
        int x = 0;
        long start = System.nanoTime();
        if (iface && gated) {
            for (int i = 0; i < calls; i++) x = IFACE.hb_export_add1(x);
        } else if (iface) {
            for (int i = 0; i < calls; i++) x = IFACE.hb_ungated_add1(x);
        } else if (gated) {
            for (int i = 0; i < calls; i++) x = hb_export_add1(x);
        } else {
            for (int i = 0; i < calls; i++) x = hb_ungated_add1(x);
        }
        long elapsed = System.nanoTime() - start;
        if (x != calls) throw new AssertionError("wrong result " + x);
        return (double) elapsed / calls;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    public static void main(String[] args) throws Exception {
        int rounds = envOr("ROUNDS", 21), calls = envOr("CALLS", 2_000_000);
        hb_init();
        System.out.printf("# Java %s (JNA %s), %d rounds x %d calls, ns per call%n",
                System.getProperty("java.version"), Native.VERSION, rounds, calls);
        System.out.printf("%-16s%8s%10s%10s%9s%8s%n", "host", "threads", "ungated", "gated", "delta", "ratio");
        for (boolean iface : new boolean[] {false, true}) {
            for (int threads : new int[] {1, 2}) {
                report(iface ? "Java JNA iface" : "Java JNA direct", threads, measure(iface, threads, rounds, calls));
            }
        }
    }

    /** Per thread, round (0 is the warm-up) and shape (0 ungated, 1 gated): ns per call. */
    static double[][][] measure(boolean iface, int threads, int rounds, int calls) throws InterruptedException {
        double[][][] figures = new double[threads][rounds + 1][2];
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(threads);
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            final int id = t;
            workers[t] = new Thread(() -> {
                try {
                    for (int r = 0; r <= rounds; r++) {
                        for (int k = 0; k < 2; k++) {
                            int shape = r % 2 == 0 ? k : 1 - k;
                            start.await();
                            figures[id][r][shape] = nsPerCall(iface, shape == 1, calls);
                        }
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            workers[t].start();
        }
        for (Thread w : workers) w.join();
        return figures;
    }

    /** Medians over the rounds after the warm-up, each round's figure the slowest thread's. */
    static void report(String host, int threads, double[][][] figures) {
        int rounds = figures[0].length - 1;
        double[] u = new double[rounds], g = new double[rounds], d = new double[rounds];
        for (int r = 1; r <= rounds; r++) {
            for (double[][] thread : figures) {
                u[r - 1] = Math.max(u[r - 1], thread[r][0]);
                g[r - 1] = Math.max(g[r - 1], thread[r][1]);
            }
            d[r - 1] = g[r - 1] - u[r - 1];
        }
        double mu = median(u), mg = median(g);
        System.out.printf("%-16s%8d%10.2f%10.2f%+9.2f%8.3f%n", host, threads, mu, mg, median(d), mg / mu);
    }
}
