//! What a gate does after a call inside it panicked: keep admitting ([`PanicPolicy::Continue`])
//! or refuse every later call until it is closed and reopened ([`PanicPolicy::Poison`]).
//!
//! Nothing here is read on the admitted path. The policy lives in a small table keyed by the
//! gate's address that only the panic path reads; poisoning stops admission the way a
//! timed-out `close` does (the gate becomes `Closing`), so the fast path refuses through the
//! key comparison it makes anyway, and only the refusal's slow path looks up the message.

use std::cell::Cell;
use std::sync::Mutex;

use crate::gate::Gate;
use crate::state_gate::StateGate;

/// What a gate does after a call inside it panicked (see [`Gate::set_panic_policy`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PanicPolicy {
    /// The panic is reported (error value + last error) and later calls are admitted as
    /// before. The default.
    #[default]
    Continue,
    /// The panic is reported, and the gate stops admitting: every later call of any export of
    /// this gate is refused with its error value and a last error naming the function that
    /// panicked and the panic message, until the gate is closed and reopened. For libraries
    /// whose state a half-finished call may have broken.
    Poison,
}

/// One gate's entry in the table.
struct Entry {
    /// The gate's address (gates are usually `static`).
    gate: usize,
    policy: PanicPolicy,
    /// Set when a panic poisoned the gate: the generation it poisoned and the message.
    poisoned: Option<(u64, String)>,
}

/// Gates with a policy set. A `Vec`: few gates per process, read only on the panic path.
/// A std mutex even under loom: no model exercises the panic path, and loom's is not `const`.
static POLICIES: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

fn with_table<R>(f: impl FnOnce(&mut Vec<Entry>) -> R) -> R {
    // A panic while the lock is held cannot leave an entry half-written (each field is one
    // assignment), so poisoning of the mutex is ignored.
    let mut table = POLICIES.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut table)
}

impl Gate {
    /// Chooses what happens after a call inside this gate panics; [`PanicPolicy::Continue`]
    /// until set. Costs nothing on the admitted path: the policy is read only when a call
    /// panics.
    ///
    /// With [`PanicPolicy::Poison`], a panic caught by [`entry`](crate::entry) or
    /// `#[crosscall::export]` stops admission at once (the gate becomes
    /// [`Closing`](crate::GateState::Closing), as if a `close` had timed out): calls already
    /// inside finish, every later one is refused with its error value and a last error such
    /// as `crosscall: refused after a panic (PanicPolicy::Poison): crosscall: lib_parse
    /// panicked: index out of bounds`. [`close`](Gate::close) then drains as usual, and
    /// [`reopen`](Gate::reopen) admits again. A gate is known by its address: set the policy
    /// on a gate that stays where it is (a `static`).
    ///
    /// ```
    /// use crosscall::{Gate, GateState, PanicPolicy};
    ///
    /// static GATE: Gate = Gate::new();
    /// GATE.set_panic_policy(PanicPolicy::Poison);
    /// GATE.open();
    ///
    /// #[crosscall::export(gate = GATE)]
    /// #[no_mangle]
    /// pub extern "C" fn lib_check(ok: bool) -> bool {
    ///     assert!(ok, "invariant broken");
    ///     true
    /// }
    ///
    /// # std::panic::set_hook(Box::new(|_| {}));
    /// assert!(!lib_check(false)); // panics: false, and the gate is poisoned
    /// assert_eq!(GATE.state(), GateState::Closing);
    /// assert!(!lib_check(true)); // refused
    /// let message = crosscall::last_error().unwrap();
    /// assert!(message.contains("lib_check panicked: invariant broken"), "{message}");
    /// GATE.close().unwrap();
    /// GATE.reopen().unwrap();
    /// assert!(lib_check(true));
    /// ```
    pub fn set_panic_policy(&self, policy: PanicPolicy) {
        let gate = self as *const Gate as usize;
        with_table(|table| match table.iter_mut().find(|e| e.gate == gate) {
            Some(entry) => {
                entry.policy = policy;
                // A gate set up anew (perhaps a new gate at a dropped one's address) starts
                // clean.
                entry.poisoned = None;
            }
            None => table.push(Entry {
                gate,
                policy,
                poisoned: None,
            }),
        });
    }

