//! Writing to the terminal without panicking: `print!` and `eprintln!`
//! panic when the reader has gone (`patientflow run ... | head -3`); these
//! write what they can and ignore a closed pipe, so the exit code stays
//! the run's.

/// As `print!`, ignoring a closed standard output.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// As `println!`, ignoring a closed standard output.
macro_rules! sayln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// As `eprintln!`, ignoring a closed standard error.
macro_rules! warnln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
