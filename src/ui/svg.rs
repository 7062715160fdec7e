//! SVG screenshots: a ratatui [`Buffer`] drawn as a standalone SVG that looks like the
//! terminal showed it. Owns the layout (cell grid, runs, backgrounds) and the XML; colours
//! come from [`super::theme::color_hex`], so this module names no colour.
//!
//! The output is byte-for-byte deterministic — committed screenshots are compared with fresh
//! renders — so nothing here depends on time, hashing order or floating-point formatting:
//! positions are kept in tenths of a pixel as integers.

use std::fmt::Write as _;

use ratatui::buffer::{Buffer, Cell, CellDiffOption, CellWidth};
use ratatui::style::Modifier;

use super::theme::{DEFAULT_BG_HEX, DEFAULT_FG_HEX, color_hex};

/// Cell width in tenths of a pixel: 8.4 px, the advance of common monospace fonts at 14 px,
/// so `textLength` rarely has to stretch anything.
const CELL_W: u32 = 84;
/// Line height in tenths of a pixel (17 px).
const LINE_H: u32 = 170;
/// Baseline below the top of a line, in tenths of a pixel.
const BASELINE: u32 = 130;
/// Margin around the grid, in tenths of a pixel.
const PAD: u32 = 100;
const FONT_SIZE: u32 = 14;
const FONT_FAMILY: &str =
    "'DejaVu Sans Mono', 'Cascadia Mono', Menlo, Consolas, 'Liberation Mono', monospace";
/// How much of the colour a dim cell keeps; terminals differ, roughly half is common.
const DIM_OPACITY: &str = "0.6";

/// The modifiers that change how a cell is drawn here; blink and the like have no still image.
const DRAWN: Modifier = Modifier::BOLD
    .union(Modifier::DIM)
    .union(Modifier::ITALIC)
    .union(Modifier::UNDERLINED)
    .union(Modifier::CROSSED_OUT);
/// Modifiers that draw something even on a space.
const DECORATION: Modifier = Modifier::UNDERLINED.union(Modifier::CROSSED_OUT);

/// Render `buffer` as an SVG document titled `title`.
///
/// Backgrounds are `<rect>`s merged along each row; text is one `<text>` per run of cells that
/// look the same, with `textLength` pinning every run to the cell grid whatever font the viewer
/// picks. Wide characters (CJK, emoji) take two columns, as ratatui laid them out.
pub fn buffer_to_svg(buffer: &Buffer, title: &str) -> String {
    let area = buffer.area;
    let width = PAD * 2 + u32::from(area.width) * CELL_W;
    let height = PAD * 2 + u32::from(area.height) * LINE_H;
    let rows: Vec<Vec<Glyph<'_>>> = (0..area.height).map(|y| glyphs(buffer, y)).collect();

    let mut svg = String::new();
    // Writing to a String cannot fail; the fmt::Result is only there for other writers.
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" xml:space=\"preserve\">",
        w = px(width),
        h = px(height),
    );
    let _ = writeln!(svg, "<title>{}</title>", escape(title));
    svg.push_str("<style>text{white-space:pre}</style>\n");
    let _ = writeln!(
        svg,
        "<rect width=\"{}\" height=\"{}\" fill=\"{DEFAULT_BG_HEX}\"/>",
        px(width),
        px(height)
    );

    svg.push_str("<g shape-rendering=\"crispEdges\">\n");
    for (y, row) in (0u32..).zip(&rows) {
        backgrounds(&mut svg, y, row);
    }
    svg.push_str("</g>\n");

    let _ = writeln!(
        svg,
        "<g font-family=\"{FONT_FAMILY}\" font-size=\"{FONT_SIZE}\" fill=\"{DEFAULT_FG_HEX}\">"
    );
    for (y, row) in (0u32..).zip(&rows) {
        for run in runs(row) {
            text(&mut svg, y, &run);
        }
    }
    svg.push_str("</g>\n</svg>\n");
    svg
}

/// How a cell looks once reverse video is applied and `Reset` resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Look {
    fg: String,
    bg: String,
    modifiers: Modifier,
}

