//! Average handle time ahead. Handle time moves slowly and by time of day
//! (short calls at opening, longer ones in the afternoon), and an
//! interval's AHT is noisy where few calls were answered, so each future
//! interval takes the mean of the same interval over the last four weeks
//! it was answered in, weighted by the calls answered (total handle time
//! ÷ calls, not a mean of means). An interval never answered in those
//! weeks takes the weighted mean of the whole last four weeks.

use crate::Series;

/// Weeks averaged per interval, and how far back to look for them.
const WEEKS: usize = 4;
const LOOK_BACK: usize = 8;

/// AHT (seconds) for the `horizon` intervals after `aht`'s end. `aht` and
/// `answered` are the same grid: each interval's AHT and the calls
/// answered in it. `None` only when the history holds no answered call.
pub fn forecast_aht(aht: &Series, answered: &Series, horizon: usize) -> Vec<Option<f64>> {
    let week = aht.week();
    let n = aht.values.len().min(answered.values.len());
    let weighted = |slot: usize| -> Option<(f64, f64)> {
        let calls = answered.values.get(slot).copied().flatten()?;
        let seconds = aht.values.get(slot).copied().flatten()?;
        (calls > 0.0 && seconds.is_finite()).then_some((seconds * calls, calls))
    };
    let recent_start = n.saturating_sub(WEEKS * week);
    let (time, calls) = (recent_start..n)
        .filter_map(weighted)
        .fold((0.0, 0.0), |(t, c), (dt, dc)| (t + dt, c + dc));
    let overall = (calls > 0.0).then(|| time / calls);
    (n..n + horizon)
        .map(|slot| {
            let mut taken = 0;
            let (mut time, mut calls) = (0.0, 0.0);
            for k in 1..=LOOK_BACK {
                let Some(back) = slot.checked_sub(k * week).filter(|b| *b < n) else {
                    continue;
                };
                if let Some((t, c)) = weighted(back) {
                    time += t;
                    calls += c;
                    taken += 1;
                    if taken == WEEKS {
                        break;
                    }
                }
            }
            if calls > 0.0 {
                Some(time / calls)
            } else {
                overall
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::WEEK_S;

    fn series(values: &[Option<f64>]) -> Series {
        Series {
            start_s: 0,
            step_s: WEEK_S / 2,
            values: values.to_vec(),
        }
    }

    #[test]
    fn weighted_by_calls_answered_with_the_recent_mean_as_fallback() {
        // Two-interval weeks. Slot 0: AHT 100 s over 1 call, then 200 s
        // over 3 calls → (100 + 600) / 4 = 175. Slot 1 never answered.
        let aht = series(&[Some(100.0), None, Some(200.0), None]);
        let answered = series(&[Some(1.0), Some(0.0), Some(3.0), Some(0.0)]);
        let ahead = forecast_aht(&aht, &answered, 4);
        assert_eq!(
            ahead,
            vec![Some(175.0), Some(175.0), Some(175.0), Some(175.0)]
        );
        // A slot with its own history keeps it.
        let aht = series(&[Some(100.0), Some(300.0)]);
        let answered = series(&[Some(2.0), Some(2.0)]);
        assert_eq!(
            forecast_aht(&aht, &answered, 2),
            vec![Some(100.0), Some(300.0)]
        );
        // Nothing answered: nothing known.
        let none = series(&[None, None]);
        assert_eq!(forecast_aht(&none, &none, 1), vec![None]);
    }
}
