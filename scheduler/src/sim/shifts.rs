//! Local-time arithmetic: which hour and weekday an instant falls on, the
//! demand weight at an instant, and when a weekly shift next starts.

use super::config::{DemandShape, Shift};
use super::event::Millis;

const MINUTE: Millis = 60_000;
const HOUR: Millis = 3_600_000;
const DAY: Millis = 86_400_000;

fn local(t: Millis, utc_offset_min: i32) -> Millis {
    t + Millis::from(utc_offset_min) * MINUTE
}

/// Monday = 0 … Sunday = 6 for a local day number (days since 1970-01-01,
/// a Thursday).
fn weekday(local_day: i64) -> usize {
    (local_day + 3).rem_euclid(7) as usize
}

/// The local hour (0..23) at `t`.
pub fn local_hour(t: Millis, utc_offset_min: i32) -> u32 {
    (local(t, utc_offset_min).rem_euclid(DAY) / HOUR) as u32
}

/// The shape's demand multiplier at `t`: hourly weights interpolated
/// linearly between the middles of the hours, times the day's weight.
pub fn demand_weight(shape: &DemandShape, t: Millis, utc_offset_min: i32) -> f64 {
    let lt = local(t, utc_offset_min);
    let hours = lt.rem_euclid(DAY) as f64 / HOUR as f64 - 0.5;
    let base = hours.floor();
    let frac = hours - base;
    let h0 = (base as i64).rem_euclid(24) as usize;
    let h1 = (h0 + 1) % 24;
    let hourly = shape.hourly[h0] * (1.0 - frac) + shape.hourly[h1] * frac;
    hourly * shape.daily[weekday(lt.div_euclid(DAY))]
}

/// Start of the shift occurrence that contains `t`, or else of the next one.
pub fn current_or_next(shift: &Shift, t: Millis, utc_offset_min: i32) -> Millis {
    let day = local(t, utc_offset_min).div_euclid(DAY);
    for d in [day - 1, day] {
        if let Some(start) = occurrence(shift, d, utc_offset_min) {
            let end = start + Millis::from(shift.length_min) * MINUTE;
            if start <= t && t < end {
                return start;
            }
        }
    }
    next_start(shift, t, utc_offset_min)
}

/// Start of the first shift occurrence at or after `t`; `Millis::MAX` for a
/// shift with no working day.
pub fn next_start(shift: &Shift, t: Millis, utc_offset_min: i32) -> Millis {
    let day = local(t, utc_offset_min).div_euclid(DAY);
    (day..day + 8)
        .filter_map(|d| occurrence(shift, d, utc_offset_min))
        .find(|start| *start >= t)
        .unwrap_or(Millis::MAX)
}

/// The UTC instant the shift starts on local day `d`, if it works that day.
fn occurrence(shift: &Shift, d: i64, utc_offset_min: i32) -> Option<Millis> {
    shift.days[weekday(d)].then(|| {
        d * DAY + Millis::from(shift.start_min) * MINUTE - Millis::from(utc_offset_min) * MINUTE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-03-04 00:00 UTC, a Monday.
    const MONDAY: Millis = 1_709_510_400_000;

    fn nine_to_five(days: [bool; 7]) -> Shift {
        Shift {
            start_min: 9 * 60,
            length_min: 8 * 60,
            days,
            breaks: Vec::new(),
        }
    }

    #[test]
    fn hours_and_weekdays_in_local_time() {
        assert_eq!(weekday(MONDAY / DAY), 0);
        assert_eq!(local_hour(MONDAY + 9 * HOUR, 0), 9);
        // UTC+2: 09:00 UTC is 11:00 local; UTC−5: 04:00 local.
        assert_eq!(local_hour(MONDAY + 9 * HOUR, 120), 11);
        assert_eq!(local_hour(MONDAY + 9 * HOUR, -300), 4);
    }

    #[test]
    fn demand_interpolates_between_hour_middles() {
        let mut shape = DemandShape::flat();
        shape.hourly[9] = 3.0;
        shape.daily[0] = 2.0;
        // 09:30 is the middle of hour 9: its full weight, times Monday's.
        assert_eq!(
            demand_weight(&shape, MONDAY + 9 * HOUR + 30 * MINUTE, 0),
            6.0
        );
        // 09:00 lies halfway between the middles of hours 8 and 9.
        assert_eq!(demand_weight(&shape, MONDAY + 9 * HOUR, 0), 4.0);
        // Tuesday has weight 1.
        assert_eq!(
            demand_weight(&shape, MONDAY + DAY + 9 * HOUR + 30 * MINUTE, 0),
            3.0
        );
    }

    #[test]
    fn shifts_start_on_working_days_only() {
        let weekdays = [true, true, true, true, true, false, false];
        let shift = nine_to_five(weekdays);
        assert_eq!(next_start(&shift, MONDAY, 0), MONDAY + 9 * HOUR);
        // Friday evening → next Monday 09:00.
        let friday_evening = MONDAY + 4 * DAY + 18 * HOUR;
        assert_eq!(
            next_start(&shift, friday_evening, 0),
            MONDAY + 7 * DAY + 9 * HOUR
        );
        // Mid-shift, the current occurrence counts.
        assert_eq!(
            current_or_next(&shift, MONDAY + 12 * HOUR, 0),
            MONDAY + 9 * HOUR
        );
        // UTC+1: local 09:00 is 08:00 UTC.
        assert_eq!(next_start(&shift, MONDAY, 60), MONDAY + 8 * HOUR);
        assert_eq!(
            next_start(&nine_to_five([false; 7]), MONDAY, 0),
            Millis::MAX
        );
    }

    #[test]
    fn a_night_shift_spans_midnight() {
        let night = Shift {
            start_min: 22 * 60,
            length_min: 8 * 60,
            days: [true; 7],
            breaks: Vec::new(),
        };
        // Tuesday 03:00 lies in Monday's night shift.
        let tuesday_3am = MONDAY + DAY + 3 * HOUR;
        assert_eq!(current_or_next(&night, tuesday_3am, 0), MONDAY + 22 * HOUR);
    }
}
