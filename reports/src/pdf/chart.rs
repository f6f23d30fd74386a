//! Charts drawn as plain operations: lines for series over the category
//! axis (intervals, days), horizontal bars for tables (agents, queues).
//! Axes start at zero and end at a round number; shares are labelled in
//! percent. Ops are relative to the chart's top-left corner.

use chrono_tz::Tz;

use super::fonts::{fit, width};
use super::layout::{INK, MUTED, Op, RULE, Rgb, text, text_right};
use crate::ReportError;
use crate::model::{Chart, ChartKind};
use crate::values::{self, Value, humanize};

/// Series colours, in order.
const PALETTE: [Rgb; 6] = [
    Rgb(0x25, 0x63, 0xeb),
    Rgb(0x16, 0xa3, 0x4a),
    Rgb(0xdc, 0x26, 0x26),
    Rgb(0xd9, 0x77, 0x06),
    Rgb(0x7c, 0x3a, 0xed),
    Rgb(0x0e, 0x74, 0x90),
];
/// Rows a bar chart shows at most.
const MAX_BARS: usize = 25;

/// The chart's operations and its height.
pub fn chart(
    spec: &Chart,
    query: &str,
    names: &[&str],
    columns: &[Vec<Value>],
    tz: Tz,
    w: f32,
) -> Result<(Vec<Op>, f32), ReportError> {
    let index = |column: &str| {
        names
            .iter()
            .position(|n| *n == column)
            .ok_or_else(|| ReportError::Chart {
                query: query.to_owned(),
                column: column.to_owned(),
            })
    };
    let category = index(&spec.category)?;
    let series = spec
        .series
        .iter()
        .map(|s| index(s))
        .collect::<Result<Vec<_>, _>>()?;
    let labels: Vec<String> = columns[category]
        .iter()
        .map(|v| values::display(v, names[category], tz))
        .collect();
    let data: Vec<(&str, Vec<Option<f64>>)> = series
        .iter()
        .map(|&c| (names[c], columns[c].iter().map(number).collect()))
        .collect();
    let ratio = data.iter().all(|(name, _)| values::is_ratio(name));
    Ok(match spec.kind {
        ChartKind::Line => line_chart(&labels, &data, ratio, w),
        ChartKind::Bar => bar_chart(&labels, &data, ratio, w),
    })
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(x) => Some(*x),
        _ => None,
    }
}

/// A round axis maximum at or above `max`, and its step for 5 gridlines.
pub fn nice_axis(max: f64) -> (f64, f64) {
    if max <= 0.0 || !max.is_finite() {
        return (1.0, 0.2);
    }
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    ((max / step).ceil() * step, step)
}

/// The gridline values: 0, step, … up to the axis maximum.
fn ticks(axis_max: f64, step: f64) -> impl Iterator<Item = f64> {
    let n = (axis_max / step + 1e-6).floor() as usize;
    (0..=n).map(move |i| i as f64 * step)
}

