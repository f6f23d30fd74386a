//! A report laid out as pages of drawing operations (text, filled
//! rectangles, lines) on A4 portrait, in points from the top-left corner.
//! Kept apart from drawing so the layout is plain data a test can read.

use chrono_tz::Tz;

use super::chart;
use super::fonts::{fit, width};
use crate::ReportError;
use crate::model::{Presentation, Report, Section};
use crate::values::{self, Value, humanize};

/// Page width (A4 portrait), points.
pub const PAGE_W: f32 = 595.0;
/// Page height, points.
pub const PAGE_H: f32 = 842.0;
/// Left and right margin, points.
pub const MARGIN: f32 = 40.0;
/// Width between the margins.
pub const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const TOP: f32 = 48.0;
const BOTTOM: f32 = PAGE_H - 56.0;

/// An RGB colour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// Text colour.
pub const INK: Rgb = Rgb(0x1f, 0x29, 0x37);
/// Secondary text and axes.
pub const MUTED: Rgb = Rgb(0x6b, 0x72, 0x80);
/// Gridlines and rules.
pub const RULE: Rgb = Rgb(0xd1, 0xd5, 0xdb);
/// Header rows and tiles.
pub const SHADE: Rgb = Rgb(0xf1, 0xf4, 0xf8);

/// One drawing operation.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Text whose baseline starts at (x, y).
    Text {
        /// Left edge.
        x: f32,
        /// Baseline.
        y: f32,
        /// Size in points.
        size: f32,
        /// Bold face.
        bold: bool,
        /// Colour.
        color: Rgb,
        /// The text.
        text: String,
    },
    /// A filled rectangle.
    Rect {
        /// Left edge.
        x: f32,
        /// Top edge.
        y: f32,
        /// Width.
        w: f32,
        /// Height.
        h: f32,
        /// Fill.
        color: Rgb,
    },
    /// An open polyline.
    Line {
        /// The points in order.
        points: Vec<(f32, f32)>,
        /// Stroke width.
        width: f32,
        /// Colour.
        color: Rgb,
    },
}

/// Text at (x, y), left-aligned.
pub fn text(x: f32, y: f32, size: f32, bold: bool, color: Rgb, text: impl Into<String>) -> Op {
    Op::Text {
        x,
        y,
        size,
        bold,
        color,
        text: text.into(),
    }
}

/// Text ending at `right`.
pub fn text_right(right: f32, y: f32, size: f32, bold: bool, color: Rgb, s: &str) -> Op {
    text(right - width(s, size, bold), y, size, bold, color, s)
}

