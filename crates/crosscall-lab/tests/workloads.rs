//! Every gate × workload computes the right bytes through the real C side,
//! and runs measure what they say they measure.
use crosscall_lab::run::runner::{self, GateKind, QueueKind, RunConfig, Workload};

#[test]
fn every_gate_and_workload_returns_the_zeros_the_callback_wrote() {
    for gate in GateKind::ALL {
        for workload in Workload::ALL {
            // C's stack array starts as 0xAA and the value buffer as 0x55, so
            // a skipped write or copy shows up as a non-zero byte; after the
            // calls the gate is closed and one more call must be refused.
            runner::check(gate, workload, 50)
                .unwrap_or_else(|err| panic!("{gate} × {workload}: {err}"));
        }
    }
}

#[test]
fn runs_report_consistent_figures_for_every_configuration() {
    for queue in QueueKind::ALL {
        for gate in GateKind::ALL {
            for workload in Workload::ALL {
                let cfg = RunConfig {
                    gate,
                    workload,
                    workers: 2,
                    tasks: 3001,
                    queue,
                };
                let result = runner::run(&cfg);
                let what = format!("{gate} × {workload} × {queue}");
                assert_eq!(result.gate, gate.name(), "{what}");
                assert_eq!(result.workload, workload.name(), "{what}");
                assert_eq!(result.queue, queue.name(), "{what}");
                assert_eq!((result.workers, result.tasks), (2, 3001), "{what}");
                assert!(result.took_ms > 0.0, "{what}");
                let ns = result.took_ms * 1e6 / 3001.0;
                assert!((result.ns_per_task - ns).abs() <= ns * 1e-9, "{what}");
                let per_sec = 3001.0 / (result.took_ms / 1e3);
                assert!(
                    (result.tasks_per_sec - per_sec).abs() <= per_sec * 1e-9,
                    "{what}"
                );
            }
        }
    }
}

#[test]
fn queue_floor_is_labelled_as_such() {
    let cfg = RunConfig {
        gate: GateKind::Mutex,
        workload: Workload::Seed,
        workers: 3,
        tasks: 1000,
        queue: QueueKind::Shared,
    };
    let floor = runner::queue_floor(&cfg);
    assert_eq!(
        (floor.gate.as_str(), floor.workers, floor.tasks),
        ("queue-only", 3, 1000)
    );
    assert!(floor.took_ms > 0.0);
}

#[test]
#[should_panic(expected = "at least one task")]
fn zero_tasks_are_rejected() {
    runner::run(&RunConfig {
        gate: GateKind::None,
        workload: Workload::Empty,
        workers: 1,
        tasks: 0,
        queue: QueueKind::Shared,
    });
}
