//! `report.html` in a real browser: headless Chromium loads it without
//! errors, fetches nothing, and lays every chart out at a non-zero size.
//!
//! The shipped report has no scripts, so the measuring script is added to a
//! copy in the test's temporary directory only. Both tests need headless
//! Chromium, so they are marked ignored: `cargo test --release` lists them
//! as ignored, and `.ci/run` installs Debian's `chromium` and runs them with
//! `cargo test --release --test report_browser -- --ignored`. Run without
//! Chromium, they fail with a message saying how to install it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

mod common;
use common::{baseline, root, succeed};

/// Chromium, from `PATIENTFLOW_CHROMIUM` or the distribution's path.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATIENTFLOW_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    path.is_file().then_some(path)
}

/// Headless Chromium with everything that might reach the network off.
fn headless(browser: &Path, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--window-size=1000,1400",
        "--virtual-time-budget=5000",
    ]);
    c.arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Records, into the DOM, the laid-out size of every chart, any script
/// error, and how many resources the page fetched.
const PROBE: &str = r#"<script>
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); }, true);
window.addEventListener('load', function () {
  var out = [];
  document.querySelectorAll('svg.chart').forEach(function (s) {
    var r = s.getBoundingClientRect();
    out.push(Math.round(r.width) + 'x' + Math.round(r.height));
  });
  var p = document.createElement('pre');
  p.id = 'probe';
  p.textContent = 'charts=' + out.join(',') + ';errors=' + window.__errors.length +
    ';resources=' + performance.getEntriesByType('resource').length + ';';
  document.body.appendChild(p);
});
</script>
"#;

/// Loads a copy of `report` with the probe in headless Chromium and checks
/// the DOM has `title`, no script error and no fetch; returns the laid-out
/// size of every chart and the probe's text.
fn probe_page(
    browser: &Path,
    work: &Path,
    report: &Path,
    title: &str,
) -> (Vec<(f64, f64)>, String) {
    let html = fs::read_to_string(report).expect("report.html");
    let probed = work.join("probed.html");
    fs::write(
        &probed,
        html.replacen("</body>", &format!("{PROBE}</body>"), 1),
    )
    .expect("write");

    let profile = work.join("profile");
    let page = format!("file://{}", probed.display());
    let dom = succeed(headless(browser, &profile).arg("--dump-dom").arg(page));
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    assert!(
        dom.contains(title),
        "no {title} in the DOM ({} bytes)",
        dom.len()
    );
    let probe = dom
        .split("<pre id=\"probe\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| {
            panic!(
                "the probe did not run; DOM starts {:?}",
                &dom[..dom.len().min(300)]
            )
        });
    assert!(probe.contains("errors=0;"), "script errors: {probe}");
    assert!(
        probe.contains("resources=0;"),
        "the page fetched something: {probe}"
    );
    let sizes: Vec<(f64, f64)> = probe
        .trim_start_matches("charts=")
        .split(';')
        .next()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let (w, h) = s.split_once('x').expect("WxH");
            (w.parse().expect("width"), h.parse().expect("height"))
        })
        .collect();
    (sizes, probe.to_string())
}

/// Chromium, or `None` after saying the test `name` is skipped; under CI a
/// missing browser is a failure.
fn browser() -> PathBuf {
    chromium().unwrap_or_else(|| {
        panic!(
            "Chromium not found at /usr/bin/chromium: install it with `apt-get install chromium` \
             (as .ci/run does), or set PATIENTFLOW_CHROMIUM to its path"
        )
    })
}

/// Runs `patientflow` with `args` and 3 replications into `out`, which
/// must succeed.
fn run_ok(args: &[&str], out: &Path) {
    common::run_ok(&[args, &["--replications", "3"]].concat(), out);
}

/// `report` loads with `title`, no script error and no fetch, and lays out
/// `charts` charts, each larger than 300 x 150.
fn check_charts_laid_out(browser: &Path, work: &Path, report: &Path, title: &str, charts: usize) {
    let (sizes, probe) = probe_page(browser, work, report, title);
    assert_eq!(sizes.len(), charts, "{probe}");
    for (w, h) in &sizes {
        assert!(
            *w > 300.0 && *h > 150.0,
            "a chart is laid out at {w}x{h}: {probe}"
        );
    }
}

/// Runs `args` into `tmp/out` and checks its report in Chromium with
/// [`check_charts_laid_out`]; Chromium, the folder and `out`.
fn report_in_chromium(args: &[&str], title: &str, charts: usize) -> (PathBuf, TempDir, PathBuf) {
    let browser = browser();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("out");
    run_ok(args, &dir);
    let report = dir.join("report.html");
    check_charts_laid_out(&browser, tmp.path(), &report, title, charts);
    (browser, tmp, dir)
}

#[test]
#[ignore = "needs headless Chromium: .ci/run installs it and runs this with --ignored"]
fn the_report_loads_in_chromium_with_charts_laid_out() {
    let (browser, tmp, dir) = report_in_chromium(
        &["run", &baseline()],
        "<title>Tower Hamlets baseline: patient flow report</title>",
        // Four charts, and two of mental health (the baseline has it).
        6,
    );

    // The real page (no probe) renders to a screenshot.
    let shot = tmp.path().join("report.png");
    succeed(
        headless(&browser, &tmp.path().join("profile"))
            .arg(format!("--screenshot={}", shot.display()))
            .arg(format!("file://{}", dir.join("report.html").display())),
    );
    let png = fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
}

#[test]
#[ignore = "needs headless Chromium: .ci/run installs it and runs this with --ignored"]
fn the_comparison_report_loads_in_chromium_with_charts_laid_out() {
    let plan = root().join("scenarios/plans/second-pru-car.toml");
    let plan = plan.to_str().expect("utf8");
    report_in_chromium(
        &[
            "compare",
            &baseline(),
            plan,
            "--set",
            "scenario.horizon=60d",
        ],
        "<title>Comparison of capacity plans against Tower Hamlets baseline</title>",
        // The three forest plots.
        3,
    );
}