/// One drawn cell: a grapheme and the columns it covers.
#[derive(Debug)]
struct Glyph<'b> {
    col: u32,
    width: u32,
    symbol: &'b str,
    look: Look,
}

impl Glyph<'_> {
    /// A space that draws nothing but its background, so it may join any text run.
    fn is_blank(&self) -> bool {
        self.symbol.trim().is_empty() && !self.look.modifiers.intersects(DECORATION)
    }
}

fn look(cell: &Cell) -> Look {
    let (fg, bg) = if cell.modifier.contains(Modifier::REVERSED) {
        (color_hex(cell.bg, false), color_hex(cell.fg, true))
    } else {
        (color_hex(cell.fg, true), color_hex(cell.bg, false))
    };
    Look {
        fg,
        bg,
        modifiers: cell.modifier & DRAWN,
    }
}

/// The glyphs of row `y`, skipping the columns hidden under wide characters the way a
/// terminal (and ratatui's own diff) does.
fn glyphs(buffer: &Buffer, y: u16) -> Vec<Glyph<'_>> {
    let area = buffer.area;
    let mut out = Vec::with_capacity(usize::from(area.width));
    let mut x = 0u16;
    while x < area.width {
        let cell = &buffer[(area.x + x, area.y + y)];
        let remaining = area.width - x;
        let width = cell.cell_width().clamp(1, remaining);
        let mut look = look(cell);
        // Hidden text, and cells whose content something else draws (Skip), show only
        // their background.
        let symbol = if cell.modifier.contains(Modifier::HIDDEN)
            || cell.diff_option == CellDiffOption::Skip
        {
            look.modifiers = Modifier::empty();
            " "
        } else if cell.symbol().is_empty() {
            " "
        } else {
            cell.symbol()
        };
        out.push(Glyph {
            col: u32::from(x),
            width: u32::from(width),
            symbol,
            look,
        });
        x += width;
    }
    out
}

/// `<rect>`s for the non-default backgrounds of one row, merged where adjacent cells share one.
fn backgrounds(svg: &mut String, y: u32, row: &[Glyph<'_>]) {
    let mut i = 0;
    while i < row.len() {
        let bg = &row[i].look.bg;
        let start = row[i].col;
        let mut end = start + row[i].width;
        let mut j = i + 1;
        while j < row.len() && row[j].look.bg == *bg {
            end = row[j].col + row[j].width;
            j += 1;
        }
        if bg != DEFAULT_BG_HEX {
            let _ = writeln!(
                svg,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{bg}\"/>",
                px(PAD + start * CELL_W),
                px(PAD + y * LINE_H),
                px((end - start) * CELL_W),
                px(LINE_H),
            );
        }
        i = j;
    }
}

/// A run of cells drawn as one `<text>`: same colour, modifiers and cell width.
#[derive(Debug)]
struct Run<'b> {
    col: u32,
    cols: u32,
    /// The glyph width every member has, so `textLength` spaces them evenly and correctly.
    width: u32,
    look: Look,
    /// Symbols, and whether each is a blank (trimmed from the end).
    symbols: Vec<(&'b str, bool)>,
}

impl Run<'_> {
    fn finish(mut self) -> Self {
        while self.symbols.last().is_some_and(|(_, blank)| *blank) {
            self.symbols.pop();
            self.cols -= self.width;
        }
        self
    }
}

/// Merge a row's glyphs into text runs. Blank cells join whatever run they are in (they draw
/// nothing, so their colour does not matter), are trimmed from a run's end and never start
/// one; a row of spaces yields no text at all.
fn runs<'b>(row: &[Glyph<'b>]) -> Vec<Run<'b>> {
    let mut out = Vec::new();
    let mut current: Option<Run<'b>> = None;
    for g in row {
        let blank = g.is_blank();
        if let Some(run) = &mut current {
            let same_look = run.look.fg == g.look.fg && run.look.modifiers == g.look.modifiers;
            let may_join = blank && !run.look.modifiers.intersects(DECORATION);
            if run.width == g.width && (same_look || may_join) {
                run.symbols.push((g.symbol, blank));
                run.cols += g.width;
                continue;
            }
            if let Some(done) = current.take() {
                out.push(done.finish());
            }
        }
        if !blank {
            current = Some(Run {
                col: g.col,
                cols: g.width,
                width: g.width,
                look: g.look.clone(),
                symbols: vec![(g.symbol, false)],
            });
        }
    }
    if let Some(done) = current {
        out.push(done.finish());
    }
    out
}

