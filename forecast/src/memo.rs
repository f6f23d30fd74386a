//! A model that remembers its last forecasts, so candidates that share a
//! member (MSTL + AutoETS alone and inside a combination) fit it once per
//! history. A forecast is keyed by the history's grid and a hash of its
//! values, so different series never share an entry.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use crate::{Forecast, Model, Series};

/// Entries kept (a choice needs one per backtest origin, plus the final).
const CAPACITY: usize = 16;

type Key = (i64, i64, usize, usize, u64);

/// `model` with a small cache of its forecasts; clones share the cache.
#[derive(Clone)]
pub struct Memo {
    model: Arc<dyn Model>,
    cache: Arc<Mutex<Vec<(Key, Forecast)>>>,
}

impl Memo {
    /// Wraps `model`.
    pub fn new(model: impl Model + 'static) -> Self {
        Memo {
            model: Arc::new(model),
            cache: Arc::default(),
        }
    }
}

fn key(history: &Series, horizon: usize) -> Key {
    let mut hasher = DefaultHasher::new();
    for value in &history.values {
        value.map(f64::to_bits).hash(&mut hasher);
    }
    (
        history.start_s,
        history.step_s,
        history.values.len(),
        horizon,
        hasher.finish(),
    )
}

impl Model for Memo {
    fn name(&self) -> &str {
        self.model.name()
    }

    fn forecast(&self, history: &Series, horizon: usize) -> Forecast {
        let key = key(history, horizon);
        let cached = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, f)| f.clone())
        };
        if let Some(forecast) = cached {
            return forecast;
        }
        let forecast = self.model.forecast(history, horizon);
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CAPACITY {
            cache.remove(0);
        }
        cache.push((key, forecast.clone()));
        forecast
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(Arc<AtomicUsize>);

    impl Model for Counting {
        fn name(&self) -> &str {
            "counting"
        }
        fn forecast(&self, history: &Series, horizon: usize) -> Forecast {
            self.0.fetch_add(1, Ordering::SeqCst);
            let last = history.values.last().copied().flatten();
            Forecast {
                mean: vec![last; horizon],
                ..Forecast::gaps(history, horizon)
            }
        }
    }

    #[test]
    fn a_history_is_fitted_once_and_other_series_are_not_confused() {
        let fits = Arc::new(AtomicUsize::new(0));
        let memo = Memo::new(Counting(fits.clone()));
        let shared = memo.clone();
        let a = Series {
            start_s: 0,
            step_s: 60,
            values: vec![Some(1.0), Some(2.0)],
        };
        let b = Series {
            values: vec![Some(1.0), Some(3.0)],
            ..a.clone()
        };
        assert_eq!(memo.forecast(&a, 1).mean, vec![Some(2.0)]);
        assert_eq!(shared.forecast(&a, 1).mean, vec![Some(2.0)]);
        assert_eq!(fits.load(Ordering::SeqCst), 1);
        // Same grid, other values: fitted anew.
        assert_eq!(shared.forecast(&b, 1).mean, vec![Some(3.0)]);
        assert_eq!(fits.load(Ordering::SeqCst), 2);
        assert_eq!(memo.name(), "counting");
    }
}
