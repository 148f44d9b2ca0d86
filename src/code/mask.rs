//! The masking rule for names and ID numbers (教学服〔2022〕10号, seed 000).
//!
//! One function masks, one validates; drill-code generation, roster import and
//! code validation all go through here so the rule lives in exactly one place.
//!
//! Rule: a name keeps its first and last character, every character between
//! is `*` (`张*丰`, `欧阳**明`); a two-character name keeps only its first
//! character (`李*`). Characters are Unicode scalar values, so a name with a
//! character outside the BMP (`李𠮷`) masks as two characters, never as bytes.
//!
//! Minority names joined by a middle dot (`阿依古丽·买买提`): CHSI does not
//! document what it does with the dot. We keep the dot visible when masking
//! (it identifies nobody, and keeps the shape a teacher recognises:
//! `阿***·**提`), and when validating we accept a dot or a `*` in those
//! positions, so either CHSI behaviour scans.

/// Separators that may stand between the parts of a minority or foreign name.
const NAME_SEPARATORS: [char; 5] = ['·', '•', '・', '．', '‧'];

/// The mask character.
pub const MASK: char = '*';

fn is_separator(c: char) -> bool {
    NAME_SEPARATORS.contains(&c)
}

/// Masks a full name by the rule. Surrounding whitespace is trimmed first.
///
/// A one-character name is returned as a single `*`-free character followed
/// by nothing to hide, which [`is_masked_name`] refuses: the caller must not
/// accept such a roster row silently (see [`mask_name_checked`]).
pub fn mask_name(full: &str) -> String {
    let chars: Vec<char> = full.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => chars.iter().collect(),
        2 => format!("{}{MASK}", chars[0]),
        n => {
            let mut out = String::with_capacity(full.len());
            out.push(chars[0]);
            for &c in &chars[1..n - 1] {
                out.push(if is_separator(c) { c } else { MASK });
            }
            out.push(chars[n - 1]);
            out
        }
    }
}

/// Masks a name and checks the result, for readers of rosters: `None` when the
/// name cannot be masked (empty, a single character, or already masked).
pub fn mask_name_checked(full: &str) -> Option<String> {
    let full = full.trim();
    if full.contains(MASK) {
        return None;
    }
    let masked = mask_name(full);
    is_masked_name(&masked).then_some(masked)
}

/// True when `name` is a name masked by the rule (never a clear name).
pub fn is_masked_name(name: &str) -> bool {
    let chars: Vec<char> = name.chars().collect();
    let n = chars.len();
    if n < 2 {
        return false;
    }
    let first = chars[0];
    let last = chars[n - 1];
    let visible = |c: char| c != MASK && !is_separator(c) && !c.is_whitespace() && !c.is_control();
    if !visible(first) {
        return false;
    }
    if n == 2 {
        return last == MASK;
    }
    if !visible(last) {
        return false;
    }
    let middle = &chars[1..n - 1];
    middle.iter().all(|&c| c == MASK || is_separator(c)) && middle.contains(&MASK)
}

/// The last four characters of an ID number, upper-cased (`x` → `X`).
/// `None` when the number has fewer than four characters.
pub fn id_tail(id_number: &str) -> Option<String> {
    let chars: Vec<char> = id_number.trim().chars().collect();
    if chars.len() < 4 {
        return None;
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    let tail = tail.to_ascii_uppercase();
    is_id_tail(&tail).then_some(tail)
}

/// True when `s` is exactly four of `[0-9X]`.
pub fn is_id_tail(s: &str) -> bool {
    s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit() || b == b'X')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_by_the_rule() {
        assert_eq!(mask_name("张三丰"), "张*丰");
        assert_eq!(mask_name("欧阳娜娜"), "欧**娜");
        assert_eq!(mask_name("欧阳明"), "欧*明");
        assert_eq!(mask_name("李四"), "李*");
        assert_eq!(mask_name("王喆"), "王*");
        assert_eq!(mask_name("  司马相如 "), "司**如");
    }

    #[test]
    fn masks_minority_names_keeping_the_dot() {
        assert_eq!(mask_name("阿依古丽·买买提"), "阿***·**提");
        assert!(is_masked_name("阿***·**提"));
        // A CHSI that masks the dot too must still scan.
        assert!(is_masked_name("阿******提"));
    }

    #[test]
    fn masks_characters_outside_the_bmp_as_one_character() {
        assert_eq!(mask_name("李𠮷"), "李*");
        assert_eq!(mask_name("𠮷野家"), "𠮷*家");
        assert_eq!(mask_name("张𠮷明"), "张*明");
        assert!(is_masked_name("𠮷*家"));
    }

    #[test]
    fn every_masked_name_validates_and_no_clear_name_does() {
        for full in ["欧阳娜娜", "阿依古丽·买买提", "李𠮷", "王喆", "张三丰", "李四", "赵赟堃"]
        {
            let m = mask_name(full);
            assert!(is_masked_name(&m), "{full} -> {m}");
            assert!(!is_masked_name(full), "{full} must not pass as masked");
        }
    }

    #[test]
    fn rejects_what_is_not_masked() {
        for bad in ["", "*", "**", "李", "*李", "张三丰", "张*三*", "*三丰", "张**", "张·丰", "张 *丰"] {
            assert!(!is_masked_name(bad), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn checked_masking_refuses_what_cannot_be_masked() {
        assert_eq!(mask_name_checked("李"), None);
        assert_eq!(mask_name_checked(""), None);
        assert_eq!(mask_name_checked("张*丰"), None);
        assert_eq!(mask_name_checked("王喆").as_deref(), Some("王*"));
    }

    #[test]
    fn id_tail_keeps_four_and_uppercases_x() {
        assert_eq!(id_tail("36010219990101123x").as_deref(), Some("123X"));
        assert_eq!(id_tail("360102199901011234").as_deref(), Some("1234"));
        assert_eq!(id_tail("123"), None);
        assert_eq!(id_tail("12345A"), None);
        assert!(is_id_tail("001X"));
        assert!(!is_id_tail("01X"));
        assert!(!is_id_tail("x123"));
    }
}