    /// The policy chosen with [`set_panic_policy`](Gate::set_panic_policy).
    pub fn panic_policy(&self) -> PanicPolicy {
        let gate = self as *const Gate as usize;
        with_table(|table| {
            table
                .iter()
                .find(|e| e.gate == gate)
                .map_or(PanicPolicy::Continue, |e| e.policy)
        })
    }
}

impl<T> StateGate<T> {
    /// [`Gate::set_panic_policy`] for this gate: with [`PanicPolicy::Poison`], a panic in any
    /// call stops admission; [`close`](StateGate::close) then hands the (possibly broken)
    /// state back and [`reopen`](StateGate::reopen) installs a fresh one.
    ///
    /// ```
    /// use crosscall::{PanicPolicy, StateGate};
    ///
    /// static LIB: StateGate<Vec<u32>> = StateGate::new();
    /// LIB.set_panic_policy(PanicPolicy::Poison);
    /// assert_eq!(LIB.panic_policy(), PanicPolicy::Poison);
    /// ```
    #[cfg(not(loom))]
    pub fn set_panic_policy(&self, policy: PanicPolicy) {
        self.gate().set_panic_policy(policy);
    }

    /// The policy chosen with [`set_panic_policy`](StateGate::set_panic_policy).
    #[cfg(not(loom))]
    pub fn panic_policy(&self) -> PanicPolicy {
        self.gate().panic_policy()
    }
}

/// The panic path of the barrier: if `gate`'s policy is `Poison`, stops its admission and
/// records `message` for the refusals that follow.
#[cold]
pub(crate) fn after_panic(gate: &Gate, message: &str) {
    let addr = gate as *const Gate as usize;
    // Read before the lock: nothing that touches the gate's atomics runs while it is held.
    let generation = gate.generation();
    let poison = with_table(|table| {
        let Some(entry) = table.iter_mut().find(|e| e.gate == addr) else {
            return false;
        };
        if entry.policy != PanicPolicy::Poison {
            return false;
        }
        // The first panic of a generation is the one reported; later ones (calls that were
        // already inside) keep it.
        if entry.poisoned.as_ref().map(|(g, _)| *g) != Some(generation) {
            entry.poisoned = Some((generation, message.to_owned()));
        }
        true
    });
    if poison {
        gate.begin_close();
    }
}

/// The last error for a call `gate` refused: names the poisoning panic if the gate's
/// current generation was poisoned, else `crosscall: ` and the refusal.
#[cold]
pub(crate) fn refusal_message(gate: &Gate, refused: crate::EnterError) -> String {
    let addr = gate as *const Gate as usize;
    let generation = gate.generation();
    let poisoned = with_table(|table| {
        table
            .iter()
            .find(|e| e.gate == addr)
            .and_then(|e| e.poisoned.as_ref())
            .filter(|(g, _)| *g == generation)
            .map(|(_, message)| message.clone())
    });
    match poisoned {
        Some(message) => {
            format!("crosscall: refused after a panic (PanicPolicy::Poison): {message}")
        }
        None => format!("crosscall: {refused}"),
    }
}

std::thread_local! {
    /// The export whose body is unwinding on this thread (set by [`UnwindingExport`]).
    static UNWINDING_EXPORT: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// Names the export whose body is running, for the panic path only: `#[crosscall::export]`
/// creates one before the body and forgets it after, so it costs nothing unless the body
/// unwinds; then its `Drop` records the name, which the barrier takes when it catches.
#[doc(hidden)]
pub struct UnwindingExport(pub &'static str);

impl Drop for UnwindingExport {
    #[cold]
    fn drop(&mut self) {
        let _ = UNWINDING_EXPORT.try_with(|name| name.set(Some(self.0)));
    }
}

/// The name recorded by the unwinding export's guard, if any (and clears it).
pub(crate) fn take_unwinding_export() -> Option<&'static str> {
    UNWINDING_EXPORT.try_with(Cell::take).ok().flatten()
}