fn text(svg: &mut String, y: u32, run: &Run<'_>) {
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{}\" textLength=\"{}\"",
        px(PAD + run.col * CELL_W),
        px(PAD + y * LINE_H + BASELINE),
        px(run.cols * CELL_W),
    );
    if run.look.fg != DEFAULT_FG_HEX {
        let _ = write!(svg, " fill=\"{}\"", run.look.fg);
    }
    let m = run.look.modifiers;
    if m.contains(Modifier::BOLD) {
        svg.push_str(" font-weight=\"bold\"");
    }
    if m.contains(Modifier::ITALIC) {
        svg.push_str(" font-style=\"italic\"");
    }
    match (
        m.contains(Modifier::UNDERLINED),
        m.contains(Modifier::CROSSED_OUT),
    ) {
        (true, true) => svg.push_str(" text-decoration=\"underline line-through\""),
        (true, false) => svg.push_str(" text-decoration=\"underline\""),
        (false, true) => svg.push_str(" text-decoration=\"line-through\""),
        (false, false) => {}
    }
    if m.contains(Modifier::DIM) {
        let _ = write!(svg, " opacity=\"{DIM_OPACITY}\"");
    }
    svg.push('>');
    for (symbol, _) in &run.symbols {
        svg.push_str(&escape(symbol));
    }
    svg.push_str("</text>\n");
}

/// Tenths of a pixel as an SVG length: `84` → `8.4`, `170` → `17`.
fn px(tenths: u32) -> String {
    let (whole, tenth) = (tenths / 10, tenths % 10);
    if tenth == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{tenth}")
    }
}

/// Escape text for XML content and attributes; characters XML 1.0 cannot carry at all
/// (most C0 controls) become U+FFFD so the document stays well-formed.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    use super::*;

    #[test]
    fn px_formats_tenths_without_float_noise() {
        assert_eq!(px(0), "0");
        assert_eq!(px(84), "8.4");
        assert_eq!(px(3 * 84), "25.2");
        assert_eq!(px(170), "17");
    }

    #[test]
    fn escape_covers_markup_and_control_characters() {
        assert_eq!(
            escape("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;"
        );
        assert_eq!(escape("a\u{1}b"), "a\u{FFFD}b");
    }

    #[test]
    fn blanks_join_runs_but_are_trimmed_and_never_start_one() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 1));
        let bold = Style::default().add_modifier(Modifier::BOLD);
        buf.set_string(1, 0, "ab", bold);
        buf.set_string(3, 0, " ", Style::default());
        buf.set_string(4, 0, "cd  ", bold);
        let row = glyphs(&buf, 0);
        let runs = runs(&row);
        assert_eq!(runs.len(), 1);
        assert_eq!((runs[0].col, runs[0].cols), (1, 5));
        let text: String = runs[0].symbols.iter().map(|(s, _)| *s).collect();
        assert_eq!(text, "ab cd");
    }

    #[test]
    fn underlined_spaces_are_drawn() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 6, 1));
        buf.set_string(
            0,
            0,
            "   ",
            Style::default().add_modifier(Modifier::UNDERLINED),
        );
        let row = glyphs(&buf, 0);
        let runs = runs(&row);
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].cols, 3);
    }

    #[test]
    fn reversed_swaps_resolved_colours() {
        let cell = {
            let mut c = Cell::new("x");
            c.set_style(Style::default().add_modifier(Modifier::REVERSED));
            c
        };
        let l = look(&cell);
        assert_eq!(
            (l.fg.as_str(), l.bg.as_str()),
            (DEFAULT_BG_HEX, DEFAULT_FG_HEX)
        );
    }
}
