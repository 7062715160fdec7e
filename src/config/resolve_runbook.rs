//! `[[runbook]]` tables → [`RunbookSpec`]s, refusing at load everything unsafe that can be
//! seen without a target: a shell or interpreter given a command string, a placeholder in
//! the program or in a wrapper's command position, placeholders the target cannot supply,
//! untyped parameters, inline secrets and `confirm = "none"` where production is in reach.
//!
//! Every error is located (`file:line:column`) like the rest of the config.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use regex::Regex;
use toml::Spanned;

use super::error::{ConfigError, ErrorKind};
use super::file::{HttpFile, ParamFile, RunbookFile, SecretRefFile};
use super::resolve::Cx;
use super::settings::{EnvironmentSpec, SecretSource, Tier};
use crate::runbook::TargetKind;
use crate::runbook::spec::{
    ActionSpec, Confirm, DEFAULT_KILL_GRACE, DEFAULT_TIMEOUT, ParamKind, ParamSpec, RunbookSpec,
};
use crate::runbook::template::{self, JsonTemplate, Template};

type Result<T, E = ConfigError> = std::result::Result<T, E>;

/// Programs that take a command string after `-c` (or, for interpreters, inline code after
/// `-c`/`-e`): a substituted value inside that string would be code.
const COMMAND_STRING: &[(&str, &[&str])] = &[
    ("sh", &["c"]),
    ("bash", &["c"]),
    ("dash", &["c"]),
    ("zsh", &["c"]),
    ("ksh", &["c"]),
    ("mksh", &["c"]),
    ("ash", &["c"]),
    ("fish", &["c"]),
    ("csh", &["c"]),
    ("tcsh", &["c"]),
    ("busybox", &["c"]),
    ("su", &["c"]),
    ("python", &["c"]),
    ("python3", &["c"]),
    ("perl", &["e", "E"]),
    ("ruby", &["e"]),
    ("node", &["e", "p"]),
];

/// Programs whose first plain argument is itself a command to run.
const WRAPPERS: &[&str] = &[
    "sudo", "doas", "env", "nice", "nohup", "setsid", "runuser", "xargs", "exec", "ionice", "chrt",
    "taskset", "stdbuf", "command",
];

const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
const MAX_KILL_GRACE: Duration = Duration::from_secs(5 * 60);

