//! `gradcap decode`'s work: texts and image files in, one answer per input
//! out (the capture code read, the raw texts found, or why there is none).
//! Each answer is a JSON object and a line for people; the command line
//! prints one or the other as the answers come, and tests read them here.

use std::path::PathBuf;
use std::time::Instant;

use serde_json::{json, Value};

use crate::code::{self, CaptureCode};
use crate::scan::{decode_file_with, Effort, ScanError};
use crate::text::{Bilingual, Text};

/// Images `decode` reads: the replay camera's, and PGM (the scanner's own test frames).
pub const DECODE_IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "gif", "bmp", "pgm"];

/// What `decode` does with each text it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Parse it as a capture code and describe it (masked).
    CaptureCode,
    /// Report the text as read, whatever it holds.
    Raw,
}

/// One input's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The JSON object `decode --json` prints (keys: `input` or `file`, then
    /// the code's fields, or `text`/`texts`, or `error`; `ms` for images).
    pub json: Value,
    /// The line printed for people.
    pub line: String,
    /// False when the input held no usable code: the run then exits 1.
    pub ok: bool,
}

/// Why a decode run stopped before its answers were all given.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("没有可识读的图片：{0} / no images to decode in {0}")]
    NoImages(String),
    /// The answer could not be written (stdout closed, say).
    #[error("无法输出结果 / cannot write the answer: {0}")]
    Output(#[from] std::io::Error),
}

impl Bilingual for BatchError {
    fn text(&self) -> Text {
        match self {
            Self::NoImages(shown) => {
                Text::new(format!("没有可识读的图片：{shown}"), format!("no images to decode in {shown}"))
            }
            Self::Output(e) => Text::new(format!("无法输出结果：{e}"), format!("cannot write the answer: {e}")),
        }
    }
}

/// A capture code in one line (only the masked fields a code carries).
pub fn describe(c: &CaptureCode) -> String {
    format!("{} {} 学号 {} 证件尾号 {} {} {} cjm={}", c.xm, c.bh, c.xh, c.zjhm, c.fy, c.cc, c.cjm)
}

/// Decodes `texts`, then every image in `images` (folders are expanded to
/// the images in them), calling `each` with each answer as it is ready.
/// Returns whether every input held a usable code.
pub fn decode_inputs(
    reading: Reading,
    effort: Effort,
    texts: &[String],
    images: &[PathBuf],
    each: &mut dyn FnMut(&Answer) -> std::io::Result<()>,
) -> Result<bool, BatchError> {
    let mut all_ok = true;
    let mut give = |answer: Answer| -> Result<(), BatchError> {
        all_ok &= answer.ok;
        each(&answer)?;
        Ok(())
    };
    for text in texts {
        give(text_answer(reading, text))?;
    }
    let files = crate::paths::expand_images(images, &DECODE_IMAGE_EXTENSIONS);
    if !images.is_empty() && files.is_empty() {
        let shown: Vec<String> = images.iter().map(|p| p.display().to_string()).collect();
        return Err(BatchError::NoImages(shown.join(", ")));
    }
    for path in files {
        let file = path.display().to_string();
        let started = Instant::now();
        let found = decode_file_with(&path, effort);
        let elapsed_ms = (started.elapsed().as_secs_f64() * 1e5).round() / 100.0;
        give(file_answer(reading, &file, found, elapsed_ms))?;
    }
    Ok(all_ok)
}

fn text_answer(reading: Reading, text: &str) -> Answer {
    if reading == Reading::Raw {
        return Answer { json: json!({"input": text, "text": text}), line: text.to_string(), ok: true };
    }
    match code::parse(text) {
        Ok(c) => {
            let mut obj = c.to_json();
            obj.insert("input".into(), Value::String(text.to_string()));
            Answer { json: Value::Object(obj), line: describe(&c), ok: true }
        }
        Err(e) => {
            // A refused text that may hold a clear name or ID number is not echoed.
            let shown = code::refused_input_shown(text, &e);
            Answer { json: json!({"input": shown, "error": e.to_string()}), line: format!("{shown}: {e}"), ok: false }
        }
    }
}

