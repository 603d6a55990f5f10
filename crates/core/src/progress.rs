//! How long a job has run and how long it has left, said the same way by every progress
//! line of the command-line tool and the trainer.
//!
//! The time left is extrapolated at the rate so far, so it is only as good as the units of
//! work are even; `sweep` and `figures` weigh theirs (a hard problem counts for more than
//! an easy one).
//! Times come in as seconds, not `Instant`s: this crate also runs in the browser, where
//! `std::time::Instant` is not available.

/// The seconds left when `elapsed` seconds have gone into `done` of `total` units of work,
/// at the rate so far. `None` before any work is done: there is no rate yet.
pub fn time_left(elapsed: f64, done: u64, total: u64) -> Option<f64> {
    if done == 0 {
        return None;
    }
    Some(elapsed / done as f64 * total.saturating_sub(done) as f64)
}

/// A duration as a person reads it: whole seconds under two minutes, whole minutes under
/// two hours, then hours and minutes.
pub fn duration(seconds: f64) -> String {
    let seconds = seconds.max(0.0).round() as u64;
    if seconds < 120 {
        format!("{seconds} s")
    } else if seconds < 7200 {
        format!("{} min", (seconds + 30) / 60)
    } else {
        let minutes = (seconds + 30) / 60;
        format!("{} h {} min", minutes / 60, minutes % 60)
    }
}

/// `"75 s elapsed, about 3 min left"`, or `"… elapsed, estimating"` before any work is
/// done.
pub fn timing(elapsed: f64, done: u64, total: u64) -> String {
    match time_left(elapsed, done, total) {
        Some(left) => format!(
            "{} elapsed, about {} left",
            duration(elapsed),
            duration(left)
        ),
        None => format!("{} elapsed, estimating", duration(elapsed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_extrapolates_the_rate_so_far() {
        assert_eq!(time_left(10.0, 0, 5), None);
        assert_eq!(time_left(10.0, 1, 5), Some(40.0));
        assert_eq!(time_left(30.0, 3, 4), Some(10.0));
        assert_eq!(time_left(30.0, 4, 4), Some(0.0));
        // More work reported than planned (a caller's estimate was low): nothing is left,
        // rather than a negative time.
        assert_eq!(time_left(30.0, 6, 4), Some(0.0));
    }

    #[test]
    fn durations_pick_a_unit_a_person_reads_at_a_glance() {
        assert_eq!(duration(0.4), "0 s");
        assert_eq!(duration(-3.0), "0 s");
        assert_eq!(duration(59.6), "60 s");
        assert_eq!(duration(119.0), "119 s");
        assert_eq!(duration(120.0), "2 min");
        assert_eq!(duration(149.0), "2 min");
        assert_eq!(duration(150.0), "3 min");
        assert_eq!(duration(7199.0), "120 min");
        assert_eq!(duration(7200.0), "2 h 0 min");
        assert_eq!(duration(9000.0), "2 h 30 min");
    }

    #[test]
    fn timing_says_estimating_until_there_is_a_rate() {
        assert_eq!(timing(5.0, 0, 10), "5 s elapsed, estimating");
        assert_eq!(timing(200.0, 2, 10), "3 min elapsed, about 13 min left");
    }
}
