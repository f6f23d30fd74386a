//! Shift scheduling on the shared instances: per instance the objective,
//! the LP bound, the gap and the solve time, beside the best-known values.
//!
//! `cargo bench -p queuelake-scheduler --bench cover` (reads
//! `$QUEUELAKE_SHARED/wfm/sched_instances`, default `../shared`).

#![allow(clippy::print_stdout, clippy::unwrap_used, missing_docs)]

use std::time::Instant;

use queuelake_scheduler::cover::instances::{self, PyworkforceObjective};
use queuelake_scheduler::cover::{SolveLimits, evaluate, solve};

fn main() {
    let folder = "wfm/sched_instances";
    let Some(shared) = queuelake_testkit::shared(folder) else {
        eprintln!("the instances are not at $QUEUELAKE_SHARED/{folder}");
        std::process::exit(2);
    };
    let limits = SolveLimits::default();
    println!("| instance | objective | LP bound | gap to bound | best known | seconds |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let runs: [(&str, PyworkforceObjective, f64); 9] = [
        (
            "tours_small",
            PyworkforceObjective::MinRequiredResources,
            1550.0,
        ),
        (
            "tours_medium",
            PyworkforceObjective::MinRequiredResources,
            3360.0,
        ),
        (
            "tours_large",
            PyworkforceObjective::MinRequiredResources,
            12174.0,
        ),
        (
            "pyworkforce_anon_bank_1999-12-05_30min",
            PyworkforceObjective::MinAbsDifference,
            199.0,
        ),
        (
            "pyworkforce_anon_bank_1999-12-05_30min",
            PyworkforceObjective::MinRequiredResources,
            2744.0,
        ),
        (
            "pyworkforce_us_bank_2003-10-06_30min",
            PyworkforceObjective::MinAbsDifference,
            353.0,
        ),
        (
            "pyworkforce_us_bank_2003-10-06_30min",
            PyworkforceObjective::MinRequiredResources,
            34584.0,
        ),
        (
            "pyworkforce_us_bank_2003-10-06_15min",
            PyworkforceObjective::MinAbsDifference,
            1115.0,
        ),
        (
            "pyworkforce_us_bank_2003-10-06_15min",
            PyworkforceObjective::MinRequiredResources,
            70584.0,
        ),
    ];
    for (name, objective, best) in runs {
        let text =
            std::fs::read_to_string(shared.join(folder).join(format!("{name}.json"))).unwrap();
        let problem = instances::read(&text, objective).unwrap();
        let started = Instant::now();
        let schedule = solve(&problem, &limits).unwrap();
        let seconds = started.elapsed().as_secs_f64();
        let broken = evaluate::violations(&problem, &schedule);
        assert!(broken.is_empty(), "{name}: {broken:?}");
        let label = if name.starts_with("tours") {
            format!("{name} (paid hours)")
        } else {
            format!("{name}, {objective:?}")
        };
        println!(
            "| {label} | {:.2} | {:.2} | {:.2} % | {best} | {seconds:.2} |",
            schedule.objective,
            schedule.bound,
            schedule.gap() * 100.0
        );
    }
}
