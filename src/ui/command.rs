//! The `:` command line: parsing a typed command into a [`UiCommand`], and Tab completion
//! of command words and their arguments.
//!
//! Command words and names (environments, tabs, themes, columns) may be shortened to any
//! unique prefix, case-insensitively: `:th light`, `:env prod` for `production`. An exact
//! name always wins over a longer one it prefixes. The names come from the caller in a
//! [`Vocabulary`], so this module knows nothing about the fleet or the App; it only turns
//! text into a validated request.

use super::filter::closest;

/// What a `:` line asks the UI to do. Names are returned as spelled in the [`Vocabulary`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UiCommand {
    Quit,
    /// `None` shows all environments.
    Env(Option<String>),
    Tab(String),
    Ack {
        note: Option<String>,
    },
    Theme(String),
    /// The query text, unparsed: which fields exist depends on the tab it is applied to.
    Filter(String),
    ClearFilter,
    Freeze,
    Help,
    /// `None`: the tab's default order.
    Sort(Option<String>),
}

/// The names commands may refer to, supplied by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vocabulary {
    pub environments: Vec<String>,
    /// In display order: `:tab 2` is the second.
    pub tabs: Vec<String>,
    pub themes: Vec<String>,
    /// Sortable columns of the current tab.
    pub columns: Vec<String>,
}

/// The kind of name an argument is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Environment,
    Tab,
    Theme,
    Column,
}

impl NameKind {
    fn singular(self) -> &'static str {
        match self {
            NameKind::Environment => "environment",
            NameKind::Tab => "tab",
            NameKind::Theme => "theme",
            NameKind::Column => "column",
        }
    }

    fn article(self) -> &'static str {
        match self {
            NameKind::Environment => "an",
            _ => "a",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            NameKind::Environment => "environments",
            NameKind::Tab => "tabs",
            NameKind::Theme => "themes",
            NameKind::Column => "columns",
        }
    }

    /// The names an argument of this kind may take, `all` included for environments.
    fn names(self, vocab: &Vocabulary) -> Vec<&str> {
        let list = match self {
            NameKind::Environment => &vocab.environments,
            NameKind::Tab => &vocab.tabs,
            NameKind::Theme => &vocab.themes,
            NameKind::Column => &vocab.columns,
        };
        let mut names: Vec<&str> = list.iter().map(String::as_str).collect();
        if self == NameKind::Environment {
            names.push(ALL);
        }
        names
    }
}

impl std::fmt::Display for NameKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.singular())
    }
}

const ALL: &str = "all";

/// Why a `:` line was not understood. Each message says what would have worked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("no command typed; :help lists them")]
    Empty,
    #[error("unknown command `:{name}`{}; commands: {}", did_you_mean(.suggestion.as_deref()), command_list())]
    UnknownCommand {
        name: String,
        suggestion: Option<String>,
    },
    #[error("`:{name}` could be {}; type more letters", join_prefixed(.candidates))]
    AmbiguousCommand {
        name: String,
        candidates: Vec<String>,
    },
    #[error("no {kind} `{name}`; {}: {}", .kind.plural(), list(.known))]
    NoSuchName {
        kind: NameKind,
        name: String,
        known: Vec<String>,
    },
    #[error("{kind} `{name}` could be {}; type more letters", join(.candidates))]
    AmbiguousName {
        kind: NameKind,
        name: String,
        candidates: Vec<String>,
    },
    #[error("`:{command}` needs {} {kind}; {}: {}", .kind.article(), .kind.plural(), list(.known))]
    MissingName {
        command: &'static str,
        kind: NameKind,
        known: Vec<String>,
    },
    #[error("`:filter` needs a query, like `:filter sev<=2 env=prod` (`:nofilter` clears it)")]
    MissingQuery,
    #[error("`:{command}` takes no arguments; remove `{argument}`")]
    UnexpectedArgument {
        command: &'static str,
        argument: String,
    },
    #[error("`:{command}` takes one {kind}; remove `{extra}`")]
    TooManyNames {
        command: &'static str,
        kind: NameKind,
        extra: String,
    },
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!(" (did you mean `:{s}`?)"))
}

