//! The operator PIN, kept in the station database — never in a settings
//! file, so no data folder can bring a PIN of its own for this database.
//!
//! Stored as an Argon2id hash (19 MiB, 2 passes: a 4–8 digit PIN costs an
//! attacker with the file days instead of the minutes a salted SHA-256 did).
//! Wrong PINs are slowed: after three, each try must wait twice as long as
//! the one before (2 s, 4 s, … at most 5 min), and every failure is in the
//! audit log. Changing the PIN needs the old one. The only way round a
//! forgotten PIN is `gradcap pin reset`, which says what it costs: the reset
//! stands in the audit log for ever and every later export's manifest names
//! its time.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rusqlite::{params, OptionalExtension};
use serde_json::json;

use super::audit::{self, AuditRefs};
use super::{Store, StoreError};

/// Free tries before the waiting starts.
const FREE_TRIES: i64 = 3;
/// The longest wait between two tries.
const MAX_WAIT_S: i64 = 300;

fn hasher() -> argon2::Argon2<'static> {
    // OWASP's Argon2id minimum: 19 MiB, 2 iterations, 1 lane.
    let params = argon2::Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// How long the next try must wait after `failures` wrong PINs.
pub fn wait_after(failures: i64) -> i64 {
    if failures < FREE_TRIES {
        0
    } else {
        (1i64 << (failures - FREE_TRIES + 1).min(20)).min(MAX_WAIT_S)
    }
}

fn valid_format(pin: &str) -> bool {
    (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

fn seconds_between(earlier: &str, later: &str) -> i64 {
    match (chrono::DateTime::parse_from_rfc3339(earlier), chrono::DateTime::parse_from_rfc3339(later)) {
        (Ok(a), Ok(b)) => (b - a).num_seconds(),
        _ => i64::MAX,
    }
}

impl Store {
    /// True once an operator PIN is set for this database.
    pub fn has_pin(&self) -> Result<bool, StoreError> {
        Ok(self.conn().query_row("SELECT EXISTS (SELECT 1 FROM operator_pin)", [], |r| r.get(0))?)
    }

    /// Checks the PIN, slowed and audited as above.
    pub fn check_pin(&mut self, pin: &str, now: &str) -> Result<(), StoreError> {
        // The whole try runs in one IMMEDIATE transaction: processes started
        // at once take turns, and each sees the failures before it.
        let tx = self.conn_mut().transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let row: Option<(String, i64, Option<String>)> = tx
            .query_row("SELECT phc, failures, last_failure_at FROM operator_pin WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((phc, failures, last)) = row else { return Err(StoreError::NoPin) };
        let waited = last.as_deref().map_or(i64::MAX, |l| seconds_between(l, now));
        let wait = wait_after(failures);
        if waited < wait {
            return Err(StoreError::PinWait { wait_s: wait - waited.max(0) });
        }
        let ok = PasswordHash::new(&phc).is_ok_and(|h| hasher().verify_password(pin.as_bytes(), &h).is_ok());
        if ok {
            if failures > 0 {
                tx.execute("UPDATE operator_pin SET failures = 0, last_failure_at = NULL WHERE id = 1", [])?;
                tx.commit()?;
            }
            return Ok(());
        }
        tx.execute("UPDATE operator_pin SET failures = failures + 1, last_failure_at = ?1 WHERE id = 1", params![now])?;
        audit::append(&tx, now, AuditRefs::default(), "pin_failed", &json!({"failures": failures + 1}))?;
        tx.commit()?;
        Err(StoreError::WrongPin { wait_s: wait_after(failures + 1) })
    }

    /// Sets the PIN. Once one is set, changing it needs the old one.
    pub fn set_pin(&mut self, new: &str, old: Option<&str>, now: &str) -> Result<(), StoreError> {
        if !valid_format(new) {
            return Err(StoreError::PinFormat);
        }
        let had = self.has_pin()?;
        if had {
            self.check_pin(old.ok_or(StoreError::OldPinNeeded)?, now)?;
        }
        let salt = {
            let seed = format!("{now}|{}|{:?}|{}", std::process::id(), std::time::SystemTime::now(), new.len());
            let digest = super::sha256_hex(seed.as_bytes());
            SaltString::encode_b64(&digest.as_bytes()[..16])
                .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?
        };
        let phc = hasher()
            .hash_password(new.as_bytes(), &salt)
            .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?
            .to_string();
        let tx = self.conn_mut().transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO operator_pin (id, phc, set_at) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET phc = ?1, set_at = ?2, failures = 0, last_failure_at = NULL",
            params![phc, now],
        )?;
        audit::append(&tx, now, AuditRefs::default(), if had { "pin_changed" } else { "pin_set" }, &json!({}))?;
        tx.commit()?;
        Ok(())
    }

    /// Removes a forgotten PIN (`gradcap pin reset`): recorded in the audit
    /// log for ever, and named in every later export's manifest.
    pub fn reset_pin(&mut self, now: &str) -> Result<(), StoreError> {
        let tx = self.conn_mut().transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM operator_pin", [])?;
        audit::append(&tx, now, AuditRefs::default(), "pin_reset", &json!({}))?;
        tx.commit()?;
        Ok(())
    }

    /// When the PIN was last reset, if ever (for export manifests).
    pub fn last_pin_reset(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT at FROM audit WHERE action = 'pin_reset' ORDER BY id DESC LIMIT 1", [], |r| r.get(0))
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> String {
        format!("2026-06-01T09:{:02}:{:02}+08:00", s / 60, s % 60)
    }

    #[test]
    fn the_pin_is_argon2id_in_the_database_slowed_audited_and_changed_only_with_the_old_one() {
        let mut store = Store::open_in_memory().unwrap();
        assert!(matches!(store.check_pin("1234", &at(0)), Err(StoreError::NoPin)), "no PIN: nothing unlocks");
        assert!(matches!(store.set_pin("12a4", None, &at(0)), Err(StoreError::PinFormat)));
        store.set_pin("2468", None, &at(0)).unwrap();
        let phc: String = store.conn().query_row("SELECT phc FROM operator_pin", [], |r| r.get(0)).unwrap();
        assert!(phc.starts_with("$argon2id$") && !phc.contains("2468"), "{phc}");
        store.check_pin("2468", &at(1)).unwrap();
        // A new PIN needs the old one.
        assert!(matches!(store.set_pin("1357", None, &at(2)), Err(StoreError::OldPinNeeded)));
        // Wrong PINs: three free tries, then a growing wait, each audited.
        for i in 0..3 {
            assert!(matches!(store.check_pin("0000", &at(3 + i)), Err(StoreError::WrongPin { .. })));
        }
        assert!(matches!(store.check_pin("2468", &at(6)), Err(StoreError::PinWait { .. })), "even the right PIN waits");
        assert!(matches!(store.check_pin("0000", &at(8)), Err(StoreError::WrongPin { wait_s: 4 })));
        assert!(matches!(store.check_pin("2468", &at(10)), Err(StoreError::PinWait { wait_s: 2 })));
        store.check_pin("2468", &at(12)).unwrap();
        let failed = store.audit_log().unwrap().iter().filter(|a| a.action == "pin_failed").count();
        assert_eq!(failed, 4);
        store.set_pin("1357", Some("2468"), &at(20)).unwrap();
        store.check_pin("1357", &at(21)).unwrap();
        assert_eq!(wait_after(30), MAX_WAIT_S);
        // The reset is recorded.
        store.reset_pin(&at(30)).unwrap();
        assert!(!store.has_pin().unwrap());
        assert_eq!(store.last_pin_reset().unwrap(), Some(at(30)));
    }
}
