/* A stand-in bcryptprimitives.dll for wine prefixes whose wine lacks ProcessPrng (Debian 12's
 * wine 8). Rust's std on Windows calls ProcessPrng for its random keys (HashMap seeds), so
 * without it every Rust test executable fails to start under such a wine. This DLL exports
 * ProcessPrng and implements it with RtlGenRandom (advapi32's SystemFunction036), which that
 * wine has. Built and installed into the prefix by scripts/ci/platforms.sh; not shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom */

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