fn file_answer(reading: Reading, file: &str, found: Result<Vec<String>, ScanError>, elapsed_ms: f64) -> Answer {
    let refused = |json: Value, e: String| Answer { json, line: format!("{file}: {e}"), ok: false };
    let found = match found {
        Ok(found) if !found.is_empty() => found,
        Ok(_) => {
            let e = ScanError::NoCode.to_string();
            return refused(json!({"file": file, "error": e, "ms": elapsed_ms}), e);
        }
        Err(e) => return refused(json!({"file": file, "error": e.to_string()}), e.to_string()),
    };
    if reading == Reading::Raw {
        let json = if found.len() == 1 {
            json!({"file": file, "text": found[0], "ms": elapsed_ms})
        } else {
            json!({"file": file, "texts": found, "ms": elapsed_ms})
        };
        return Answer { json, line: format!("{file}: {}", found.join(" | ")), ok: true };
    }
    // The first text that is a capture code; else the reason the first is not.
    let parsed: Vec<_> = found.iter().map(|t| code::parse(t)).collect();
    match parsed.iter().find_map(|p| p.as_ref().ok()) {
        Some(c) => {
            let mut obj = c.to_json();
            obj.insert("file".into(), Value::String(file.to_string()));
            Answer { json: Value::Object(obj), line: format!("{file}: {}", describe(c)), ok: true }
        }
        None => {
            let e = parsed.into_iter().find_map(Result::err).map(|e| e.to_string()).unwrap_or_default();
            refused(json!({"file": file, "error": e}), e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(reading: Reading, texts: &[&str], images: &[PathBuf]) -> (Result<bool, BatchError>, Vec<Answer>) {
        let texts: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
        let mut answers = Vec::new();
        let result = decode_inputs(reading, Effort::Thorough, &texts, images, &mut |a| {
            answers.push(a.clone());
            Ok(())
        });
        (result, answers)
    }

    #[test]
    fn a_refused_text_is_not_echoed_and_the_run_is_not_ok() {
        let example = crate::code::drill::DrillStudent::example("2021000007").example_payload();
        let clear = CaptureCode { zjhm: "110101200001011234".into(), ..code::parse(&example).unwrap() };
        let (result, answers) = collect(Reading::CaptureCode, &[&clear.to_payload()], &[]);
        assert!(!result.unwrap());
        assert_eq!(answers.len(), 1);
        assert!(!answers[0].line.contains("110101200001011234"), "{}", answers[0].line);
        assert!(!answers[0].json.to_string().contains("110101200001011234"));
        assert!(answers[0].json.get("error").is_some());
        // Raw: the text as given, and ok.
        let (result, answers) = collect(Reading::Raw, &["hello"], &[]);
        assert!(result.unwrap());
        assert_eq!(answers[0].json["text"], "hello");
    }

    #[test]
    fn an_image_with_a_code_is_read_and_a_blank_one_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let payload = crate::code::drill::DrillStudent::example("2021000007").example_payload();
        crate::code::drill::QrMatrix::encode(&payload).unwrap().to_luma(4).save(dir.path().join("a.png")).unwrap();
        image::GrayImage::from_pixel(200, 200, image::Luma([255])).save(dir.path().join("b.png")).unwrap();
        let (result, answers) = collect(Reading::CaptureCode, &[], &[dir.path().to_path_buf()]);
        assert!(!result.unwrap(), "the blank image makes the run fail");
        assert_eq!(answers.len(), 2);
        let read = answers.iter().find(|a| a.json["file"].as_str().unwrap().ends_with("a.png")).unwrap();
        assert!(read.ok);
        assert_eq!(read.json["xh"], crate::code::parse(&payload).unwrap().xh);
        let blank = answers.iter().find(|a| a.json["file"].as_str().unwrap().ends_with("b.png")).unwrap();
        assert!(!blank.ok && blank.json["ms"].is_number());
    }

    #[test]
    fn a_folder_without_images_is_an_error_in_both_languages() {
        let dir = tempfile::tempdir().unwrap();
        let (result, answers) = collect(Reading::CaptureCode, &[], &[dir.path().to_path_buf()]);
        assert!(answers.is_empty());
        let e = result.unwrap_err();
        assert!(matches!(e, BatchError::NoImages(_)));
        assert!(e.text().zh.contains("没有可识读的图片") && e.text().en.contains("no images to decode"));
    }
}
