//! A regular grid of intervals (`step_s` seconds from `start_s`); an
//! interval without a value is a gap: closed hours, weekends, holidays,
//! or data that is missing. Models and metrics skip gaps; nothing treats
//! a gap as zero calls.

use crate::ForecastError;

/// Values on a regular interval grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The first interval (Unix seconds).
    pub start_s: i64,
    /// Interval length, seconds.
    pub step_s: i64,
    /// One value per interval; `None` is a gap.
    pub values: Vec<Option<f64>>,
}

/// Seconds in a week.
pub const WEEK_S: i64 = 7 * 86_400;

impl Series {
    /// The grid from the earliest to the latest point; points in the same
    /// interval are summed, intervals without a point are gaps. Every
    /// point must lie on the grid of `step_s` through the earliest one.
    pub fn from_points(points: &[(i64, f64)], step_s: i64) -> Result<Series, ForecastError> {
        if step_s <= 0 {
            return Err(ForecastError::Invalid(format!(
                "interval of {step_s} s: it must be positive"
            )));
        }
        let start = points
            .iter()
            .map(|p| p.0)
            .min()
            .ok_or_else(|| ForecastError::Invalid("no points".into()))?;
        let end = points.iter().map(|p| p.0).max().unwrap_or(start);
        let len = usize::try_from((end - start) / step_s + 1)
            .map_err(|_| ForecastError::Invalid("the series is too long".into()))?;
        let mut values = vec![None; len];
        for &(timestamp, value) in points {
            if (timestamp - start) % step_s != 0 {
                return Err(ForecastError::OffGrid {
                    timestamp,
                    step_s,
                    start,
                });
            }
            let slot = ((timestamp - start) / step_s) as usize;
            *values[slot].get_or_insert(0.0) += value;
        }
        Ok(Series {
            start_s: start,
            step_s,
            values,
        })
    }

    /// Intervals in a week.
    pub fn week(&self) -> usize {
        (WEEK_S / self.step_s) as usize
    }

    /// The first `len` intervals.
    pub fn head(&self, len: usize) -> Series {
        Series {
            start_s: self.start_s,
            step_s: self.step_s,
            values: self.values[..len.min(self.values.len())].to_vec(),
        }
    }

    /// The instant after the last interval (where a forecast starts).
    pub fn end_s(&self) -> i64 {
        self.start_s + self.step_s * self.values.len() as i64
    }

    /// Intervals that hold a value.
    pub fn present(&self) -> usize {
        self.values.iter().filter(|v| v.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_stay_gaps_and_off_grid_points_are_named() {
        let s =
            Series::from_points(&[(3600, 2.0), (0, 1.0), (3600, 3.0), (7200, 0.0)], 1800).unwrap();
        assert_eq!(s.values, vec![Some(1.0), None, Some(5.0), None, Some(0.0)]);
        assert_eq!(s.end_s(), 9000);
        assert_eq!(s.present(), 3);
        let err = Series::from_points(&[(0, 1.0), (900, 1.0)], 1800).unwrap_err();
        assert_eq!(
            err.to_string(),
            "900 is not on the 1800-second grid starting at 0"
        );
        assert!(Series::from_points(&[], 1800).is_err());
    }
}