fn axis_label(value: f64, ratio: bool) -> String {
    if ratio {
        format!("{:.0} %", value * 100.0)
    } else if value.fract().abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

fn legend(ops: &mut Vec<Op>, data: &[(&str, Vec<Option<f64>>)], right: f32) {
    let mut x = right;
    for (i, (name, _)) in data.iter().enumerate().rev() {
        let label = humanize(name);
        x -= width(&label, 7.5, false) + 18.0;
        ops.push(Op::Rect {
            x,
            y: 2.0,
            w: 9.0,
            h: 6.0,
            color: PALETTE[i % PALETTE.len()],
        });
        ops.push(text(x + 12.0, 8.0, 7.5, false, MUTED, label));
    }
}

fn line_chart(
    labels: &[String],
    data: &[(&str, Vec<Option<f64>>)],
    ratio: bool,
    w: f32,
) -> (Vec<Op>, f32) {
    const H: f32 = 200.0;
    let (left, top, bottom) = (44.0, 18.0, H - 26.0);
    let right = w - 6.0;
    let max = data
        .iter()
        .flat_map(|(_, v)| v.iter().flatten())
        .fold(0.0f64, |m, x| m.max(*x));
    let (axis_max, step) = nice_axis(max);
    let mut ops = Vec::new();
    legend(&mut ops, data, right);
    let y_of = |v: f64| bottom - ((v / axis_max) as f32) * (bottom - top);
    for tick in ticks(axis_max, step) {
        let y = y_of(tick);
        ops.push(Op::Rect {
            x: left,
            y,
            w: right - left,
            h: 0.4,
            color: RULE,
        });
        ops.push(text_right(
            left - 4.0,
            y + 2.5,
            7.0,
            false,
            MUTED,
            &axis_label(tick, ratio),
        ));
    }
    let n = labels.len();
    let x_of = |i: usize| {
        if n <= 1 {
            (left + right) / 2.0
        } else {
            left + (right - left) * i as f32 / (n - 1) as f32
        }
    };
    let shown = n.clamp(1, 6);
    let mut last_right = f32::MIN;
    for k in 0..shown {
        let i = if shown == 1 {
            0
        } else {
            k * (n - 1) / (shown - 1)
        };
        let Some(label) = labels.get(i) else { continue };
        let lw = width(label, 7.0, false);
        let x = (x_of(i) - lw / 2.0).clamp(left - 10.0, right - lw);
        if x > last_right + 6.0 {
            ops.push(text(x, bottom + 12.0, 7.0, false, MUTED, label.clone()));
            last_right = x + lw;
        }
    }
    for (s, (_, values)) in data.iter().enumerate() {
        let color = PALETTE[s % PALETTE.len()];
        let mut run: Vec<(f32, f32)> = Vec::new();
        for (i, v) in values.iter().enumerate() {
            match v {
                Some(v) => run.push((x_of(i), y_of(*v))),
                None if run.is_empty() => {}
                None => ops.push(polyline(std::mem::take(&mut run), color)),
            }
        }
        if !run.is_empty() {
            ops.push(polyline(run, color));
        }
    }
    ops.push(Op::Rect {
        x: left,
        y: bottom,
        w: right - left,
        h: 0.8,
        color: MUTED,
    });
    (ops, H)
}

fn polyline(points: Vec<(f32, f32)>, color: Rgb) -> Op {
    // A single point is drawn as a short tick so it stays visible.
    let points = if points.len() == 1 {
        let (x, y) = points[0];
        vec![(x - 1.5, y), (x + 1.5, y)]
    } else {
        points
    };
    Op::Line {
        points,
        width: 1.2,
        color,
    }
}

fn bar_chart(
    labels: &[String],
    data: &[(&str, Vec<Option<f64>>)],
    ratio: bool,
    w: f32,
) -> (Vec<Op>, f32) {
    let rows = labels.len().min(MAX_BARS);
    let bar_h = 6.0;
    let band = data.len() as f32 * bar_h + 6.0;
    let (left, top) = (110.0, 18.0);
    let right = w - 10.0;
    let bottom = top + band * rows as f32;
    let max = data
        .iter()
        .flat_map(|(_, v)| v.iter().take(rows).flatten())
        .fold(0.0f64, |m, x| m.max(*x));
    let (axis_max, step) = nice_axis(max);
    let x_of = |v: f64| left + ((v.max(0.0) / axis_max) as f32) * (right - left);
    let mut ops = Vec::new();
    legend(&mut ops, data, right);
    for tick in ticks(axis_max, step) {
        let x = x_of(tick);
        ops.push(Op::Rect {
            x,
            y: top,
            w: 0.4,
            h: bottom - top,
            color: RULE,
        });
        let label = axis_label(tick, ratio);
        ops.push(text(
            x - width(&label, 7.0, false) / 2.0,
            bottom + 10.0,
            7.0,
            false,
            MUTED,
            label,
        ));
    }
    for (r, label) in labels.iter().take(rows).enumerate() {
        let y = top + band * r as f32 + 3.0;
        let name = fit(label, 7.5, false, left - 8.0);
        ops.push(text_right(
            left - 4.0,
            y + band / 2.0,
            7.5,
            false,
            INK,
            &name,
        ));
        for (s, (_, values)) in data.iter().enumerate() {
            if let Some(Some(v)) = values.get(r) {
                ops.push(Op::Rect {
                    x: left,
                    y: y + s as f32 * bar_h,
                    w: (x_of(*v) - left).max(0.5),
                    h: bar_h - 1.0,
                    color: PALETTE[s % PALETTE.len()],
                });
            }
        }
    }
    let mut height = bottom + 16.0;
    if labels.len() > rows {
        let note = format!(
            "First {rows} of {} rows; the table below has them all.",
            labels.len()
        );
        ops.push(text(left, bottom + 24.0, 7.0, false, MUTED, note));
        height += 12.0;
    }
    (ops, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_axis(47.0), (50.0, 10.0));
        assert_eq!(nice_axis(0.87), (1.0, 0.2));
        assert_eq!(nice_axis(1234.0), (1250.0, 250.0));
        assert_eq!(nice_axis(0.0), (1.0, 0.2));
    }

    #[test]
    fn a_gap_in_a_series_breaks_its_line() {
        let labels: Vec<String> = (0..5).map(|i| format!("{i}")).collect();
        let data = vec![(
            "offered",
            vec![Some(1.0), Some(2.0), None, Some(4.0), Some(3.0)],
        )];
        let (ops, _) = line_chart(&labels, &data, false, 500.0);
        let lines: Vec<usize> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Line { points, .. } => Some(points.len()),
                _ => None,
            })
            .collect();
        assert_eq!(lines, [2, 2]);
    }
}
