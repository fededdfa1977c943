//! Verification against queueing theory: every case of `patientflow
//! validate` must pass (the same function the command calls, with the case
//! files' own replications and seeds).

use patientflow::experiment::Progress;
use patientflow::verify::{self, Check, Options, Outcome, theory};

fn run_cases() -> Vec<Check> {
    let options = Options {
        dir: verify::default_dir(),
        replications: None,
        threads: 0,
        progress: Progress::Hidden,
    };
    verify::run_all(&options, |_| {}).expect("the case files load and run")
}

#[test]
fn every_verification_case_passes_and_a_wrong_theory_fails() {
    let checks = run_cases();
    let table = verify::format_table(&checks);
    let failed: Vec<&Check> = checks.iter().filter(|c| !c.passed()).collect();
    assert!(failed.is_empty(), "failed checks:\n{table}");
    // Every case is there (1 to 8).
    for case in 1..=8 {
        let prefix = format!("{case} ");
        assert!(
            checks.iter().any(|c| c.case.starts_with(&prefix)),
            "case {case} missing:\n{table}"
        );
    }
    // The rule checks were exercised, not vacuous.
    for c in &checks {
        if let Outcome::Rule { checked, .. } = c.outcome {
            assert!(checked > 0, "{} checked nothing", c.quantity);
        }
    }

    // Sensitivity: the PRU's loss share from three cars is told apart from
    // the answer for two cars or for a 10% longer visit.
    let Outcome::Mean { summary, .. } = &checks[0].outcome else {
        panic!("case 1 is a mean check");
    };
    for wrong in [theory::erlang_b(2, 2.5), theory::erlang_b(3, 2.75)] {
        let check = Check {
            case: "1".into(),
            quantity: "wrong theory".into(),
            outcome: Outcome::Mean {
                theory: wrong,
                summary: *summary,
            },
        };
        assert!(!check.passed(), "{wrong} should be rejected");
    }
}
