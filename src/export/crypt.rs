//! Encrypted bundles (age, X25519 recipients) and their decryption.
//!
//! An encrypted bundle is a folder holding `bundle.tar.age` (the whole plain
//! bundle as a tar under its own folder name, encrypted to the recipient as
//! it is written: no plaintext ever touches the drive), `SHA256SUMS` of the
//! ciphertext and a `说明.txt` without personal data. Standard tools open it
//! too: `age -d -i key.txt bundle.tar.age | tar -x`.

use std::io::{BufReader, Write};
use std::path::{Component, Path, PathBuf};

use age::secrecy::ExposeSecret as _;
use sha2::{Digest as _, Sha256};

use super::bundle::{verify_bundle, Sink, ENCRYPTED_FILE};
use super::{write_err, ExportError};
use crate::store::sha256_hex;

/// Parses an age recipient (`age1…`).
pub(crate) fn parse_recipient(text: &str) -> Result<age::x25519::Recipient, ExportError> {
    text.trim().parse::<age::x25519::Recipient>().map_err(|e| ExportError::Recipient(format!("{}: {e}", text.trim())))
}

/// A writer that hashes and counts what passes through.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the bundle's files into one tar, encrypted as it is written.
pub(crate) struct AgeSink {
    path: PathBuf,
    prefix: String,
    mtime: u64,
    tar: tar::Builder<age::stream::StreamWriter<Hashing<std::io::BufWriter<std::fs::File>>>>,
}

impl AgeSink {
    /// Starts `path`, encrypted to `recipient`; files go under `prefix/`.
    pub fn create(
        path: &Path,
        recipient: &age::x25519::Recipient,
        prefix: &str,
        now: &str,
    ) -> Result<Self, ExportError> {
        let file = std::fs::File::create(path).map_err(|e| write_err(path, e))?;
        let out = Hashing { inner: std::io::BufWriter::with_capacity(1 << 20, file), hasher: Sha256::new(), bytes: 0 };
        let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
            .map_err(|e| ExportError::Recipient(e.to_string()))?;
        let stream = encryptor.wrap_output(out).map_err(|e| write_err(path, e))?;
        let mtime = chrono::DateTime::parse_from_rfc3339(now).map(|t| t.timestamp().max(0) as u64).unwrap_or(0);
        Ok(AgeSink { path: path.to_path_buf(), prefix: prefix.to_string(), mtime, tar: tar::Builder::new(stream) })
    }

    /// Ends the tar and the encryption and syncs the file; returns the
    /// ciphertext's SHA-256 and size.
    pub fn finish(self) -> Result<(String, u64), ExportError> {
        let path = self.path;
        let stream = self.tar.into_inner().map_err(|e| write_err(&path, e))?;
        let hashing = stream.finish().map_err(|e| write_err(&path, e))?;
        let Hashing { inner, hasher, bytes } = hashing;
        let file = inner.into_inner().map_err(|e| write_err(&path, e.error().to_string()))?;
        file.sync_all().map_err(|e| write_err(&path, e))?;
        Ok((hex(&hasher.finalize()), bytes))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sink for AgeSink {
    fn add(&mut self, rel: &str, bytes: &[u8], sha256: &str) -> Result<(), ExportError> {
        // Nothing plain is read back from the drive, so the bytes are checked
        // against the hash from capture before they are encrypted.
        if sha256_hex(bytes) != sha256 {
            return Err(ExportError::Damaged { file: rel.to_string() });
        }
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(self.mtime);
        header.set_entry_type(tar::EntryType::Regular);
        let name = format!("{}/{rel}", self.prefix);
        self.tar.append_data(&mut header, &name, bytes).map_err(|e| write_err(&self.path, e))
    }
}

/// The `说明.txt` beside an encrypted archive: how to open it, nothing personal.
pub(crate) fn encrypted_readme(name: &str, batch: &str) -> String {
    format!(
        "gradcap 加密导出包 / encrypted export bundle {batch}\n\
         {ENCRYPTED_FILE} 用 age 加密，只有持有私钥者能打开 / encrypted with age; only the identity's holder can open it.\n\
         解密 / decrypt:  gradcap decrypt {name} --identity 私钥.txt --to 目标文件夹\n\
         或 / or:          age -d -i key.txt {ENCRYPTED_FILE} | tar -x\n\
         SHA256SUMS 校验密文是否完整 / checks the ciphertext is complete: sha256sum -c SHA256SUMS\n"
    )
}

/// What `decrypt` restored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DecryptReport {
    pub bundle: PathBuf,
    pub records: usize,
    pub files: usize,
}

/// The line `gradcap decrypt` prints.
impl std::fmt::Display for DecryptReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "解密完成并已校验 / decrypted and verified: {} ({} 人 / students, {} files)",
            self.bundle.display(),
            self.records,
            self.files
        )
    }
}

