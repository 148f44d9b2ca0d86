//! Bilingual text: every message the station shows or prints carries both
//! languages as a value, Chinese first. The interface language picks which
//! half is read large; the other half stays underneath for the other reader
//! (a Xinhua photographer and a foreign exchange student at the same desk).

use std::fmt;

use crate::settings::Language;

/// One message in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Text { zh: zh.into(), en: en.into() }
    }

    /// The same words in both halves (a path, a number).
    pub fn same(text: impl Into<String>) -> Self {
        let text = text.into();
        Text { zh: text.clone(), en: text }
    }

    /// The half in `lang`, then the other one.
    pub fn in_order(&self, lang: Language) -> (&str, &str) {
        match lang {
            Language::Chinese => (&self.zh, &self.en),
            Language::English => (&self.en, &self.zh),
        }
    }

    /// The half in `lang`.
    pub fn get(&self, lang: Language) -> &str {
        self.in_order(lang).0
    }
}

/// "中文 / English", the way the CLI prints and errors display.
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.en.is_empty() || self.en == self.zh {
            write!(f, "{}", self.zh)
        } else {
            write!(f, "{} / {}", self.zh, self.en)
        }
    }
}

/// Something that can say itself in both languages: the library's errors
/// and refusals. The error enums write their message once, as
/// `"中文 / English"` in their `#[error]` attribute (one source for the CLI,
/// the logs and the screen); [`Bilingual::text`] gives it back as its two
/// halves, cut at the separator the attribute puts there.
pub trait Bilingual: fmt::Display {
    fn text(&self) -> Text {
        from_display(&self.to_string())
    }
}

/// The two halves of a `"中文 / English"` message: cut at the first "/ "
/// that follows a space or a Chinese character or full-width bracket
/// (`"……）/ English"`), with Chinese before it. Only the first such
/// separator cuts: an English half may itself contain " / ".
fn from_display(message: &str) -> Text {
    let wide = |c: char| c >= '\u{2E80}';
    let mut previous: Option<char> = None;
    for (at, c) in message.char_indices() {
        let follows = previous.is_some_and(|p| p == ' ' || wide(p));
        if c == '/' && follows && message[at + 1..].starts_with(' ') && message[..at].chars().any(wide) {
            return Text::new(message[..at].trim_end(), message[at + 1..].trim_start());
        }
        previous = Some(c);
    }
    Text::same(message)
}

impl Bilingual for Text {
    fn text(&self) -> Text {
        self.clone()
    }
}

macro_rules! bilingual {
    ($($t:ty),* $(,)?) => { $(impl Bilingual for $t {})* };
}

bilingual!(
    crate::station::StationError,
    crate::store::StoreError,
    crate::export::ExportError,
    crate::photo::PhotoError,
    crate::settings::SettingsError,
    crate::camera::CameraError,
    crate::code::CodeError,
    crate::worker::WorkerError,
    crate::task::TaskError,
    crate::station::shutter::ShootRefused,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_cut_once_into_its_two_languages() {
        let t = from_display("写入失败 / writing failed: a / b");
        assert_eq!(t, Text::new("写入失败", "writing failed: a / b"));
        assert_eq!(t.to_string(), "写入失败 / writing failed: a / b");
        assert_eq!(t.in_order(Language::English), ("writing failed: a / b", "写入失败"));
        assert_eq!(from_display("only one"), Text::same("only one"));
        assert_eq!(from_display("a / b"), Text::same("a / b"), "no Chinese half: not cut");
        assert_eq!(
            from_display("内容过长（5000 字节，上限 4096）/ input too long"),
            Text::new("内容过长（5000 字节，上限 4096）", "input too long")
        );
        assert_eq!(
            from_display("路径 /tmp/x 不存在 / /tmp/x missing"),
            Text::new("路径 /tmp/x 不存在", "/tmp/x missing")
        );
        assert_eq!(Text::same("x").to_string(), "x");
    }
}
