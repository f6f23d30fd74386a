//! The two embedded fonts (DejaVu Sans, regular and bold; licence in
//! `reports/fonts/LICENSE`) and text measurement, so layout can right-align
//! numbers and cut text that would not fit. Nothing is read from the
//! system: a report looks the same on every machine.

use std::sync::LazyLock;

use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

/// DejaVu Sans.
pub static REGULAR: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
/// DejaVu Sans Bold.
pub static BOLD: &[u8] = include_bytes!("../../fonts/DejaVuSans-Bold.ttf");

/// Advance widths of the first 256 code points at 1 pt, per weight; other
/// characters are measured as they come.
struct Widths {
    ascii: [f32; 256],
    font: FontRef<'static>,
}

impl Widths {
    fn new(bytes: &'static [u8]) -> Option<Self> {
        let font = FontRef::new(bytes).ok()?;
        let mut ascii = [0.6; 256];
        for (code, width) in ascii.iter_mut().enumerate() {
            if let Some(c) = char::from_u32(code as u32) {
                *width = advance(&font, c);
            }
        }
        Some(Widths { ascii, font })
    }

    fn of(&self, c: char) -> f32 {
        match self.ascii.get(c as usize) {
            Some(w) => *w,
            None => advance(&self.font, c),
        }
    }
}

fn advance(font: &FontRef<'_>, c: char) -> f32 {
    let metrics = font.glyph_metrics(Size::new(1.0), LocationRef::default());
    let glyph = font.charmap().map(c).unwrap_or_default();
    metrics.advance_width(glyph).unwrap_or(0.6)
}

static REGULAR_WIDTHS: LazyLock<Option<Widths>> = LazyLock::new(|| Widths::new(REGULAR));
static BOLD_WIDTHS: LazyLock<Option<Widths>> = LazyLock::new(|| Widths::new(BOLD));

/// The width of `text` at `size` points.
pub fn width(text: &str, size: f32, bold: bool) -> f32 {
    let widths = if bold {
        &*BOLD_WIDTHS
    } else {
        &*REGULAR_WIDTHS
    };
    match widths {
        Some(w) => text.chars().map(|c| w.of(c)).sum::<f32>() * size,
        None => text.chars().count() as f32 * 0.6 * size,
    }
}

/// `text` cut with an ellipsis to at most `max` points wide.
pub fn fit(text: &str, size: f32, bold: bool, max: f32) -> String {
    if width(text, size, bold) <= max {
        return text.to_owned();
    }
    let ellipsis = width("…", size, bold);
    let mut out = String::new();
    let mut used = 0.0;
    for c in text.chars() {
        let w = width(c.encode_utf8(&mut [0; 4]), size, bold);
        if used + w + ellipsis > max {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_and_cuts_text() {
        let w = width("Service level", 10.0, false);
        assert!(w > 50.0 && w < 80.0, "{w}");
        assert!(width("Service level", 10.0, true) > w);
        assert!(width("ÄÖÜ", 10.0, false) > 0.0);
        let cut = fit("a very long agent name indeed", 8.0, false, 40.0);
        assert!(cut.ends_with('…'));
        assert!(width(&cut, 8.0, false) <= 40.0);
        assert_eq!(fit("short", 8.0, false, 100.0), "short");
    }
}