fn command_list() -> String {
    COMMANDS
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn join_prefixed(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`:{n}`"))
        .collect::<Vec<_>>()
        .join(" or ")
}

fn join(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(" or ")
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none available".to_owned()
    } else {
        names.join(", ")
    }
}

/// What follows a command word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    Nothing,
    Name(NameKind),
    OptionalName(NameKind),
    /// Free text, kept as typed (trimmed).
    Text {
        required: bool,
    },
}

struct Spec {
    name: &'static str,
    arg: Arg,
    usage: &'static str,
    summary: &'static str,
}

const COMMANDS: &[Spec] = &[
    Spec {
        name: "quit",
        arg: Arg::Nothing,
        usage: ":quit, :q",
        summary: "leave watchdeck",
    },
    Spec {
        name: "env",
        arg: Arg::Name(NameKind::Environment),
        usage: ":env NAME | all",
        summary: "show one environment, or all of them",
    },
    Spec {
        name: "tab",
        arg: Arg::Name(NameKind::Tab),
        usage: ":tab NAME | N",
        summary: "go to a tab by name or number",
    },
    Spec {
        name: "ack",
        arg: Arg::Text { required: false },
        usage: ":ack [NOTE…]",
        summary: "acknowledge the selected incident, with an optional note",
    },
    Spec {
        name: "theme",
        arg: Arg::Name(NameKind::Theme),
        usage: ":theme NAME",
        summary: "switch colour theme",
    },
    Spec {
        name: "filter",
        arg: Arg::Text { required: true },
        usage: ":filter QUERY",
        summary: "filter rows, as with /",
    },
    Spec {
        name: "nofilter",
        arg: Arg::Nothing,
        usage: ":nofilter",
        summary: "clear the filter",
    },
    Spec {
        name: "freeze",
        arg: Arg::Nothing,
        usage: ":freeze",
        summary: "hold or resume updates",
    },
    Spec {
        name: "help",
        arg: Arg::Nothing,
        usage: ":help",
        summary: "list keys and commands",
    },
    Spec {
        name: "sort",
        arg: Arg::OptionalName(NameKind::Column),
        usage: ":sort [COLUMN]",
        summary: "sort by a column, or back to the default order",
    },
];

/// Usage and one-line summary of every command, for a help screen.
pub fn help() -> impl Iterator<Item = (&'static str, &'static str)> {
    COMMANDS.iter().map(|c| (c.usage, c.summary))
}

/// Parse a `:` line (with or without the leading `:`), validating names against `vocab`.
pub fn parse(text: &str, vocab: &Vocabulary) -> Result<UiCommand, CommandError> {
    let (word, rest) = split_command(text);
    if word.is_empty() {
        return Err(CommandError::Empty);
    }
    let spec = resolve_command(word)?;
    let rest = rest.trim();
    let name = spec.name;
    match spec.arg {
        Arg::Nothing if !rest.is_empty() => {
            return Err(CommandError::UnexpectedArgument {
                command: name,
                argument: rest.to_owned(),
            });
        }
        Arg::Nothing => {}
        Arg::Text { required } => {
            let text = (!rest.is_empty()).then(|| rest.to_owned());
            return match (name, text) {
                ("filter", Some(query)) => Ok(UiCommand::Filter(query)),
                ("filter", None) if required => Err(CommandError::MissingQuery),
                (_, note) => Ok(UiCommand::Ack { note }),
            };
        }
        Arg::Name(kind) | Arg::OptionalName(kind) => {
            let argument = rest.split_whitespace().next();
            let extra = rest[argument.map_or(0, str::len)..].trim_start();
            if !extra.is_empty() {
                return Err(CommandError::TooManyNames {
                    command: name,
                    kind,
                    extra: extra.to_owned(),
                });
            }
            let resolved = match argument {
                Some(argument) => Some(resolve_name(argument, kind, vocab)?),
                None if matches!(spec.arg, Arg::OptionalName(_)) => None,
                None => {
                    return Err(CommandError::MissingName {
                        command: name,
                        kind,
                        known: owned(&kind.names(vocab)),
                    });
                }
            };
            return Ok(match kind {
                NameKind::Environment => UiCommand::Env(resolved.filter(|n| n != ALL)),
                NameKind::Tab => UiCommand::Tab(resolved.unwrap_or_default()),
                NameKind::Theme => UiCommand::Theme(resolved.unwrap_or_default()),
                NameKind::Column => UiCommand::Sort(resolved),
            });
        }
    }
    Ok(match name {
        "quit" => UiCommand::Quit,
        "nofilter" => UiCommand::ClearFilter,
        "freeze" => UiCommand::Freeze,
        _ => UiCommand::Help,
    })
}

