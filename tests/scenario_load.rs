use patientflow::scenario::*;
use std::path::Path;

#[test]
fn smoke() {
    for f in ["full.toml", "minimal.toml", "chain/plan.toml", "cycle/a.toml", "extends-missing.toml"] {
        let p = Path::new("tests/data/scenarios").join(f);
        match load(&p, &[]) {
            Ok(l) => println!("{}\n{:?}\n", l.resolved_toml, l.files),
            Err(e) => println!("{e}\n{e:?}\n"),
        }
    }
    let p = Path::new("tests/data/scenarios/minimal.toml");
    for s in ["pru.cars=-1", "pru.carz=1", "acute.los.frail.mean=12d", "pru.open=08:00-22:00", "acute.los.frail={ dist = \"fixed\", mean = 3 }", "pru.cars.x=1", "nokey"] {
        match load(p, &[s.to_string()]) {
            Ok(_) => println!("ok {s}"),
            Err(e) => println!("{e}\n"),
        }
    }
    panic!();
}
