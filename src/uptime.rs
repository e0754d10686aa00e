//! The uptime arithmetic of the chapter's first section: how much downtime an availability
//! allows per year, month, week and day, and what components in series or in parallel add up to.
//! A year is 365.25 days (so 99.9 % is the chapter's 8.77 hours); a month is a twelfth of it.
//!
//! Pure functions; must not print (the `uptime` command renders).

use serde::{Deserialize, Serialize};

/// How several components combine.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Compose {
    /// Every component is needed: availabilities multiply.
    Serial,
    /// Any one is enough: unavailabilities multiply.
    Parallel,
}

/// What a question asks for.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Quantity {
    Downtime,
    Availability,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Year,
    Month,
    Week,
    Day,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Days,
    Hours,
    Minutes,
    Seconds,
}

pub(crate) const PERIODS: [Period; 4] = [Period::Year, Period::Month, Period::Week, Period::Day];

impl Period {
    pub fn seconds(self) -> f64 {
        const DAY: f64 = 86_400.0;
        match self {
            Period::Year => 365.25 * DAY,
            Period::Month => 365.25 * DAY / 12.0,
            Period::Week => 7.0 * DAY,
            Period::Day => DAY,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Period::Year => "year",
            Period::Month => "month",
            Period::Week => "week",
            Period::Day => "day",
        }
    }
}

impl Unit {
    pub fn seconds(self) -> f64 {
        match self {
            Unit::Days => 86_400.0,
            Unit::Hours => 3_600.0,
            Unit::Minutes => 60.0,
            Unit::Seconds => 1.0,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Unit::Days => "days",
            Unit::Hours => "hours",
            Unit::Minutes => "minutes",
            Unit::Seconds => "seconds",
        }
    }
}

/// Availabilities (percent) combined, in percent.
pub(crate) fn combine(availabilities: &[f64], how: Compose) -> f64 {
    let fractions = availabilities.iter().map(|a| a / 100.0);
    let f = match how {
        Compose::Serial => fractions.product::<f64>(),
        Compose::Parallel => 1.0 - fractions.map(|a| 1.0 - a).product::<f64>(),
    };
    f * 100.0
}

/// Downtime allowed per `period` at `availability` percent, in seconds.
pub(crate) fn downtime_seconds(availability: f64, period: Period) -> f64 {
    (1.0 - availability / 100.0) * period.seconds()
}

/// An availability in percent, or an explanation of why it is not one.
pub(crate) fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    // `f64::from_str` takes `nan`, `inf` and `1e309` (infinity): none of them is an availability.
    if v.is_nan() {
        return Err(format!("`{s}` is not a number"));
    }
    if v.is_infinite() {
        return Err(format!(
            "`{s}` is not a percentage between 0 and 100 (it is too large to be a number at all)"
        ));
    }
    if (0.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not a percentage between 0 and 100"))
    }
}

/// A duration as people say it: "8h 45m 58s", "43m 50s", "1m 26.4s", "3.65 days" style.
pub(crate) fn human(seconds: f64) -> String {
    if seconds < 60.0 {
        return format!("{}s", trim_float(seconds, 2));
    }
    let total = seconds.round() as u64;
    let (d, h, m, s) = (
        total / 86_400,
        total % 86_400 / 3_600,
        total % 3_600 / 60,
        total % 60,
    );
    let parts: Vec<String> = [(d, "d"), (h, "h"), (m, "m"), (s, "s")]
        .iter()
        .skip_while(|(v, _)| *v == 0)
        .map(|(v, u)| format!("{v}{u}"))
        .collect();
    parts.join(" ")
}

/// The largest unit in which `seconds` is at least 1, with three significant figures,
/// as the chapter writes them: "3.65 days", "8.77 hours", "52.6 minutes".
pub(crate) fn chapter_style(seconds: f64) -> String {
    let unit = [Unit::Days, Unit::Hours, Unit::Minutes, Unit::Seconds]
        .into_iter()
        .find(|u| seconds >= u.seconds())
        .unwrap_or(Unit::Seconds);
    format!("{} {}", sig3(seconds / unit.seconds()), unit.name())
}

/// Three significant figures, without trailing zeros.
pub(crate) fn sig3(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    trim_float(v, digits)
}

fn trim_float(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chapters_three_figures_to_its_precision() {
        assert_eq!(
            chapter_style(downtime_seconds(99.0, Period::Year)),
            "3.65 days"
        );
        assert_eq!(
            chapter_style(downtime_seconds(99.9, Period::Year)),
            "8.77 hours"
        );
        assert_eq!(
            chapter_style(downtime_seconds(99.99, Period::Year)),
            "52.6 minutes"
        );
    }

    #[test]
    fn composition() {
        assert!((combine(&[99.9, 99.9], Compose::Serial) - 99.8001).abs() < 1e-9);
        assert!((combine(&[99.0, 99.0], Compose::Parallel) - 99.99).abs() < 1e-9);
        assert!((combine(&[99.95], Compose::Serial) - 99.95).abs() < 1e-9);
    }

    #[test]
    fn periods_and_rendering() {
        assert_eq!(human(downtime_seconds(99.9, Period::Year)), "8h 45m 58s");
        assert_eq!(human(downtime_seconds(99.9, Period::Day)), "1m 26s");
        assert_eq!(human(downtime_seconds(99.99, Period::Day)), "8.64s");
        assert_eq!(sig3(4.383), "4.38");
        assert_eq!(sig3(43.83), "43.8");
        assert_eq!(sig3(525.96), "526");
    }

    #[test]
    fn percent_parsing() {
        assert_eq!(parse_percent("99.9%"), Ok(99.9));
        assert!(parse_percent("101").is_err());
        assert!(parse_percent("abc").is_err());
        for s in ["1e309", "-1e309", "inf", "nan", "NaN%"] {
            let e = parse_percent(s).unwrap_err();
            assert!(e.contains(&format!("`{s}`")), "{e}");
            assert!(!e.contains("inf "), "{e}");
        }
    }
}
