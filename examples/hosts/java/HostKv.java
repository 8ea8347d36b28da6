import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/**
 * libhostkv through JNA direct mapping: each `native` method below is bound to the C
 * function of the same name by {@link Native#register}, with no proxy or reflection per call
 * (interface mapping costs several times more per call).
 *
 * <pre>
 *   HostKv.kv_init();
 *   long store = HostKv.kv_store_new();
 *   HostKv.kv_add(store, "hits", 1);
 * </pre>
 *
 * The library path comes from the system property {@code hostkv.lib} (a file name, or
 * "hostkv" searched on {@code jna.library.path}). Strings are passed as UTF-8 (the
 * {@code jna.encoding} property defaults to it here).
 */
public final class HostKv {
    /** The error value of kv_add and kv_get (INT64_MIN). */
    public static final long KV_ERROR = Long.MIN_VALUE;

    static {
        if (System.getProperty("jna.encoding") == null) System.setProperty("jna.encoding", "UTF-8");
        Native.register(HostKv.class, NativeLibrary.getInstance(System.getProperty("hostkv.lib", "hostkv")));
    }

    private HostKv() {}

    // uint64_t handles map to long (same bits); int32_t to int; const char * to String.
    public static native int kv_init();
    public static native long kv_shutdown();
    public static native int kv_wait_ready(int timeoutMs);
    public static native Pointer kv_last_error();
    public static native long kv_store_new();
    public static native int kv_store_free(long store);
    public static native long kv_add(long store, String key, long delta);
    public static native long kv_get(long store, String key);
    public static native long kv_len(long store);
    public static native int kv_debug_panic(String message);

    /** This thread's last error message, or null. Read it right after the failed call, on
     * the same thread: each thread has its own. */
    public static String lastError() {
        Pointer message = kv_last_error();
        return message == null ? null : message.getString(0, "UTF-8");
    }

    /** A failed call, with the library's message. */
    public static final class KvException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public KvException(String op) {
            super(op + ": " + lastError());
        }
    }
}
