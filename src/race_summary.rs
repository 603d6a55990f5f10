//! The words and colours of a race: the PRM score's colour, compute in units a person
//! reads, and the one-line verdict when both columns finish. Pure Rust, tested natively.

use ponder_core::accounting::Compute;

/// A colour for a verifier score in [0, 1] on a scale that colour-blind readers can
/// order too (dark blue, teal, green, yellow: lightness rises with the score), as CSS.
/// The score is always shown as a number beside it as well.
pub fn score_colour(score: f32) -> String {
    // Stops sampled from a perceptually uniform blue-to-yellow ramp.
    const STOPS: [(f32, [f32; 3]); 5] = [
        (0.00, [68.0, 1.0, 84.0]),
        (0.25, [59.0, 82.0, 139.0]),
        (0.50, [33.0, 145.0, 140.0]),
        (0.75, [94.0, 201.0, 98.0]),
        (1.00, [253.0, 231.0, 37.0]),
    ];
    let s = if score.is_finite() {
        score.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let i = STOPS
        .iter()
        .rposition(|(at, _)| *at <= s)
        .unwrap_or(0)
        .min(3);
    let ((a, ca), (b, cb)) = (STOPS[i], STOPS[i + 1]);
    let t = (s - a) / (b - a);
    let mix = |k: usize| (ca[k] + (cb[k] - ca[k]) * t).round() as u8;
    format!("rgb({}, {}, {})", mix(0), mix(1), mix(2))
}

/// Whether text on [`score_colour`] should be dark (light backgrounds at high scores).
pub fn dark_text_on(score: f32) -> bool {
    score >= 0.6
}

/// A score as two decimals without the leading zero (`.71`, `1.0`).
pub fn short_score(score: f32) -> String {
    if score >= 0.995 {
        "1.0".into()
    } else {
        format!("{:.2}", score.max(0.0))
            .trim_start_matches('0')
            .to_string()
    }
}

/// A count with thousands separators: `1,288`.
pub fn grouped(n: i128) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// FLOPs with an SI prefix: `3.4 GFLOP`.
pub fn flops(value: f64) -> String {
    let units = [
        (1e15, "PFLOP"),
        (1e12, "TFLOP"),
        (1e9, "GFLOP"),
        (1e6, "MFLOP"),
        (1e3, "kFLOP"),
    ];
    for (scale, unit) in units {
        if value >= scale {
            return format!("{:.1} {unit}", value / scale);
        }
    }
    format!("{value:.0} FLOP")
}

/// One column's result, as the verdict reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnResult {
    /// The strategy's name as the page shows it.
    pub name: String,
    pub answer: Option<String>,
    pub compute: Compute,
}

/// The one line said when both columns finish.
pub fn verdict(left: &ColumnResult, right: &ColumnResult, truth: i64) -> String {
    let truth_text = truth.to_string();
    let right_of = |c: &ColumnResult| c.answer.as_deref() == Some(truth_text.as_str());
    let said = |c: &ColumnResult| match &c.answer {
        Some(a) => match a.parse::<i128>() {
            Ok(n) => grouped(n),
            Err(_) => a.clone(),
        },
        None => "no answer".to_string(),
    };
    let (fl, fr) = (left.compute.flops(), right.compute.flops());
    match (right_of(left), right_of(right)) {
        (true, true) => {
            let (cheaper, dearer, less, more) = if fl <= fr {
                (left, right, fl, fr)
            } else {
                (right, left, fr, fl)
            };
            if more <= 0.0 || (more - less) / more < 0.005 {
                "Both right, at the same FLOPs.".to_string()
            } else {
                format!(
                    "Both right; {} used {:.0}% fewer FLOPs than {}.",
                    cheaper.name,
                    (more - less) / more * 100.0,
                    dearer.name
                )
            }
        }
        (true, false) => format!(
            "Only {} found {}; {} said {}.",
            left.name,
            grouped(truth as i128),
            right.name,
            said(right)
        ),
        (false, true) => format!(
            "Only {} found {}; {} said {}.",
            right.name,
            grouped(truth as i128),
            left.name,
            said(left)
        ),
        (false, false) => format!(
            "Neither found {}: {} said {}, {} said {}.",
            grouped(truth as i128),
            left.name,
            said(left),
            right.name,
            said(right)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, answer: Option<&str>, tokens: u64) -> ColumnResult {
        ColumnResult {
            name: name.into(),
            answer: answer.map(str::to_string),
            compute: Compute {
                policy_tokens: tokens,
                policy_parameters: 1_000_000,
                ..Compute::default()
            },
        }
    }

    #[test]
    fn verdicts_read_as_a_person_would_say_them() {
        let bon = result("best-of-N", Some("1288"), 1000);
        let rev = result("revisions", Some("1288"), 700);
        assert_eq!(
            verdict(&bon, &rev, 1288),
            "Both right; revisions used 30% fewer FLOPs than best-of-N."
        );
        let rev_wrong = result("revisions", Some("1280"), 700);
        assert_eq!(
            verdict(&bon, &rev_wrong, 1288),
            "Only best-of-N found 1,288; revisions said 1,280."
        );
        let none = result("revisions", None, 700);
        assert_eq!(
            verdict(&rev_wrong, &none, 1288),
            "Neither found 1,288: revisions said 1,280, revisions said no answer."
        );
        assert_eq!(verdict(&bon, &bon, 1288), "Both right, at the same FLOPs.");
    }

    #[test]
    fn numbers_read_plainly() {
        assert_eq!(grouped(1288), "1,288");
        assert_eq!(grouped(-1_234_567), "-1,234,567");
        assert_eq!(grouped(12), "12");
        assert_eq!(flops(3.4e9), "3.4 GFLOP");
        assert_eq!(flops(12.0), "12 FLOP");
        assert_eq!(short_score(0.714), ".71");
        assert_eq!(short_score(1.0), "1.0");
    }

    #[test]
    fn the_colour_scale_rises_in_lightness() {
        assert_eq!(score_colour(0.0), "rgb(68, 1, 84)");
        assert_eq!(score_colour(1.0), "rgb(253, 231, 37)");
        assert_eq!(score_colour(f32::NAN), score_colour(0.0));
        let lightness = |s: f32| {
            let c = score_colour(s);
            let parts: Vec<f32> = c
                .trim_start_matches("rgb(")
                .trim_end_matches(')')
                .split(", ")
                .map(|x| x.parse().unwrap())
                .collect();
            0.2126 * parts[0] + 0.7152 * parts[1] + 0.0722 * parts[2]
        };
        let mut last = -1.0;
        for i in 0..=20 {
            let l = lightness(i as f32 / 20.0);
            assert!(l > last, "lightness falls at {i}/20");
            last = l;
        }
    }
}