fn safe_relative(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Decrypts an encrypted bundle (its folder, or the `.age` file itself) with
/// the age identity in `identity` into `to/{bundle name}`, then verifies the
/// restored bundle; on any fault nothing is left but a `.partial` folder.
pub fn decrypt(bundle: &Path, identity: &Path, to: &Path) -> Result<DecryptReport, ExportError> {
    let archive = if bundle.is_dir() {
        let check = verify_bundle(bundle)?;
        if !check.encrypted {
            return Err(ExportError::NotABundle(format!("{}: not encrypted", bundle.display())));
        }
        if !check.ok() {
            return Err(ExportError::BadBundle(check.findings.join("; ")));
        }
        bundle.join(ENCRYPTED_FILE)
    } else {
        bundle.to_path_buf()
    };
    let identities = age::IdentityFile::from_file(identity.display().to_string())
        .map_err(|e| ExportError::Identity(format!("{}: {e}", identity.display())))?
        .into_identities()
        .map_err(|e| ExportError::Identity(format!("{}: {e}", identity.display())))?;
    let file =
        std::fs::File::open(&archive).map_err(|e| ExportError::NotABundle(format!("{}: {e}", archive.display())))?;
    let decryptor = age::Decryptor::new_buffered(BufReader::with_capacity(1 << 20, file))
        .map_err(|e| ExportError::Decrypt(format!("{}: {e}", archive.display())))?;
    let reader = decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| ExportError::Decrypt(e.to_string()))?;
    let mut tar = tar::Archive::new(reader);
    let entries = tar.entries().map_err(|e| ExportError::Decrypt(e.to_string()))?;
    let mut name: Option<String> = None;
    let mut partial = PathBuf::new();
    let mut written = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    for entry in entries {
        let mut entry = entry.map_err(|e| ExportError::Decrypt(e.to_string()))?;
        let path = entry.path().map_err(|e| ExportError::Decrypt(e.to_string()))?.into_owned();
        let rel =
            safe_relative(&path).ok_or_else(|| ExportError::Decrypt(format!("unsafe path {}", path.display())))?;
        let mut parts = rel.components();
        let top = parts.next().map(|c| c.as_os_str().to_string_lossy().to_string()).unwrap_or_default();
        let inner = parts.as_path().to_path_buf();
        match &name {
            None => {
                partial = to.join(format!("{top}.partial"));
                if to.join(&top).exists() {
                    return Err(ExportError::Exists(to.join(&top).display().to_string()));
                }
                if partial.exists() {
                    std::fs::remove_dir_all(&partial).map_err(|e| write_err(&partial, e))?;
                }
                name = Some(top.clone());
            }
            Some(n) if *n != top => {
                return Err(ExportError::Decrypt(format!("two bundles in one archive: {n}, {top}")))
            }
            Some(_) => {}
        }
        if entry.header().entry_type().is_dir() || inner.as_os_str().is_empty() {
            continue;
        }
        if !entry.header().entry_type().is_file() {
            return Err(ExportError::Decrypt(format!("not a file: {}", path.display())));
        }
        let dest = partial.join(&inner);
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
        }
        // Streamed: the size in a tar header is not trusted for an allocation.
        let mut f = std::fs::File::create(&dest).map_err(|e| write_err(&dest, e))?;
        loop {
            // A read error is the archive's (damaged, wrong key); a write
            // error the target's (full, removed).
            let n = std::io::Read::read(&mut entry, &mut buf)
                .map_err(|e| ExportError::Decrypt(format!("{}: {e}", dest.display())))?;
            if n == 0 {
                break;
            }
            f.write_all(&buf[..n]).map_err(|e| write_err(&dest, e))?;
        }
        f.sync_all().map_err(|e| write_err(&dest, e))?;
        written.push(dest);
    }
    let name = name.ok_or_else(|| ExportError::Decrypt("empty archive".into()))?;
    let check = verify_bundle(&partial)?;
    if !check.ok() || check.encrypted {
        return Err(ExportError::BadBundle(check.findings.join("; ")));
    }
    let dest = to.join(&name);
    crate::paths::replace(&partial, &dest).map_err(|e| write_err(&dest, e))?;
    Ok(DecryptReport { bundle: dest, records: check.records, files: written.len() })
}

/// Writes a new age identity (private key) file, readable by its owner only;
/// returns the recipient (public key) to give to stations.
pub fn keygen(out: &Path, now: &str) -> Result<String, ExportError> {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let text = format!("# created: {now}\n# public key: {recipient}\n{}\n", identity.to_string().expose_secret());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(out).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            ExportError::Exists(out.display().to_string())
        } else {
            write_err(out, e)
        }
    })?;
    f.write_all(text.as_bytes()).and_then(|_| f.sync_all()).map_err(|e| write_err(out, e))?;
    Ok(recipient)
}
