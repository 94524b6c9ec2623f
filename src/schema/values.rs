//! Parsers for the contract's scalar types: ISO dates and date-times, booleans, numbers,
//! integers and `;`-separated lists. Each takes a trimmed, non-empty cell and returns `None`
//! when the cell is not of the type, so the caller can name the rule that was broken.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// Reads `d` ASCII digits as a number.
fn digits(bytes: &[u8]) -> Option<u32> {
    let mut value = 0u32;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
    }
    Some(value)
}

/// ISO calendar date `YYYY-MM-DD`; impossible dates (2023-02-29) are rejected.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

/// ISO local date-time `YYYY-MM-DDTHH:MM`, also with seconds (`:SS`, optionally fractional)
/// and with a space instead of `T` (how Parquet date-times print).
pub fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 16 || (b[10] != b'T' && b[10] != b' ') || b[13] != b':' {
        return None;
    }
    let date = parse_date(&text[..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let mut second = 0;
    let mut nanos = 0;
    let rest = &b[16..];
    if !rest.is_empty() {
        if rest.len() < 3 || rest[0] != b':' {
            return None;
        }
        second = digits(&rest[1..3])?;
        let fraction = &rest[3..];
        if !fraction.is_empty() {
            if fraction[0] != b'.' || fraction.len() == 1 || fraction.len() > 10 {
                return None;
            }
            let frac_digits = &fraction[1..];
            nanos = digits(frac_digits)? * 10u32.pow(9 - frac_digits.len() as u32);
        }
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    Some(NaiveDateTime::new(date, time))
}

/// Boolean: true/false, yes/no, 1/0, case-insensitive.
pub fn parse_bool(text: &str) -> Option<bool> {
    const TRUE: [&str; 3] = ["true", "yes", "1"];
    const FALSE: [&str; 3] = ["false", "no", "0"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(text)) {
        Some(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(text)) {
        Some(false)
    } else {
        None
    }
}

/// A finite decimal number (`2.45`, `-1`, `1e3`); `NaN` and infinities are not numbers here.
pub fn parse_number(text: &str) -> Option<f64> {
    // Rust's float parser accepts "inf"/"nan": a registry value never means that.
    let value: f64 = text.parse().ok()?;
    value.is_finite().then_some(value)
}

/// A whole number; `65.0` (how a float column prints) counts, `65.5` does not.
pub fn parse_integer(text: &str) -> Option<i64> {
    if let Ok(v) = text.parse::<i64>() {
        return Some(v);
    }
    let v = parse_number(text)?;
    whole(v).then_some(v as i64)
}

/// Whether a float stands for a whole number: no fraction, and small enough (|v| < 9e15) to
/// be exact as an integer.
pub fn whole(v: f64) -> bool {
    v.fract() == 0.0 && v.abs() < 9.0e15
}

/// Splits a `;`-separated list into its trimmed, non-empty items.
pub fn list_items(text: &str) -> impl Iterator<Item = &str> {
    text.split(';').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_the_calendar() {
        assert_eq!(
            parse_date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2023-13-01"), None);
        assert_eq!(parse_date("2023-1-01"), None);
        assert_eq!(parse_date("01/02/2023"), None);
        assert_eq!(parse_date("2023-01-0x"), None);
    }

    #[test]
    fn datetimes_accept_minutes_seconds_and_fractions() {
        let dt = |s| parse_datetime(s).map(|d| d.to_string());
        assert_eq!(dt("2024-03-01T08:59"), Some("2024-03-01 08:59:00".into()));
        assert_eq!(
            dt("2024-03-01 08:59:30"),
            Some("2024-03-01 08:59:30".into())
        );
        assert_eq!(
            dt("2024-03-01 08:59:30.250"),
            Some("2024-03-01 08:59:30.250".into())
        );
        assert_eq!(dt("2024-03-01T24:00"), None);
        assert_eq!(dt("2024-03-01T08:5"), None);
        assert_eq!(dt("2024-03-01T08:59:"), None);
        assert_eq!(dt("2024-03-01"), None);
    }

    #[test]
    fn booleans_numbers_integers() {
        assert_eq!(parse_bool("YES"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("y"), None);
        assert_eq!(parse_number("2.45"), Some(2.45));
        assert_eq!(parse_number("1e3"), Some(1000.0));
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("2,45"), None);
        assert_eq!(parse_integer("65"), Some(65));
        assert_eq!(parse_integer("65.0"), Some(65));
        assert_eq!(parse_integer("65.5"), None);
        assert_eq!(parse_integer("sixty"), None);
    }

    #[test]
    fn list_items_are_trimmed() {
        let items: Vec<&str> = list_items(" femur ; pelvis;;").collect();
        assert_eq!(items, ["femur", "pelvis"]);
    }
}
