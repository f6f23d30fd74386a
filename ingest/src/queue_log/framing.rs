//! Framing: complete `\n`-terminated lines out of a byte stream, with the
//! file offset where each starts.
//!
//! A line without its `\n` yet is held back: Asterisk writes each line with
//! one `fprintf` + `fflush`, but a reader can still see half of it. Lines
//! longer than [`MAX_LINE`] are cut there and reported as over-long, so a
//! file without newlines cannot grow memory without bound.

/// Longest line kept whole (Asterisk's own lines are at most 8191 bytes).
pub const MAX_LINE: usize = 1 << 20;

/// One framed line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framed<'a> {
    /// Offset of the line's first byte in the source.
    pub offset: u64,
    /// The line without its `\n`.
    pub bytes: &'a [u8],
    /// The line was longer than [`MAX_LINE`] and is cut.
    pub overlong: bool,
}

/// A buffer of source bytes from a known offset on.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// Source offset of `buf[0]`.
    base: u64,
    /// In the middle of skipping the rest of an over-long line.
    skipping: bool,
    /// The last (up to 64) bytes before `base`, for the tail hash.
    tail: Vec<u8>,
}

impl Framer {
    /// A framer whose next byte is at `offset` in the source.
    pub fn at(offset: u64) -> Self {
        Framer {
            buf: Vec::with_capacity(1 << 16),
            base: offset,
            skipping: false,
            tail: Vec::new(),
        }
    }

    /// A framer resuming at `offset`, given the bytes just before it.
    pub fn resume(offset: u64, bytes_before: &[u8]) -> Self {
        let mut framer = Framer::at(offset);
        framer.remember(bytes_before);
        framer
    }

    /// Hash of the bytes just before [`Framer::pending_offset`].
    pub fn tail_hash(&self) -> u64 {
        crate::queue_log::identity::tail_hash(&self.tail)
    }

    fn remember(&mut self, consumed: &[u8]) {
        let keep = crate::queue_log::identity::TAIL_HASH_BYTES;
        if consumed.len() >= keep {
            self.tail.clear();
            self.tail
                .extend_from_slice(&consumed[consumed.len() - keep..]);
        } else {
            self.tail.extend_from_slice(consumed);
            let excess = self.tail.len().saturating_sub(keep);
            self.tail.drain(..excess);
        }
    }

    /// Source offset of the first byte not yet framed into a line.
    pub fn pending_offset(&self) -> u64 {
        self.base
    }

    /// Bytes held as a partial line.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// Adds bytes read from the source.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Calls `f` for each complete line in the buffer, in order, and keeps
    /// the partial rest. Returns the number of lines.
    pub fn drain_lines(&mut self, mut f: impl FnMut(Framed<'_>)) -> usize {
        let mut start = 0usize;
        let mut count = 0;
        for nl in memchr::memchr_iter(b'\n', &self.buf) {
            let line = &self.buf[start..nl];
            if self.skipping {
                self.skipping = false;
            } else {
                let overlong = line.len() > MAX_LINE;
                let bytes = if overlong { &line[..MAX_LINE] } else { line };
                f(Framed {
                    offset: self.base + start as u64,
                    bytes,
                    overlong,
                });
                count += 1;
            }
            start = nl + 1;
        }
        // An over-long partial line: report its head now, skip to its end.
        if !self.skipping && self.buf.len() - start > MAX_LINE {
            f(Framed {
                offset: self.base + start as u64,
                bytes: &self.buf[start..start + MAX_LINE],
                overlong: true,
            });
            count += 1;
            self.skipping = true;
        }
        if self.skipping {
            start = self.buf.len();
        }
        let consumed: Vec<u8> = self.buf[start.saturating_sub(64)..start].to_vec();
        self.remember(&consumed);
        self.buf.drain(..start);
        self.base += start as u64;
        count
    }

    /// Frames the held partial line as a last line (the source will not
    /// grow any more: a rotated or compressed file). Returns it, if any.
    pub fn finish(&mut self, mut f: impl FnMut(Framed<'_>)) -> bool {
        if self.buf.is_empty() || self.skipping {
            self.skipping = false;
            let skipped = self.buf.len() as u64;
            let rest = std::mem::take(&mut self.buf);
            self.remember(&rest);
            self.base += skipped;
            return false;
        }
        f(Framed {
            offset: self.base,
            bytes: &self.buf,
            overlong: false,
        });
        self.base += self.buf.len() as u64;
        let rest = std::mem::take(&mut self.buf);
        self.remember(&rest);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(framer: &mut Framer) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        framer.drain_lines(|l| out.push((l.offset, l.bytes.to_vec())));
        out
    }

    #[test]
    fn holds_partial_line_until_newline() {
        let mut f = Framer::at(100);
        f.push(b"a|b\nc|d");
        assert_eq!(collect(&mut f), vec![(100, b"a|b".to_vec())]);
        assert_eq!(f.pending_offset(), 104);
        assert_eq!(f.pending(), b"c|d");
        f.push(b"|e\n");
        assert_eq!(collect(&mut f), vec![(104, b"c|d|e".to_vec())]);
        assert_eq!(f.pending_offset(), 110);
    }

    #[test]
    fn split_at_every_byte_gives_same_lines() {
        let data = b"1|x|q|a|E|p\n\n2|y|q|a|F|\n3|z";
        let mut whole = Framer::at(0);
        whole.push(data);
        let expected = collect(&mut whole);
        for cut in 0..data.len() {
            let mut f = Framer::at(0);
            f.push(&data[..cut]);
            let mut got = collect(&mut f);
            f.push(&data[cut..]);
            got.extend(collect(&mut f));
            assert_eq!(got, expected, "cut at {cut}");
        }
    }

    #[test]
    fn overlong_line_is_cut_and_rest_skipped() {
        let mut f = Framer::at(0);
        let mut data = vec![b'x'; MAX_LINE + 10];
        data.extend_from_slice(b"\n1|a|b|c|E|\n");
        f.push(&data);
        let mut out = Vec::new();
        f.drain_lines(|l| out.push((l.offset, l.bytes.len(), l.overlong)));
        assert_eq!(
            out,
            vec![(0, MAX_LINE, true), (MAX_LINE as u64 + 11, 10, false)]
        );
    }
}
