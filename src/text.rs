//! Bilingual text: every message the station shows or prints carries both
//! languages as a value, Chinese first. The interface language picks which
//! half is read large; the other half stays underneath for the other reader
//! (a Xinhua photographer and a foreign exchange student at the same desk).

use std::fmt;

/// Interface language (which half of a [`Text`] is read first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
pub enum Language {
    #[default]
    Chinese,
    English,
}

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
/// and refusals. Each error enum writes its message once per language in
/// its `Bilingual` impl, beside its `#[error]` attribute (the
/// `"中文 / English"` line the CLI and the logs print); an inner error
/// contributes its own Chinese to the Chinese half and its English to the
/// English half.
pub trait Bilingual: fmt::Display {
    fn text(&self) -> Text;
}

impl Bilingual for Text {
    fn text(&self) -> Text {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::CodeError;
    use crate::export::ExportError;
    use crate::station::StationError;
    use crate::store::StoreError;

    /// The CLI's line and the window's two halves say the same thing: the
    /// `#[error]` line is the halves joined (spacing round the slash aside).
    fn same_words(e: &dyn Bilingual) {
        let squash = |s: String| s.replace(" /", "/").replace("/ ", "/");
        let t = e.text();
        assert!(!t.zh.is_empty() && !t.en.is_empty(), "{e}");
        assert_eq!(squash(e.to_string()), squash(format!("{}/{}", t.zh, t.en)), "{e}");
    }

    #[test]
    fn each_error_carries_both_languages_and_its_cli_line_is_the_two_joined() {
        let errors: Vec<Box<dyn Bilingual>> = vec![
            Box::new(StationError::NoStudent),
            Box::new(StationError::ReviewPending),
            Box::new(StoreError::DiskFull),
            Box::new(StoreError::NoPin),
            Box::new(CodeError::Empty),
            Box::new(CodeError::TooLong { len: 5000 }),
            Box::new(CodeError::DrillInProduction),
            Box::new(ExportError::NothingToExport),
            Box::new(ExportError::Recipient("x".into())),
            Box::new(ExportError::Template("{zz}".into())),
            Box::new(crate::task::TaskError::Stopped { name: "export" }),
            Box::new(crate::worker::WorkerError { name: "framing".into(), reason: "no threads".into() }),
        ];
        for e in &errors {
            same_words(e.as_ref());
        }
        let t = CodeError::TooLong { len: 5000 }.text();
        assert_eq!(t, Text::new("内容过长（5000 字节，上限 4096）", "input too long (5000 bytes, limit 4096)"));
    }

    #[test]
    fn an_inner_error_speaks_each_language_in_its_own_half() {
        let t = StationError::Store(StoreError::DiskFull).text();
        assert_eq!(t, StoreError::DiskFull.text());
        let nested = crate::station::shutter::ShootRefused::Station(StationError::Store(StoreError::DiskFull)).text();
        assert!(nested.zh.contains("磁盘已满") && !nested.zh.contains("disk full"), "{nested:?}");
        assert!(nested.en.contains("disk full") && !nested.en.contains("磁盘"), "{nested:?}");
    }

    #[test]
    fn text_shows_both_halves_or_one_when_they_are_the_same() {
        let t = Text::new("写入失败", "writing failed: a / b");
        assert_eq!(t.to_string(), "写入失败 / writing failed: a / b");
        assert_eq!(t.in_order(Language::English), ("writing failed: a / b", "写入失败"));
        assert_eq!(Text::same("x").to_string(), "x");
    }
}
