//! What the formats read line by line (CSV, JSON Lines, waveform CSV, E4 files) share:
//! the header line, and the pull loop that delivers queued items first, then reads lines
//! until one gives something, passing over lines with nothing to read and reporting
//! lines that are not text and failed reads.

use std::collections::VecDeque;
use std::io::{self, BufRead};
use std::path::Path;
use std::time::Duration;

use super::lines::{Line, LineInput, LineReader, NextLine};
use super::source::{Pull, SourceIssue};
use crate::source_error::SourceError;

/// Which lines carry nothing to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Skip {
    /// Blank lines.
    Blank,
    /// Blank lines and lines starting with `#`.
    BlankAndComments,
}

impl Skip {
    fn skips(self, text: &str) -> bool {
        let t = text.trim();
        t.is_empty() || (self == Skip::BlankAndComments && t.starts_with('#'))
    }
}

/// A line-based source's input, the items it has read but not yet delivered, and whether
/// its input has ended.
pub(crate) struct LineFeed {
    input: LineInput,
    skip: Skip,
    /// Items and issues waiting to be pulled, oldest first.
    pub(crate) queue: VecDeque<Pull>,
    /// No more lines: once the queue is empty, every pull is [`Pull::End`].
    pub(crate) ended: bool,
}

impl LineFeed {
    /// Lines from `input`, passing over those `skip` names.
    pub(crate) fn new(input: LineInput, skip: Skip) -> Self {
        Self {
            input,
            skip,
            queue: VecDeque::new(),
            ended: false,
        }
    }

    /// Queues an item or issue to be pulled after those queued before.
    pub(crate) fn push(&mut self, item: Pull) {
        self.queue.push_back(item);
    }

    /// Lines from a blocking reader (a file, in-memory text).
    pub(crate) fn file(reader: impl BufRead + Send + 'static, skip: Skip) -> Self {
        Self::new(LineInput::File(LineReader::new(Box::new(reader))), skip)
    }

    /// The next line with something to read, or a line that is not text.
    fn next_kept(&mut self, wait: Duration) -> NextLine {
        loop {
            match self.input.next_line(wait) {
                NextLine::Line(Line { text: Ok(t), .. }) if self.skip.skips(&t) => {}
                next => return next,
            }
        }
    }

    /// The next line with something to read, as a header: its number and text, or `None`
    /// at the end of input. A line that is not text is an error at that line of `name`;
    /// `failed` words a failed read.
    pub(crate) fn header(
        &mut self,
        name: &Path,
        failed: impl FnOnce(io::Error) -> String,
    ) -> Result<Option<(usize, String)>, SourceError> {
        match self.next_kept(Duration::ZERO) {
            NextLine::Line(l) => match l.text {
                Ok(text) => Ok(Some((l.number, text))),
                Err(m) => Err(SourceError::at_line(name, l.number, m)),
            },
            NextLine::End | NextLine::Pending => Ok(None),
            NextLine::Failed(e) => Err(SourceError::file(name, failed(e))),
        }
    }
}

/// A source read line by line; its [`super::Source::pull`] is [`LineSource::pull_lines`].
pub(crate) trait LineSource {
    /// The name that errors give, and the feed.
    fn feed(&mut self) -> (&Path, &mut LineFeed);

    /// Reads one line with something to read, queueing what it gives.
    fn line(&mut self, number: usize, text: &str, arrival: Option<f64>);

    /// Takes the issue for a line that is not text; queues it as it is unless overridden.
    fn unreadable(&mut self, issue: SourceIssue) {
        self.feed().1.push(Pull::Issue(issue));
    }

    /// The input has ended or failed: queues what is still held back.
    fn finish(&mut self) {}

    /// The next queued item, else the items of the next lines; [`Pull::End`] once the
    /// input has ended and everything is delivered.
    fn pull_lines(&mut self, wait: Duration) -> Pull {
        loop {
            let (name, feed) = self.feed();
            if let Some(p) = feed.queue.pop_front() {
                return p;
            }
            if feed.ended {
                return Pull::End;
            }
            match feed.next_kept(wait) {
                NextLine::Line(l) => match l.text {
                    Ok(text) => self.line(l.number, &text, l.arrival),
                    Err(m) => {
                        let issue = SourceIssue::malformed(SourceError::at_line(name, l.number, m));
                        self.unreadable(issue);
                    }
                },
                NextLine::Pending => return Pull::Pending,
                NextLine::End => {
                    self.finish();
                    self.feed().1.ended = true;
                }
                NextLine::Failed(e) => {
                    let issue =
                        SourceIssue::io(SourceError::file(name, format!("cannot read: {e}")))
                            .into_fatal();
                    self.finish();
                    let feed = self.feed().1;
                    feed.ended = true;
                    feed.push(Pull::Issue(issue));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufReader, Read};
    use std::path::PathBuf;

    use super::*;
    use crate::sources::IssueKind;

    /// Text, then a read failure.
    struct Failing(&'static [u8]);

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("disk gone"));
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    struct Echo {
        name: PathBuf,
        feed: LineFeed,
    }

    impl LineSource for Echo {
        fn feed(&mut self) -> (&Path, &mut LineFeed) {
            (&self.name, &mut self.feed)
        }

        fn line(&mut self, number: usize, text: &str, _arrival: Option<f64>) {
            let e = SourceError::at_line(&self.name, number, text);
            self.feed.push(Pull::Issue(SourceIssue::unused(e)));
        }
    }

    fn pulls(text: &'static [u8], skip: Skip) -> Vec<String> {
        let mut s = Echo {
            name: "e.txt".into(),
            feed: LineFeed::file(BufReader::new(Failing(text)), skip),
        };
        let mut got = Vec::new();
        loop {
            match s.pull_lines(Duration::ZERO) {
                Pull::Issue(i) => got.push(format!("{:?} {i}", i.kind)),
                Pull::End => break,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(s.pull_lines(Duration::ZERO), Pull::End);
        got
    }

    #[test]
    fn skips_empty_lines_and_reports_bad_ones_and_failed_reads() {
        let text = b"# note\n\n  \na\n\xff\nb\n";
        assert_eq!(
            pulls(text, Skip::BlankAndComments),
            vec![
                format!("{:?} e.txt:4: a", IssueKind::Unused),
                format!(
                    "{:?} e.txt:5: line is not valid UTF-8 text (bad byte at offset 0)",
                    IssueKind::Malformed
                ),
                format!("{:?} e.txt:6: b", IssueKind::Unused),
                format!(
                    "{:?} e.txt: cannot read: disk gone (source stopped)",
                    IssueKind::Io
                ),
            ]
        );
        assert_eq!(pulls(text, Skip::Blank)[0], "Unused e.txt:1: # note");
    }

    #[test]
    fn the_header_is_the_first_line_with_something_to_read() {
        let mut feed = LineFeed::file(&b"\n# c\ntime,hr\n1,2\n"[..], Skip::BlankAndComments);
        let name = Path::new("h.csv");
        let cannot = |e: io::Error| format!("cannot read: {e}");
        assert_eq!(
            feed.header(name, cannot).unwrap(),
            Some((3, "time,hr".to_string()))
        );
        assert_eq!(feed.header(name, cannot).unwrap(), Some((4, "1,2".into())));
        assert_eq!(feed.header(name, cannot).unwrap(), None);
    }
}