/// Split off the command word, dropping leading spaces and the optional `:`.
fn split_command(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    let text = text.strip_prefix(':').unwrap_or(text).trim_start();
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    text.split_at(end)
}

fn resolve_command(word: &str) -> Result<&'static Spec, CommandError> {
    let names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
    match resolve(word, &names) {
        Resolved::One(name) => COMMANDS
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| unknown_command(word, &names)),
        Resolved::Many(candidates) => Err(CommandError::AmbiguousCommand {
            name: word.to_owned(),
            candidates: owned(&candidates),
        }),
        Resolved::None => Err(unknown_command(word, &names)),
    }
}

fn unknown_command(word: &str, names: &[&str]) -> CommandError {
    CommandError::UnknownCommand {
        name: word.to_owned(),
        suggestion: closest(word, names).map(str::to_owned),
    }
}

fn resolve_name(word: &str, kind: NameKind, vocab: &Vocabulary) -> Result<String, CommandError> {
    let names = kind.names(vocab);
    if kind == NameKind::Tab
        && let Ok(n) = word.parse::<usize>()
    {
        // Numbers are the 1-based positions shown in the tab bar.
        return match n.checked_sub(1).and_then(|i| vocab.tabs.get(i)) {
            Some(tab) => Ok(tab.clone()),
            None => Err(CommandError::NoSuchName {
                kind,
                name: word.to_owned(),
                known: owned(&names),
            }),
        };
    }
    match resolve(word, &names) {
        Resolved::One(name) => Ok(name.to_owned()),
        Resolved::Many(candidates) => Err(CommandError::AmbiguousName {
            kind,
            name: word.to_owned(),
            candidates: owned(&candidates),
        }),
        Resolved::None => Err(CommandError::NoSuchName {
            kind,
            name: word.to_owned(),
            known: owned(&names),
        }),
    }
}

enum Resolved<'a> {
    One(&'a str),
    Many(Vec<&'a str>),
    None,
}

/// Exact (case-insensitive) match first, then a unique prefix.
fn resolve<'a>(word: &str, names: &[&'a str]) -> Resolved<'a> {
    let word = word.to_lowercase();
    if let Some(exact) = names.iter().find(|n| n.to_lowercase() == word) {
        return Resolved::One(exact);
    }
    let mut prefixed: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.to_lowercase().starts_with(&word))
        .collect();
    prefixed.dedup();
    match prefixed.len() {
        0 => Resolved::None,
        1 => Resolved::One(prefixed[0]),
        _ => Resolved::Many(prefixed),
    }
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// What Tab could complete the last word to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    /// Every name the word could become, in the vocabulary's order (commands sorted).
    pub candidates: Vec<String>,
    /// The longest text all candidates start with (case-insensitively), spelled as the
    /// first candidate spells it.
    pub common_prefix: String,
}

