//! SVG screenshots: runs merged, text escaped, colours from the xterm palette, wide
//! characters on two columns, well-formed and byte-for-byte deterministic.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use watchdeck::ui::svg::buffer_to_svg;
use watchdeck::ui::theme::{DEFAULT_BG_HEX, DEFAULT_FG_HEX, Theme};

/// A colour as a theme file names it, so this file names no `Color::` value.
fn colour(name: &str) -> Color {
    name.parse().expect("colour")
}

/// The `<text>` elements, in order.
fn texts(svg: &str) -> Vec<&str> {
    svg.lines().filter(|l| l.starts_with("<text ")).collect()
}

/// The `<rect>` elements after the full-canvas background, in order.
fn cell_rects(svg: &str) -> Vec<&str> {
    svg.lines().filter(|l| l.starts_with("<rect x=")).collect()
}

/// Content between `>` and `</text>`.
fn content(element: &str) -> &str {
    let start = element.find('>').expect(">") + 1;
    let end = element.rfind("</text>").expect("</text>");
    &element[start..end]
}

/// Tags balance and every `&` starts an entity: enough well-formedness for a viewer.
fn assert_well_formed(svg: &str) {
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>').expect("unclosed tag");
        let tag = &after[..close];
        assert!(!tag.contains('<'), "`<` inside a tag: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name), "mismatched </{name}>");
        } else if !tag.ends_with('/') {
            let name = tag.split([' ', '\n']).next().expect("tag name");
            stack.push(name);
        }
        let text = &rest[..open];
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| entity.starts_with(e)),
                "bare & in {text:?}"
            );
        }
        rest = &after[close + 1..];
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.ends_with("</svg>\n"));
}

fn sample() -> Buffer {
    let mut buf = Buffer::empty(Rect::new(0, 0, 20, 3));
    let red_bold = Style::default()
        .fg(colour("red"))
        .add_modifier(Modifier::BOLD);
    buf.set_string(0, 0, "hello", red_bold);
    buf.set_string(6, 0, "<&>\"'", Style::default());
    // Two wide characters, then narrow text that must land after both of them.
    buf.set_string(0, 1, "日本", Style::default().fg(colour("#00ff80")));
    buf.set_string(4, 1, "ok", Style::default().fg(colour("46")));
    buf.set_string(
        0,
        2,
        "bg",
        Style::default().fg(colour("black")).bg(colour("blue")),
    );
    buf.set_string(
        3,
        2,
        "rev",
        Style::default().add_modifier(Modifier::REVERSED),
    );
    buf.set_string(
        7,
        2,
        "u",
        Style::default().add_modifier(Modifier::UNDERLINED | Modifier::ITALIC | Modifier::DIM),
    );
    buf.set_string(9, 2, "🚨!", Style::default());
    buf
}

#[test]
fn canvas_size_title_and_default_background() {
    let svg = buffer_to_svg(&sample(), "watchdeck <demo> & \"overview\"");
    // 20 columns × 8.4 px and 3 lines × 17 px, plus a 10 px margin on each side.
    assert!(svg.contains("width=\"188\" height=\"71\" viewBox=\"0 0 188 71\""));
    assert!(svg.contains("xml:space=\"preserve\""));
    assert!(svg.contains("<title>watchdeck &lt;demo&gt; &amp; &quot;overview&quot;</title>"));
    assert!(svg.contains(&format!(
        "<rect width=\"188\" height=\"71\" fill=\"{DEFAULT_BG_HEX}\"/>"
    )));
    assert!(svg.contains("monospace"));
    assert_well_formed(&svg);
}