/// Pages being filled.
struct Pages {
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Pages {
    fn new() -> Self {
        Pages {
            pages: vec![Vec::new()],
            y: TOP,
        }
    }

    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    fn extend(&mut self, ops: Vec<Op>) {
        if let Some(page) = self.pages.last_mut() {
            page.extend(ops);
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Starts a new page unless `h` points still fit on this one.
    fn room_for(&mut self, h: f32) {
        if self.y + h > BOTTOM {
            self.new_page();
        }
    }
}

/// The report's pages, each a list of operations, footers included.
pub fn layout(report: &Report<'_>) -> Result<Vec<Vec<Op>>, ReportError> {
    let mut pages = Pages::new();
    pages.y += 14.0;
    pages.push(text(MARGIN, pages.y, 18.0, true, INK, report.title));
    pages.y += 16.0;
    pages.push(text(MARGIN, pages.y, 9.5, false, MUTED, report.subtitle));
    pages.y += 8.0;
    pages.push(Op::Rect {
        x: MARGIN,
        y: pages.y,
        w: CONTENT_W,
        h: 0.8,
        color: RULE,
    });
    pages.y += 14.0;
    for section in &report.sections {
        section_ops(&mut pages, section, report.time_zone)?;
    }
    let total = pages.pages.len();
    let footer = format!("{} · {}", report.title, report.subtitle);
    let generated = format!("Generated {}", report.generated);
    for (i, page) in pages.pages.iter_mut().enumerate() {
        let y = PAGE_H - 30.0;
        page.push(Op::Rect {
            x: MARGIN,
            y: y - 11.0,
            w: CONTENT_W,
            h: 0.5,
            color: RULE,
        });
        page.push(text(
            MARGIN,
            y,
            7.5,
            false,
            MUTED,
            fit(&footer, 7.5, false, 300.0),
        ));
        let right = format!("{generated} · page {} of {total}", i + 1);
        page.push(text_right(MARGIN + CONTENT_W, y, 7.5, false, MUTED, &right));
    }
    Ok(pages.pages)
}

fn section_ops(pages: &mut Pages, section: &Section<'_>, tz: Tz) -> Result<(), ReportError> {
    pages.room_for(60.0);
    pages.y += 8.0;
    pages.push(text(MARGIN, pages.y, 12.5, true, INK, section.title));
    pages.y += 10.0;
    let columns = values::columns(section.batches)?;
    let schema = match section.batches.first() {
        Some(batch) if columns.first().is_some_and(|c| !c.is_empty()) => batch.schema(),
        _ => {
            pages.y += 6.0;
            pages.push(text(
                MARGIN,
                pages.y,
                9.0,
                false,
                MUTED,
                "No rows for this period.",
            ));
            pages.y += 12.0;
            return Ok(());
        }
    };
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    if section.presentation == Presentation::Summary {
        tiles(pages, &names, &columns, tz);
        return Ok(());
    }
    if let Some(spec) = section.chart {
        let (ops, height) = chart::chart(spec, section.name, &names, &columns, tz, CONTENT_W)?;
        pages.room_for(height + 8.0);
        pages.y += 4.0;
        let top = pages.y;
        pages.extend(ops.into_iter().map(|op| shift(op, MARGIN, top)).collect());
        pages.y += height + 8.0;
    }
    table(pages, &names, &columns, tz);
    Ok(())
}

/// `op` moved by (dx, dy).
pub fn shift(op: Op, dx: f32, dy: f32) -> Op {
    match op {
        Op::Text {
            x,
            y,
            size,
            bold,
            color,
            text,
        } => Op::Text {
            x: x + dx,
            y: y + dy,
            size,
            bold,
            color,
            text,
        },
        Op::Rect { x, y, w, h, color } => Op::Rect {
            x: x + dx,
            y: y + dy,
            w,
            h,
            color,
        },
        Op::Line {
            points,
            width,
            color,
        } => Op::Line {
            points: points.into_iter().map(|(x, y)| (x + dx, y + dy)).collect(),
            width,
            color,
        },
    }
}

/// The first row as headline tiles, four to a line.
fn tiles(pages: &mut Pages, names: &[&str], columns: &[Vec<Value>], tz: Tz) {
    const PER_LINE: usize = 4;
    const GAP: f32 = 8.0;
    const H: f32 = 46.0;
    let w = (CONTENT_W - GAP * (PER_LINE as f32 - 1.0)) / PER_LINE as f32;
    pages.y += 4.0;
    for (chunk_no, chunk) in names.chunks(PER_LINE).enumerate() {
        pages.room_for(H + GAP);
        for (i, name) in chunk.iter().enumerate() {
            let c = chunk_no * PER_LINE + i;
            let x = MARGIN + i as f32 * (w + GAP);
            let value = values::display(&columns[c][0], name, tz);
            let value = if value.is_empty() {
                "–".to_owned()
            } else {
                value
            };
            pages.push(Op::Rect {
                x,
                y: pages.y,
                w,
                h: H,
                color: SHADE,
            });
            pages.push(text(
                x + 8.0,
                pages.y + 14.0,
                7.5,
                false,
                MUTED,
                fit(&humanize(name), 7.5, false, w - 16.0),
            ));
            pages.push(text(
                x + 8.0,
                pages.y + 35.0,
                15.0,
                true,
                INK,
                fit(&value, 15.0, true, w - 16.0),
            ));
        }
        pages.y += H + GAP;
    }
    pages.y += 6.0;
}

/// A table that continues over pages, its header repeated on each.
fn table(pages: &mut Pages, names: &[&str], columns: &[Vec<Value>], tz: Tz) {
    let rows = columns.first().map_or(0, Vec::len);
    let headers: Vec<String> = names.iter().map(|n| humanize(n)).collect();
    let cells: Vec<Vec<String>> = names
        .iter()
        .zip(columns)
        .map(|(name, column)| {
            column
                .iter()
                .map(|v| values::display(v, name, tz))
                .collect()
        })
        .collect();
    let numeric: Vec<bool> = columns
        .iter()
        .map(|c| {
            c.iter()
                .any(|v| matches!(v, Value::Integer(_) | Value::Number(_)))
        })
        .collect();
    let natural = |size: f32| -> Vec<f32> {
        headers
            .iter()
            .zip(&cells)
            .map(|(h, col)| {
                let widest = col
                    .iter()
                    .map(|s| width(s, size, false))
                    .fold(width(h, size, true), f32::max);
                widest.min(180.0) + 10.0
            })
            .collect()
    };
    let mut size = 8.0;
    let mut widths = natural(size);
    while widths.iter().sum::<f32>() > CONTENT_W && size > 6.0 {
        size -= 0.5;
        widths = natural(size);
    }
    let total: f32 = widths.iter().sum();
    let scale = if total > CONTENT_W {
        CONTENT_W / total
    } else {
        1.0
    };
    let widths: Vec<f32> = widths.iter().map(|w| w * scale).collect();
    let table_w: f32 = widths.iter().sum();
    let row_h = size * 1.75;
    let header = |pages: &mut Pages| {
        pages.push(Op::Rect {
            x: MARGIN,
            y: pages.y,
            w: table_w,
            h: row_h,
            color: SHADE,
        });
        let mut x = MARGIN;
        for ((h, w), num) in headers.iter().zip(&widths).zip(&numeric) {
            let label = fit(h, size, true, w - 8.0);
            let baseline = pages.y + row_h * 0.68;
            pages.push(if *num {
                text_right(x + w - 4.0, baseline, size, true, INK, &label)
            } else {
                text(x + 4.0, baseline, size, true, INK, label)
            });
            x += w;
        }
        pages.y += row_h;
    };
    pages.room_for(row_h * 3.0);
    header(pages);
    for r in 0..rows {
        if pages.y + row_h > BOTTOM {
            pages.new_page();
            header(pages);
        }
        if r % 2 == 1 {
            pages.push(Op::Rect {
                x: MARGIN,
                y: pages.y,
                w: table_w,
                h: row_h,
                color: Rgb(0xfa, 0xfb, 0xfc),
            });
        }
        let mut x = MARGIN;
        for ((col, w), num) in cells.iter().zip(&widths).zip(&numeric) {
            let cell = fit(&col[r], size, false, w - 8.0);
            let baseline = pages.y + row_h * 0.68;
            if !cell.is_empty() {
                pages.push(if *num {
                    text_right(x + w - 4.0, baseline, size, false, INK, &cell)
                } else {
                    text(x + 4.0, baseline, size, false, INK, cell)
                });
            }
            x += w;
        }
        pages.y += row_h;
    }
    pages.push(Op::Rect {
        x: MARGIN,
        y: pages.y,
        w: table_w,
        h: 0.5,
        color: RULE,
    });
    pages.y += 12.0;
}