/// Complete the word before the cursor: the command word, then its argument. Only the
/// end of the line is completed; with the cursor elsewhere there are no candidates.
pub fn complete(text: &str, cursor_at_end: bool, vocab: &Vocabulary) -> Completion {
    if !cursor_at_end {
        return Completion::default();
    }
    let (word, rest) = split_command(text);
    let candidates: Vec<&str> = if rest.is_empty() {
        let mut names: Vec<&str> = COMMANDS
            .iter()
            .map(|c| c.name)
            .filter(|n| starts_with_ci(n, word))
            .collect();
        names.sort_unstable();
        names
    } else {
        let Ok(spec) = resolve_command(word) else {
            return Completion::default();
        };
        let (Arg::Name(kind) | Arg::OptionalName(kind)) = spec.arg else {
            return Completion::default();
        };
        let argument = rest.trim_start();
        // One name per command: nothing to offer after it.
        if argument.contains(char::is_whitespace) {
            return Completion::default();
        }
        let mut names: Vec<&str> = kind
            .names(vocab)
            .into_iter()
            .filter(|n| starts_with_ci(n, argument))
            .collect();
        names.dedup();
        names
    };
    let common_prefix = common_prefix(&candidates).to_owned();
    Completion {
        candidates: owned(&candidates),
        common_prefix,
    }
}

/// The line after pressing Tab: a single candidate replaces the last word (followed by a
/// space when it is a command that takes an argument, ready for the next Tab); several
/// extend the word to their common prefix. The text is unchanged when there is nothing
/// to add.
pub fn apply_completion(text: &str, completion: &Completion) -> String {
    let start = text.rfind(char::is_whitespace).map_or(0, |i| {
        i + text[i..].chars().next().map_or(1, char::len_utf8)
    });
    let (before, word) = text.split_at(start);
    let lead = before.trim_start();
    let first_word = lead.strip_prefix(':').unwrap_or(lead).trim().is_empty();
    let (colon, word) = match word.strip_prefix(':') {
        Some(w) if first_word => (":", w),
        _ => ("", word),
    };
    let replacement = match completion.candidates.as_slice() {
        [] => return text.to_owned(),
        [only] => {
            let takes_argument = first_word
                && COMMANDS
                    .iter()
                    .any(|c| c.name == only && c.arg != Arg::Nothing);
            if takes_argument {
                format!("{only} ")
            } else {
                only.clone()
            }
        }
        _ => {
            let prefix = &completion.common_prefix;
            let longer = prefix.chars().count() > word.chars().count();
            if longer && starts_with_ci(prefix, word) {
                prefix.clone()
            } else {
                return text.to_owned();
            }
        }
    };
    format!("{before}{colon}{replacement}")
}

fn starts_with_ci(name: &str, prefix: &str) -> bool {
    let mut name = name.chars().flat_map(char::to_lowercase);
    prefix
        .chars()
        .flat_map(char::to_lowercase)
        .all(|p| name.next() == Some(p))
}