#[test]
fn runs_are_merged_escaped_and_coloured() {
    let svg = buffer_to_svg(&sample(), "t");
    let texts = texts(&svg);
    let contents: Vec<&str> = texts.iter().map(|t| content(t)).collect();
    assert_eq!(
        contents,
        [
            "hello",
            "&lt;&amp;&gt;&quot;&apos;",
            "日本",
            "ok",
            // Same text colour (reverse video of the default is the default background), so
            // one run across the two different backgrounds.
            "bg rev",
            "u",
            "🚨",
            "!"
        ]
    );
    // One element for the whole red word, at column 0, five cells wide.
    assert_eq!(
        texts[0],
        "<text x=\"10\" y=\"23\" textLength=\"42\" fill=\"#cd0000\" font-weight=\"bold\">hello</text>"
    );
    // Default foreground is inherited from the group, not repeated.
    assert!(svg.contains(&format!("font-size=\"14\" fill=\"{DEFAULT_FG_HEX}\">")));
    assert!(!texts[1].contains("fill="));
    assert!(
        texts[3].contains("fill=\"#00ff00\""),
        "index 46: {}",
        texts[3]
    );
    assert!(texts[2].contains("fill=\"#00ff80\""), "rgb: {}", texts[2]);
    assert!(texts[5].contains("text-decoration=\"underline\""));
    assert!(texts[5].contains("font-style=\"italic\""));
    assert!(texts[5].contains("opacity="));
}

#[test]
fn wide_characters_take_two_columns() {
    let svg = buffer_to_svg(&sample(), "t");
    let texts = texts(&svg);
    // 日本 at column 0 spans four cells (33.6 px); "ok" starts at column 4.
    assert!(texts[2].starts_with("<text x=\"10\" y=\"40\" textLength=\"33.6\""));
    assert!(texts[3].starts_with("<text x=\"43.6\" y=\"40\" textLength=\"16.8\""));
    // The emoji at column 9 covers 9–10; "!" follows at column 11.
    assert!(texts[6].starts_with("<text x=\"85.6\" y=\"57\" textLength=\"16.8\""));
    assert!(texts[7].starts_with("<text x=\"102.4\" y=\"57\" textLength=\"8.4\""));
}

#[test]
fn backgrounds_are_merged_rects_and_reverse_video_swaps() {
    let svg = buffer_to_svg(&sample(), "t");
    let rects = cell_rects(&svg);
    assert_eq!(
        rects,
        [
            "<rect x=\"10\" y=\"44\" width=\"16.8\" height=\"17\" fill=\"#0000ee\"/>".to_owned(),
            format!(
                "<rect x=\"35.2\" y=\"44\" width=\"25.2\" height=\"17\" fill=\"{DEFAULT_FG_HEX}\"/>"
            ),
        ]
    );
    let texts = texts(&svg);
    assert!(
        texts[4].contains(&format!("fill=\"{DEFAULT_BG_HEX}\"")),
        "{}",
        texts[4]
    );
}

#[test]
fn spaces_inside_a_run_are_kept() {
    let mut buf = Buffer::empty(Rect::new(0, 0, 12, 1));
    buf.set_string(1, 0, "a  b", Style::default().fg(colour("cyan")));
    let svg = buffer_to_svg(&buf, "t");
    assert_eq!(texts(&svg).len(), 1);
    assert!(svg.contains(">a  b</text>"));
}

fn drawn_screen(theme: &Theme) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(40, 6)).expect("terminal");
    terminal
        .draw(|f| {
            let block = Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Span::styled(" incidents ", theme.header));
            let lines = vec![
                Line::from(vec![
                    Span::styled(" SEV1 ", theme.sev1),
                    Span::raw(" galera quorum lost"),
                ]),
                Line::from(vec![
                    Span::styled(" SEV2 ", theme.sev2),
                    Span::styled(" replica lag 45s", theme.warn),
                ]),
                Line::from(vec![
                    Span::styled(" SEV3 ", theme.sev3),
                    Span::styled(" backup 26h old — 期限切れ", theme.breach),
                ]),
            ];
            f.render_widget(Paragraph::new(lines).block(block), f.area());
        })
        .expect("draw");
    terminal.backend().buffer().clone()
}

#[test]
fn output_is_deterministic_for_every_builtin_theme() {
    for name in Theme::builtin_names() {
        let theme = Theme::load(name).expect("theme");
        let a = buffer_to_svg(&drawn_screen(&theme), name);
        let b = buffer_to_svg(&drawn_screen(&theme), name);
        assert_eq!(a, b, "{name}");
        assert_well_formed(&a);
        assert!(a.contains("期限切れ"), "{name}");
        // Far fewer elements than cells: runs are merged.
        assert!(texts(&a).len() < 20, "{name}: {} texts", texts(&a).len());
    }
    assert_ne!(
        buffer_to_svg(&drawn_screen(&Theme::dark()), "x"),
        buffer_to_svg(&drawn_screen(&Theme::mono()), "x")
    );
}
