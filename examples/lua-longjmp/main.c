/* A real Lua 5.4 host whose C function enters a crosscall gate and calls back into Lua, and
 * whose Lua callback raises an error (lua_error longjmps past crosscall_gate_leave). The
 * landing site — the host's lua_pcall — gives the skipped entries back with
 * crosscall_gate_restore_depth; a close waiting on another thread then finishes.
 *
 *   bash examples/lua-longjmp/run.sh [--valgrind]
 *
 * The pattern, for any host that longjmps out of callbacks (Lua, Ruby's rb_raise, libpng):
 *
 *     int depth = crosscall_gate_depth(gate);      // before the protected call
 *     int status = lua_pcall(L, 0, 0, 0);          // may longjmp past our leaves
 *     crosscall_gate_restore_depth(gate, depth);   // at the landing site: give them back
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crosscall.h"

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);          \
            exit(1);                                                                          \
        }                                                                                     \
    } while (0)

static crosscall_gate *gate;

/* lib.call(f, ...): enters the gate, calls the Lua function f inside it, leaves. If f raises,
 * lua_error longjmps out of lua_call, past the leave below. */
static int gated_call(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    if (crosscall_gate_enter(gate) != CROSSCALL_OK) {
        return luaL_error(L, "gate refused: %s", crosscall_last_error_message());
    }
    lua_call(L, lua_gettop(L) - 1, 1);
    crosscall_gate_leave(gate);
    return 1;
}

/* lib.depth(): this thread's depth in the gate. */
static int gate_depth(lua_State *L) {
    lua_pushinteger(L, crosscall_gate_depth(gate));
    return 1;
}

struct closer {
    atomic_int done;
    int code;
};

static void *close_gate(void *arg) {
    struct closer *c = arg;
    c->code = crosscall_gate_close(gate);
    atomic_store(&c->done, 1);
    return NULL;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static const char *SCRIPT =
    "local lib = ...\n"
    "-- a normal call: enters and leaves\n"
    "assert(lib.call(function(x) return x * 2 end, 21) == 42)\n"
    "assert(lib.depth() == 0)\n"
    "-- nested gated calls, the innermost raises: two leaves are skipped\n"
    "lib.call(function()\n"
    "  assert(lib.depth() == 1)\n"
    "  lib.call(function() assert(lib.depth() == 2); error('raised inside the gate') end)\n"
    "end)\n";

int main(void) {
    gate = crosscall_gate_new();
    CHECK(gate != NULL);
    CHECK(crosscall_gate_open(gate) == CROSSCALL_OK);

    lua_State *L = luaL_newstate();
    CHECK(L != NULL);
    luaL_openlibs(L);
    CHECK(luaL_loadstring(L, SCRIPT) == LUA_OK);
    lua_newtable(L);
    lua_pushcfunction(L, gated_call);
    lua_setfield(L, -2, "call");
    lua_pushcfunction(L, gate_depth);
    lua_setfield(L, -2, "depth");

    int depth = crosscall_gate_depth(gate); /* before the protected call */
    CHECK(depth == 0);
    int status = lua_pcall(L, 1, 0, 0); /* lands here after lua_error */
    CHECK(status == LUA_ERRRUN);
    CHECK(strstr(lua_tostring(L, -1), "raised inside the gate") != NULL);
    lua_pop(L, 1);
    CHECK(crosscall_gate_depth(gate) == 2); /* the two skipped leaves */

    /* A close on another thread waits for them... */
    struct closer c = {0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, close_gate, &c) == 0);
    sleep_ms(50);
    CHECK(!atomic_load(&c.done));
    CHECK(crosscall_gate_in_flight(gate) == 2);

    /* ...until the landing site gives them back. */
    CHECK(crosscall_gate_restore_depth(gate, depth) == 2);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(c.code == CROSSCALL_OK);
    CHECK(crosscall_gate_depth(gate) == 0);

    lua_close(L);
    crosscall_gate_free(gate);
    printf("lua-longjmp: lua_error through a gated call, depth restored, close finished\n");
    return 0;
}