fn basename(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

impl Cx<'_> {
    pub(super) fn runbooks(
        &self,
        files: &[Spanned<RunbookFile>],
        environments: &[EnvironmentSpec],
    ) -> Result<Vec<RunbookSpec>> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut out = Vec::with_capacity(files.len());
        for f in files {
            let rb = f.get_ref();
            let name = rb.name.get_ref();
            if !is_runbook_name(name) {
                return Err(self.err(
                    ErrorKind::InvalidValue,
                    rb.name.span(),
                    format!("invalid runbook name `{name}`; expected letters, digits, `_` and `-`"),
                ));
            }
            if let Some(first) = seen.insert(name, self.line_of(rb.name.span().start)) {
                return Err(self.err(
                    ErrorKind::DuplicateRunbook,
                    rb.name.span(),
                    format!(
                        "duplicate runbook name `{name}` (first defined at line {first}); \
                         expected each [[runbook]] to have a unique name"
                    ),
                ));
            }
            out.push(self.runbook(f, environments)?);
        }
        Ok(out)
    }

    fn runbook(
        &self,
        f: &Spanned<RunbookFile>,
        environments: &[EnvironmentSpec],
    ) -> Result<RunbookSpec> {
        let rb = f.get_ref();
        let name = rb.name.get_ref().clone();
        let target = TargetKind::parse(rb.target.get_ref()).ok_or_else(|| {
            let all: Vec<&str> = TargetKind::ALL.iter().map(|k| k.as_str()).collect();
            self.err(
                ErrorKind::InvalidValue,
                rb.target.span(),
                format!(
                    "invalid target `{}` for runbook `{name}`; expected one of: {}",
                    rb.target.get_ref(),
                    all.join(", ")
                ),
            )
        })?;
        let environments_named = match &rb.environments {
            None => None,
            Some(list) => {
                let mut names = Vec::new();
                for e in list {
                    if !environments.iter().any(|c| &c.name == e.get_ref()) {
                        let known: Vec<&str> =
                            environments.iter().map(|c| c.name.as_str()).collect();
                        return Err(self.err(
                            ErrorKind::UnknownEnvironment,
                            e.span(),
                            format!(
                                "runbook `{name}` names environment `{}`, which is not \
                                 configured; expected one of: {}",
                                e.get_ref(),
                                known.join(", ")
                            ),
                        ));
                    }
                    names.push(e.get_ref().clone());
                }
                Some(names)
            }
        };
        let tiers = match &rb.tiers {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|t| {
                        Tier::parse(t.get_ref()).ok_or_else(|| {
                            self.err(
                                ErrorKind::InvalidTier,
                                t.span(),
                                format!(
                                    "invalid tier `{}` in runbook `{name}`; expected one of: \
                                     integration, staging, production",
                                    t.get_ref()
                                ),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
        };
        let confirm = match &rb.confirm {
            None => None,
            Some(c) => Some(Confirm::parse(c.get_ref()).ok_or_else(|| {
                self.err(
                    ErrorKind::InvalidValue,
                    c.span(),
                    format!(
                        "invalid confirm `{}` for runbook `{name}`; expected \"none\", \"yes\" \
                         or \"typed\" (default: typed on production, yes elsewhere)",
                        c.get_ref()
                    ),
                )
            })?),
        };
        if let (Some(Confirm::None), Some(c)) = (confirm, &rb.confirm) {
            let reaches_production = environments
                .iter()
                .filter(|e| {
                    environments_named
                        .as_ref()
                        .is_none_or(|n| n.contains(&e.name))
                })
                .any(|e| {
                    e.tier == Tier::Production
                        && tiers.as_ref().is_none_or(|t| t.contains(&Tier::Production))
                });
            if reaches_production {
                return Err(self.err(
                    ErrorKind::UnsafeConfirm,
                    c.span(),
                    format!(
                        "confirm = \"none\" on runbook `{name}`, which can run in a \
                         production environment; expected \"yes\" or \"typed\" there, or \
                         restrict the runbook with `environments` or `tiers`"
                    ),
                ));
            }
        }
        let timeout = self.bounded_duration(rb.timeout.as_ref(), DEFAULT_TIMEOUT, MAX_TIMEOUT)?;
        let kill_grace =
            self.bounded_duration(rb.kill_grace.as_ref(), DEFAULT_KILL_GRACE, MAX_KILL_GRACE)?;
        if let Some(h) = &rb.hotkey {
            crate::ui::keymap::Key::parse(h.get_ref()).map_err(|e| {
                self.err(
                    ErrorKind::InvalidValue,
                    h.span(),
                    format!("invalid hotkey for runbook `{name}`: {e}"),
                )
            })?;
        }

        let params = rb
            .param
            .iter()
            .map(|p| self.param(&name, p))
            .collect::<Result<Vec<_>>>()?;
        for (i, p) in params.iter().enumerate() {
            if params[..i].iter().any(|q| q.name == p.name) {
                return Err(self.err(
                    ErrorKind::BadParam,
                    rb.param[i].get_ref().name.span(),
                    format!(
                        "parameter `{}` is declared twice in runbook `{name}`",
                        p.name
                    ),
                ));
            }
        }
        let scope = Scope {
            runbook: &name,
            target,
            params: &params,
        };
        let base = self.origin.parent().unwrap_or(Path::new(""));
        let action = match (&rb.exec, &rb.http) {
            (Some(argv), None) => self.exec(&scope, argv, &rb.secret_env, base)?,
            (None, Some(http)) => {
                self.no_secret_env(&name, &rb.secret_env, "http")?;
                self.http(&scope, http)?
            }
            (Some(_), Some(h)) => {
                return Err(self.err(
                    ErrorKind::InvalidValue,
                    h.span(),
                    format!("runbook `{name}` has both `exec` and `http`; expected exactly one"),
                ));
            }
            (None, None) => {
                return Err(self.err(
                    ErrorKind::MissingKey,
                    f.span(),
                    format!(
                        "runbook `{name}` has neither `exec` (an argv array) nor `http` (a \
                         request table); expected exactly one"
                    ),
                ));
            }
        };
        let plan = match (&rb.plan, &rb.plan_http) {
            (Some(argv), None) => Some(self.exec(&scope, argv, &rb.secret_env, base)?),
            (None, Some(http)) => Some(self.http(&scope, http)?),
            (Some(_), Some(h)) => {
                return Err(self.err(
                    ErrorKind::InvalidValue,
                    h.span(),
                    format!(
                        "runbook `{name}` has both `plan` and `plan_http`; expected at most one"
                    ),
                ));
            }
            (None, None) => None,
        };
        Ok(RunbookSpec {
            name,
            description: rb
                .description
                .as_ref()
                .map(|d| d.get_ref().clone())
                .unwrap_or_default(),
            hotkey: rb.hotkey.as_ref().map(|h| h.get_ref().clone()),
            environments: environments_named,
            tiers,
            target,
            confirm,
            timeout,
            kill_grace,
            params,
            action,
            plan,
        })
    }

    fn bounded_duration(
        &self,
        d: Option<&Spanned<super::file::DurationText>>,
        default: Duration,
        max: Duration,
    ) -> Result<Duration> {
        let Some(d) = d else { return Ok(default) };
        let v = self.duration(d)?;
        if v > max {
            return Err(self.err(
                ErrorKind::BadDuration,
                d.span(),
                format!(
                    "duration {} is too long; expected at most {}",
                    humantime::format_duration(v),
                    humantime::format_duration(max)
                ),
            ));
        }
        Ok(v)
    }

    fn param(&self, runbook: &str, p: &Spanned<ParamFile>) -> Result<ParamSpec> {
        let f = p.get_ref();
        let name = f.name.get_ref();
        let bad = |span: Range<usize>, msg: String| self.err(ErrorKind::BadParam, span, msg);
        if !is_placeholder_name(name) {
            return Err(bad(
                f.name.span(),
                format!(
                    "invalid parameter name `{name}` in runbook `{runbook}`; expected \
                     lowercase letters, digits and `_`"
                ),
            ));
        }
        if template::ALWAYS.contains(&name.as_str())
            || TargetKind::ALL.iter().any(|k| {
                let (always, optional) = template::target_placeholders(*k);
                always.contains(&name.as_str()) || optional.contains(&name.as_str())
            })
        {
            return Err(bad(
                f.name.span(),
                format!(
                    "parameter name `{name}` in runbook `{runbook}` is taken by a built-in \
                     placeholder; choose another name"
                ),
            ));
        }
        let stray = |key: &str, present: bool, span: Option<Range<usize>>| -> Result<()> {
            if present {
                return Err(bad(
                    span.unwrap_or(p.span()),
                    format!(
                        "`{key}` does not apply to a parameter of type `{}` (parameter \
                         `{name}` of runbook `{runbook}`)",
                        f.kind.get_ref()
                    ),
                ));
            }
            Ok(())
        };
        let kind = match f.kind.get_ref().as_str() {
            "string" => {
                stray("min", f.min.is_some(), f.min.as_ref().map(Spanned::span))?;
                stray("max", f.max.is_some(), f.max.as_ref().map(Spanned::span))?;
                stray("choices", f.choices.is_some(), None)?;
                let Some(pattern) = &f.pattern else {
                    return Err(bad(
                        p.span(),
                        format!(
                            "string parameter `{name}` of runbook `{runbook}` needs an \
                             allowlist `pattern` (a regex the whole value must match), e.g. \
                             pattern = \"[a-z0-9-]{{1,40}}\""
                        ),
                    ));
                };
                let anchored = format!("^(?:{})$", pattern.get_ref());
                let re = Regex::new(&anchored).map_err(|e| {
                    bad(
                        pattern.span(),
                        format!("invalid pattern for parameter `{name}`: {e}"),
                    )
                })?;
                ParamKind::String { pattern: re }
            }
            "integer" => {
                stray(
                    "pattern",
                    f.pattern.is_some(),
                    f.pattern.as_ref().map(Spanned::span),
                )?;
                stray("choices", f.choices.is_some(), None)?;
                let (Some(min), Some(max)) = (&f.min, &f.max) else {
                    return Err(bad(
                        p.span(),
                        format!(
                            "integer parameter `{name}` of runbook `{runbook}` needs `min` \
                             and `max`"
                        ),
                    ));
                };
                if min.get_ref() > max.get_ref() {
                    return Err(bad(
                        min.span(),
                        format!("min {} is above max {}", min.get_ref(), max.get_ref()),
                    ));
                }
                ParamKind::Integer {
                    min: *min.get_ref(),
                    max: *max.get_ref(),
                }
            }
            "choice" => {
                stray(
                    "pattern",
                    f.pattern.is_some(),
                    f.pattern.as_ref().map(Spanned::span),
                )?;
                stray("min", f.min.is_some(), f.min.as_ref().map(Spanned::span))?;
                stray("max", f.max.is_some(), f.max.as_ref().map(Spanned::span))?;
                let choices: Vec<String> = f
                    .choices
                    .iter()
                    .flatten()
                    .map(|c| c.get_ref().clone())
                    .collect();
                if choices.is_empty() {
                    return Err(bad(
                        p.span(),
                        format!(
                            "choice parameter `{name}` of runbook `{runbook}` needs a \
                             non-empty `choices` array"
                        ),
                    ));
                }
                for c in f.choices.iter().flatten() {
                    if c.get_ref().is_empty()
                        || c.get_ref().starts_with('-')
                        || c.get_ref().chars().any(char::is_control)
                    {
                        return Err(bad(
                            c.span(),
                            format!(
                                "choice `{}` of parameter `{name}` must be non-empty, not start \
                                 with `-` and hold no control character",
                                c.get_ref()
                            ),
                        ));
                    }
                }
                ParamKind::Choice(choices)
            }
            other => {
                return Err(bad(
                    f.kind.span(),
                    format!(
                        "invalid parameter type `{other}`; expected \"string\" (with \
                         `pattern`), \"integer\" (with `min` and `max`) or \"choice\" (with \
                         `choices`)"
                    ),
                ));
            }
        };
        let mut spec = ParamSpec {
            name: name.clone(),
            description: f
                .description
                .as_ref()
                .map(|d| d.get_ref().clone())
                .unwrap_or_default(),
            kind,
            default: None,
        };
        if let Some(d) = &f.default {
            let text = match d.get_ref() {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                _ => {
                    return Err(bad(
                        d.span(),
                        format!("default of parameter `{name}` must be a string or an integer"),
                    ));
                }
            };
            let checked = template::check_param(&spec, &text)
                .map_err(|e| bad(d.span(), format!("invalid default: {e}")))?;
            spec.default = Some(checked);
        }
        Ok(spec)
    }

    fn no_secret_env(
        &self,
        runbook: &str,
        secret_env: &BTreeMap<String, Spanned<SecretRefFile>>,
        kind: &str,
    ) -> Result<()> {
        if let Some((_, v)) = secret_env.iter().next() {
            return Err(self.err(
                ErrorKind::InvalidValue,
                v.span(),
                format!(
                    "`secret_env` applies to exec runbooks; runbook `{runbook}` is {kind} — \
                     use `auth` in its request table"
                ),
            ));
        }
        Ok(())
    }

    /// A placeholder-bearing string, parsed, with each placeholder checked against what
    /// the runbook's target and parameters supply.
    fn template(&self, scope: &Scope<'_>, s: &Spanned<String>) -> Result<Template> {
        let t = Template::parse(s.get_ref()).map_err(|e| {
            self.err(
                ErrorKind::BadPlaceholder,
                self.inner_span(s, e.offset),
                format!("in runbook `{}`: {e}", scope.runbook),
            )
        })?;
        for var in t.vars() {
            if let Err(msg) = scope.check(var) {
                let offset = s.get_ref().find(&format!("{{{var}}}")).unwrap_or(0);
                return Err(self.err(ErrorKind::BadPlaceholder, self.inner_span(s, offset), msg));
            }
        }
        Ok(t)
    }

    fn exec(
        &self,
        scope: &Scope<'_>,
        argv: &Spanned<Vec<Spanned<String>>>,
        secret_env: &BTreeMap<String, Spanned<SecretRefFile>>,
        base: &Path,
    ) -> Result<ActionSpec> {
        let words = argv.get_ref();
        let Some(program) = words.first() else {
            return Err(self.err(
                ErrorKind::InvalidValue,
                argv.span(),
                format!(
                    "empty argv in runbook `{}`; expected [\"program\", \"arg\", …]",
                    scope.runbook
                ),
            ));
        };
        if program.get_ref().trim().is_empty() {
            return Err(self.err(
                ErrorKind::InvalidValue,
                program.span(),
                format!("empty program name in runbook `{}`", scope.runbook),
            ));
        }
        if Template::parse(program.get_ref()).map_or(true, |t| t.has_vars()) {
            return Err(self.err(
                ErrorKind::BadPlaceholder,
                program.span(),
                format!(
                    "the program of runbook `{}` holds a placeholder; a substituted value \
                     must never choose what runs — name the program literally",
                    scope.runbook
                ),
            ));
        }
        self.refuse_command_strings(scope.runbook, words)?;
        let templates = words
            .iter()
            .map(|w| self.template(scope, w))
            .collect::<Result<Vec<_>>>()?;
        self.refuse_wrapped_placeholders(scope.runbook, words, &templates)?;
        let mut secrets = Vec::new();
        for (var, r) in secret_env {
            if !is_env_name(var) || var.starts_with("WATCHDECK_") {
                return Err(self.err(
                    ErrorKind::BadSecretRef,
                    r.span(),
                    format!(
                        "invalid secret_env variable `{var}` in runbook `{}`; expected an \
                         upper-case name (A-Z, 0-9, _) not starting with WATCHDECK_",
                        scope.runbook
                    ),
                ));
            }
            secrets.push((var.clone(), self.secret_ref(scope.runbook, r, base)?));
        }
        Ok(ActionSpec::Exec {
            argv: templates,
            secret_env: secrets,
        })
    }

    fn secret_ref(
        &self,
        runbook: &str,
        r: &Spanned<SecretRefFile>,
        base: &Path,
    ) -> Result<SecretSource> {
        match (&r.get_ref().file, &r.get_ref().env) {
            (Some(f), None) => self.secret_source("file", f, base),
            (None, Some(e)) => self.secret_source("env", e, base),
            _ => Err(self.err(
                ErrorKind::BadSecretRef,
                r.span(),
                format!(
                    "secret_env in runbook `{runbook}`: expected exactly one of \
                     {{ file = \"/path\" }} or {{ env = \"VAR\" }}"
                ),
            )),
        }
    }

    /// `sh -c "…"`, `bash -lc`, `python3 -c`, `su -c`: anywhere in argv (so `sudo bash -c`
    /// and `env sh -c` are caught too).
    fn refuse_command_strings(&self, runbook: &str, words: &[Spanned<String>]) -> Result<()> {
        for (i, w) in words.iter().enumerate() {
            let Some((prog, flags)) = COMMAND_STRING
                .iter()
                .find(|(p, _)| basename(w.get_ref()) == *p)
            else {
                continue;
            };
            for later in &words[i + 1..] {
                let a = later.get_ref();
                let is_flag = a.starts_with('-') && !a.starts_with("--");
                if is_flag && flags.iter().any(|f| a[1..].contains(f)) {
                    return Err(self.err(
                        ErrorKind::ShellCommand,
                        later.span(),
                        format!(
                            "runbook `{runbook}` runs `{prog} {a}`: a command string is \
                             interpreted by {prog}, so a substituted value could become a \
                             second command; give the program and its arguments as argv \
                             elements instead (e.g. [\"systemctl\", \"restart\", \"{{service}}\"]), \
                             or put the logic in a script and run the script"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// `sudo {node}` would let a value choose the command: the first plain argument after
    /// a wrapper program must be literal.
    fn refuse_wrapped_placeholders(
        &self,
        runbook: &str,
        words: &[Spanned<String>],
        templates: &[Template],
    ) -> Result<()> {
        for (i, w) in words.iter().enumerate() {
            if !WRAPPERS.contains(&basename(w.get_ref())) {
                continue;
            }
            let command = (i + 1..words.len()).find(|&j| {
                let a = words[j].get_ref();
                // `env NAME=value cmd`: assignments with a literal name come before it.
                let assignment = a.split_once('=').is_some_and(|(k, _)| {
                    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
                !a.starts_with('-') && !assignment
            });
            if let Some(j) = command
                && templates[j].has_vars()
            {
                return Err(self.err(
                    ErrorKind::BadPlaceholder,
                    words[j].span(),
                    format!(
                        "in runbook `{runbook}`, `{}` runs its argument as a command; a \
                         placeholder there would let a value choose what runs — name the \
                         command literally",
                        w.get_ref()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn http(&self, scope: &Scope<'_>, h: &Spanned<HttpFile>) -> Result<ActionSpec> {
        let f = h.get_ref();
        let method = match &f.method {
            None => "POST".to_owned(),
            Some(m) => {
                let up = m.get_ref().to_ascii_uppercase();
                if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&up.as_str()) {
                    return Err(self.err(
                        ErrorKind::InvalidValue,
                        m.span(),
                        format!(
                            "invalid method `{}` in runbook `{}`; expected GET, POST, PUT, \
                             PATCH or DELETE",
                            m.get_ref(),
                            scope.runbook
                        ),
                    ));
                }
                up
            }
        };
        let url = self.template(scope, &f.url)?;
        // Check the URL's shape with every placeholder standing in as a plain name.
        let mut stand_in = template::Values::default();
        for v in url.vars() {
            stand_in.insert(v, "x");
        }
        let probe = url.render(&stand_in).unwrap_or_default();
        match url::Url::parse(&probe) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => {
                return Err(self.err(
                    ErrorKind::BadUrl,
                    f.url.span(),
                    format!(
                        "invalid URL `{}` in runbook `{}`; expected an absolute http(s) URL",
                        f.url.get_ref(),
                        scope.runbook
                    ),
                ));
            }
        }
        let mut headers = Vec::new();
        for (k, v) in &f.headers {
            let valid_name = !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_!#$%&'*+.^`|~".contains(&b));
            if !valid_name {
                return Err(self.err(
                    ErrorKind::InvalidValue,
                    v.span(),
                    format!("invalid header name `{k}` in runbook `{}`", scope.runbook),
                ));
            }
            if k.eq_ignore_ascii_case("authorization") {
                return Err(self.err(
                    ErrorKind::InlineSecret,
                    v.span(),
                    format!(
                        "inline `Authorization` header in runbook `{}`: secrets must not be \
                         written into the config; use auth = {{ bearer_token_file = \"…\" }} \
                         or {{ bearer_token_env = \"…\" }}",
                        scope.runbook
                    ),
                ));
            }
            headers.push((k.clone(), self.template(scope, v)?));
        }
        let auth = f.auth.as_ref().map(|a| self.auth(a)).transpose()?;
        let body = match &f.body {
            None => None,
            Some(b) => {
                let mut first_err = None;
                let t = JsonTemplate::from_toml(b.get_ref(), &mut |s| {
                    let t = Template::parse(s)?;
                    for var in t.vars() {
                        if let Err(msg) = scope.check(var) {
                            first_err.get_or_insert(msg);
                        }
                    }
                    Ok(t)
                })
                .map_err(|e| {
                    self.err(
                        ErrorKind::BadPlaceholder,
                        b.span(),
                        format!("in the body of runbook `{}`: {e}", scope.runbook),
                    )
                })?;
                if let Some(msg) = first_err {
                    return Err(self.err(ErrorKind::BadPlaceholder, b.span(), msg));
                }
                Some(t)
            }
        };
        Ok(ActionSpec::Http {
            method,
            url,
            headers,
            auth,
            body,
        })
    }
}

/// What placeholders a runbook may use.
struct Scope<'a> {
    runbook: &'a str,
    target: TargetKind,
    params: &'a [ParamSpec],
}

impl Scope<'_> {
    fn check(&self, var: &str) -> std::result::Result<(), String> {
        let (always, optional) = template::target_placeholders(self.target);
        if template::ALWAYS.contains(&var)
            || always.contains(&var)
            || optional.contains(&var)
            || self.params.iter().any(|p| p.name == var)
        {
            return Ok(());
        }
        let mut known: Vec<String> = template::ALWAYS
            .iter()
            .chain(always)
            .chain(optional)
            .map(|s| format!("{{{s}}}"))
            .collect();
        known.extend(self.params.iter().map(|p| format!("{{{}}}", p.name)));
        let other_kind = TargetKind::ALL.iter().find(|k| {
            let (a, o) = template::target_placeholders(**k);
            a.contains(&var) || o.contains(&var)
        });
        let why = match other_kind {
            Some(k) => format!(
                "`{{{var}}}` is supplied by {} targets, and runbook `{}` has target = \"{}\"",
                k.as_str(),
                self.runbook,
                self.target.as_str()
            ),
            None => format!(
                "unknown placeholder `{{{var}}}` in runbook `{}` (declare it as a \
                 [[runbook.param]] if it is a parameter)",
                self.runbook
            ),
        };
        Err(format!("{why}; available: {}", known.join(", ")))
    }
}

fn is_runbook_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn is_placeholder_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}
