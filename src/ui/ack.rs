//! The acknowledge dialog: which incident, in which environment (with its tier badge, so
//! nobody acknowledges a production page thinking it was staging), and an optional note.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::App;
use super::help::centered;
use super::line::LineEditor;
use super::{incidents, widgets};
use crate::incident::IncidentId;

pub fn render(frame: &mut Frame<'_>, body: Rect, app: &App, id: IncidentId, note: &LineEditor) {
    let theme = &app.theme;
    let Some(incident) = app.situation.incident(id) else {
        return;
    };
    let mut title = vec![Span::raw(" "), widgets::tier_badge(incident.tier, theme)];
    title.push(Span::styled(format!(" Acknowledge {id} "), theme.header));
    let lines = vec![
        Line::from(vec![
            incidents::severity_span(incident.severity, theme),
            Span::raw(format!("  {}", incident.environment)),
        ]),
        Line::from(incident.summary.clone()),
        Line::from(""),
        Line::from(vec![
            Span::styled("note (optional): ", theme.muted),
            Span::styled(note.text().to_owned(), theme.input),
            Span::styled(" ", theme.selection),
        ]),
        Line::from(""),
        Line::from(vec![
            Span::styled("Enter", theme.accent),
            Span::raw(format!(" acknowledge as {}   ", app.user)),
            Span::styled("Esc", theme.accent),
            Span::raw(" cancel"),
        ]),
    ];
    let area = centered(body, 64, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .style(theme.popup)
            .wrap(Wrap { trim: false })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.border)
                    .title(Line::from(title)),
            ),
        area,
    );
}