/// The longest prefix of the first name that every name starts with, ignoring case.
fn common_prefix<'a>(names: &[&'a str]) -> &'a str {
    let Some((first, others)) = names.split_first() else {
        return "";
    };
    let mut end = first.len();
    for other in others {
        let shared: usize = first
            .char_indices()
            .zip(other.chars())
            .take_while(|((_, a), b)| a.to_lowercase().eq(b.to_lowercase()))
            .map(|((_, a), _)| a.len_utf8())
            .sum();
        end = end.min(shared);
    }
    &first[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        let v = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect();
        Vocabulary {
            environments: v(&["production", "staging", "stress", "integration"]),
            tabs: v(&[
                "overview",
                "incidents",
                "nodes",
                "replication",
                "backups",
                "alerts",
                "runbooks",
            ]),
            themes: v(&["dark", "light", "mono"]),
            columns: v(&["sev", "env", "node", "age", "état"]),
        }
    }

    fn s(text: &str) -> String {
        text.to_owned()
    }

    #[test]
    fn commands_parse() {
        let cases: Vec<(&str, UiCommand)> = vec![
            (":q", UiCommand::Quit),
            (":quit", UiCommand::Quit),
            ("quit", UiCommand::Quit),
            ("  :  QUIT  ", UiCommand::Quit),
            (":env production", UiCommand::Env(Some(s("production")))),
            (":env prod", UiCommand::Env(Some(s("production")))),
            (":env PROD", UiCommand::Env(Some(s("production")))),
            (":env all", UiCommand::Env(None)),
            (":env a", UiCommand::Env(None)),
            (":env stag", UiCommand::Env(Some(s("staging")))),
            (":e i", UiCommand::Env(Some(s("integration")))),
            (":tab nodes", UiCommand::Tab(s("nodes"))),
            (":tab inc", UiCommand::Tab(s("incidents"))),
            (":tab 1", UiCommand::Tab(s("overview"))),
            (":tab 7", UiCommand::Tab(s("runbooks"))),
            (":ta ru", UiCommand::Tab(s("runbooks"))),
            (":ack", UiCommand::Ack { note: None }),
            (":ack   ", UiCommand::Ack { note: None }),
            (
                ":ack  looking into it, paged db team ",
                UiCommand::Ack {
                    note: Some(s("looking into it, paged db team")),
                },
            ),
            (
                ":a 東京 on it 🦀",
                UiCommand::Ack {
                    note: Some(s("東京 on it 🦀")),
                },
            ),
            (":theme light", UiCommand::Theme(s("light"))),
            (":th l", UiCommand::Theme(s("light"))),
            (":theme MONO", UiCommand::Theme(s("mono"))),
            (
                ":filter sev<=2  env=prod",
                UiCommand::Filter(s("sev<=2  env=prod")),
            ),
            (":fi node~web", UiCommand::Filter(s("node~web"))),
            (":nofilter", UiCommand::ClearFilter),
            (":no", UiCommand::ClearFilter),
            (":freeze", UiCommand::Freeze),
            (":fr", UiCommand::Freeze),
            (":help", UiCommand::Help),
            (":h", UiCommand::Help),
            (":sort", UiCommand::Sort(None)),
            (":sort age", UiCommand::Sort(Some(s("age")))),
            (":s ÉT", UiCommand::Sort(Some(s("état")))),
        ];
        let vocab = vocab();
        for (text, expected) in cases {
            assert_eq!(parse(text, &vocab), Ok(expected), "{text:?}");
        }
    }

    #[test]
    fn exact_names_beat_longer_ones_they_prefix() {
        let mut vocab = vocab();
        vocab.environments = vec![s("prod"), s("production")];
        assert_eq!(
            parse(":env prod", &vocab),
            Ok(UiCommand::Env(Some(s("prod"))))
        );
        assert_eq!(
            parse(":env produ", &vocab),
            Ok(UiCommand::Env(Some(s("production"))))
        );
    }

    #[test]
    fn errors_say_what_would_work() {
        let cases: &[(&str, &str)] = &[
            ("", "no command typed; :help lists them"),
            (":", "no command typed; :help lists them"),
            (
                ":frez",
                "unknown command `:frez` (did you mean `:freeze`?); commands: quit, env, tab, ack, theme, filter, nofilter, freeze, help, sort",
            ),
            (
                ":xyzzy",
                "unknown command `:xyzzy`; commands: quit, env, tab, ack, theme, filter, nofilter, freeze, help, sort",
            ),
            (":t", "`:t` could be `:tab` or `:theme`; type more letters"),
            (
                ":f x",
                "`:f` could be `:filter` or `:freeze`; type more letters",
            ),
            (
                ":env prd",
                "no environment `prd`; environments: production, staging, stress, integration, all",
            ),
            (
                ":env st",
                "environment `st` could be `staging` or `stress`; type more letters",
            ),
            (
                ":env",
                "`:env` needs an environment; environments: production, staging, stress, integration, all",
            ),
            (
                ":env prod staging",
                "`:env` takes one environment; remove `staging`",
            ),
            (
                ":tab 8",
                "no tab `8`; tabs: overview, incidents, nodes, replication, backups, alerts, runbooks",
            ),
            (
                ":tab 0",
                "no tab `0`; tabs: overview, incidents, nodes, replication, backups, alerts, runbooks",
            ),
            (
                ":theme",
                "`:theme` needs a theme; themes: dark, light, mono",
            ),
            (
                ":theme solarized",
                "no theme `solarized`; themes: dark, light, mono",
            ),
            (
                ":sort cpu",
                "no column `cpu`; columns: sev, env, node, age, état",
            ),
            (":sort age sev", "`:sort` takes one column; remove `sev`"),
            (":q now", "`:quit` takes no arguments; remove `now`"),
            (
                ":freeze please",
                "`:freeze` takes no arguments; remove `please`",
            ),
            (
                ":filter",
                "`:filter` needs a query, like `:filter sev<=2 env=prod` (`:nofilter` clears it)",
            ),
        ];
        let vocab = vocab();
        for (text, expected) in cases {
            match parse(text, &vocab) {
                Ok(c) => panic!("{text:?} parsed as {c:?}"),
                Err(e) => assert_eq!(e.to_string(), *expected, "{text:?}"),
            }
        }
    }

    #[test]
    fn empty_vocabulary_lists_say_so() {
        let vocab = Vocabulary::default();
        let err = parse(":sort age", &vocab).map_err(|e| e.to_string());
        assert_eq!(err, Err(s("no column `age`; columns: none available")));
        assert_eq!(parse(":env all", &vocab), Ok(UiCommand::Env(None)));
    }

    #[test]
    fn completion_offers_commands_then_names() {
        let cases: &[(&str, &[&str], &str)] = &[
            (
                "",
                &[
                    "ack", "env", "filter", "freeze", "help", "nofilter", "quit", "sort", "tab",
                    "theme",
                ],
                "",
            ),
            (
                ":",
                &[
                    "ack", "env", "filter", "freeze", "help", "nofilter", "quit", "sort", "tab",
                    "theme",
                ],
                "",
            ),
            (":t", &["tab", "theme"], "t"),
            (":th", &["theme"], "theme"),
            (":F", &["filter", "freeze"], "f"),
            (":x", &[], ""),
            (
                ":env ",
                &["production", "staging", "stress", "integration", "all"],
                "",
            ),
            (":env s", &["staging", "stress"], "st"),
            (":env P", &["production"], "production"),
            (":e a", &["all"], "all"),
            (":tab r", &["replication", "runbooks"], "r"),
            (":theme ", &["dark", "light", "mono"], ""),
            (":sort É", &["état"], "état"),
            (":sort age ", &[], ""),
            (":ack some", &[], ""),
            (":quit ", &[], ""),
            (":bogus x", &[], ""),
        ];
        let vocab = vocab();
        for (text, candidates, prefix) in cases {
            let c = complete(text, true, &vocab);
            assert_eq!(c.candidates, *candidates, "{text:?}");
            assert_eq!(c.common_prefix, *prefix, "{text:?}");
        }
        assert_eq!(complete(":th", false, &vocab), Completion::default());
    }

    #[test]
    fn applying_completion_edits_the_last_word() {
        let cases: &[(&str, &str)] = &[
            (":th", ":theme "),
            ("th", "theme "),
            (":fre", ":freeze"),
            (":t", ":t"),
            (":env s", ":env st"),
            (":env st", ":env st"),
            (":env P", ":env production"),
            (":env  pro", ":env  production"),
            (":theme ", ":theme "),
            (":theme l", ":theme light"),
            (":sort é", ":sort état"),
            (": th", ": theme "),
            ("  :th", "  :theme "),
            (":x", ":x"),
            ("", ""),
        ];
        let vocab = vocab();
        for (text, expected) in cases {
            let c = complete(text, true, &vocab);
            assert_eq!(apply_completion(text, &c), *expected, "{text:?}");
        }
    }

    #[test]
    fn common_prefix_is_char_safe() {
        assert_eq!(common_prefix(&["東京-a", "東京-b"]), "東京-");
        assert_eq!(common_prefix(&["Prod-eu", "production"]), "Prod");
        assert_eq!(common_prefix(&["a"]), "a");
        assert_eq!(common_prefix(&[]), "");
    }

    #[test]
    fn help_covers_every_command() {
        assert_eq!(help().count(), COMMANDS.len());
        assert!(help().all(|(usage, summary)| usage.starts_with(':') && !summary.is_empty()));
    }
}
