//! The office's side: the release key (made once, on an offline machine) and signing a
//! release (`phonghop release keygen`, `phonghop release sign`), in minisign's format so that
//! `minisign -V` checks the same files.

use super::UpdateError;
use std::path::{Path, PathBuf};

pub const SECRET_FILE: &str = "phonghop-release.key";
pub const PUBLIC_FILE: &str = "phonghop-release.pub";
/// The secret key's password, for scripts; without it the password is asked on the terminal.
pub const ENV_PASSWORD: &str = "PHONGHOP_RELEASE_PASSWORD";

fn sign_err(e: minisign::PError) -> UpdateError {
    UpdateError::BadKey(e.to_string())
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> UpdateError + '_ {
    move |source| UpdateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn create_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), UpdateError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(io(path))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io(path))
}

/// Makes a key pair in `out`: the secret key (0600; password-protected unless
/// `no_password`) and the public key to give the hub. Refuses to overwrite either.
pub fn keygen(out: &Path, no_password: bool) -> Result<(PathBuf, PathBuf), UpdateError> {
    std::fs::create_dir_all(out).map_err(io(out))?;
    let (sk_path, pk_path) = (out.join(SECRET_FILE), out.join(PUBLIC_FILE));
    for p in [&sk_path, &pk_path] {
        if p.exists() {
            return Err(UpdateError::Io {
                path: p.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "already exists; a new key would orphan every box that pinned the old one",
                ),
            });
        }
    }
    let pair = if no_password {
        minisign::KeyPair::generate_unencrypted_keypair()
    } else {
        minisign::KeyPair::generate_encrypted_keypair(std::env::var(ENV_PASSWORD).ok())
    }
    .map_err(sign_err)?;
    let sk = pair
        .sk
        .to_box(Some("phonghop release secret key"))
        .map_err(sign_err)?
        .into_string();
    let pk = pair.pk.to_box().map_err(sign_err)?.into_string();
    create_new(&sk_path, sk.as_bytes(), 0o600)?;
    create_new(&pk_path, pk.as_bytes(), 0o644)?;
    Ok((sk_path, pk_path))
}

/// Signs `file` with the secret key at `key`; the trusted comment names `version` and
/// `target`. Writes `<file>.minisig` and returns its path.
pub fn sign(key: &Path, file: &Path, version: &str, target: &str) -> Result<PathBuf, UpdateError> {
    semver::Version::parse(version)
        .map_err(|e| UpdateError::BadComment(format!("phonghop {version} {target} ({e})")))?;
    if target.is_empty() || target.contains(char::is_whitespace) {
        return Err(UpdateError::BadComment(format!(
            "phonghop {version} {target}"
        )));
    }
    let text = std::fs::read_to_string(key).map_err(io(key))?;
    let sk_box = minisign::SecretKeyBox::from_string(&text).map_err(sign_err)?;
    // An unencrypted key (--no-password) signs as it is; otherwise the password decrypts it.
    let sk = match sk_box.clone().into_unencrypted_secret_key() {
        Ok(sk) => sk,
        Err(_) => sk_box
            .into_secret_key(std::env::var(ENV_PASSWORD).ok())
            .map_err(sign_err)?,
    };
    let bytes = std::fs::read(file).map_err(io(file))?;
    let comment = format!("phonghop {version} {target}");
    let sig = minisign::sign(
        None,
        &sk,
        std::io::Cursor::new(&bytes),
        Some(&comment),
        Some("signature from the phonghop release key"),
    )
    .map_err(sign_err)?;
    let mut out = file.as_os_str().to_owned();
    out.push(".minisig");
    let out = PathBuf::from(out);
    let _ = std::fs::remove_file(&out);
    create_new(&out, sig.into_string().as_bytes(), 0o644)?;
    Ok(out)
}
