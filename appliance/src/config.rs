//! Settings for `serve`: defaults, then the system file named by `PHONGHOP_CONFIG` (the Debian
//! package's `/etc/phonghop/phonghop.toml`), then `DATA/phonghop.toml`, then environment
//! variables and command-line flags (clap merges those two, the flag winning). Each file sets
//! only the keys it names.

use serde::Deserialize;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The config file inside the data directory.
pub const CONFIG_FILE: &str = "phonghop.toml";
/// The environment variable naming the system-wide config file (set by the systemd units).
pub const CONFIG_ENV: &str = "PHONGHOP_CONFIG";

/// How logs are written: text for a terminal, JSON for journald and log shippers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The file's shape. Unknown keys are an error, so a typo is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub https_port: Option<u16>,
    pub http_port: Option<u16>,
    pub bind: Option<IpAddr>,
    pub mdns: Option<String>,
    pub log_format: Option<LogFormat>,
    pub max_upload_mb: Option<u64>,
    pub renew_check_minutes: Option<u64>,
    /// How long a tablet pairing code works (default 600 s, 1 to 3600).
    pub pairing_code_seconds: Option<u64>,
    /// A hub's sync port, where boxes connect with their client certificates (default 8444).
    pub sync_port: Option<u16>,
    /// How often an enrolled box with nothing to send looks at its hub for news (handed-over
    /// meetings, updates): default 60 s, 1 to 86,400. Its own writes are sent at once anyway.
    pub sync_check_seconds: Option<u64>,
}

/// Everything `serve` needs, resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub https_port: u16,
    pub http_port: u16,
    /// `None` listens on every address (IPv6 and IPv4 where the box has both).
    pub bind: Option<IpAddr>,
    /// Which interfaces mDNS announces on: `all`, `lo`, `off` or a comma list of names.
    pub mdns: String,
    pub log_format: LogFormat,
    pub max_upload_bytes: u64,
    pub renew_check: std::time::Duration,
    pub pairing_code_lifetime: std::time::Duration,
    /// Only a hub listens on it.
    pub sync_port: u16,
    /// How often an idle enrolled box looks at its hub.
    pub sync_idle_check: std::time::Duration,
}

/// The values given on the command line or in the environment; `None` means "not given".
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub https_port: Option<u16>,
    pub http_port: Option<u16>,
    pub bind: Option<IpAddr>,
    pub mdns: Option<String>,
    pub log_format: Option<LogFormat>,
    pub sync_port: Option<u16>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("the mDNS setting {value:?} is not valid: {message}")]
    Mdns { value: String, message: String },
}

impl FileConfig {
    /// Reads `DATA/phonghop.toml` if it exists; a missing file is the defaults.
    pub fn load(data_dir: &Path) -> Result<Self, ConfigError> {
        Self::load_file(data_dir.join(CONFIG_FILE))
    }

    /// Reads one file if it exists; a missing file sets nothing.
    pub fn load_file(path: PathBuf) -> Result<Self, ConfigError> {
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path,
                message: e.message().to_owned(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    /// Each key this file does not set is taken from `under`.
    fn over(self, under: FileConfig) -> FileConfig {
        FileConfig {
            https_port: self.https_port.or(under.https_port),
            http_port: self.http_port.or(under.http_port),
            bind: self.bind.or(under.bind),
            mdns: self.mdns.or(under.mdns),
            log_format: self.log_format.or(under.log_format),
            max_upload_mb: self.max_upload_mb.or(under.max_upload_mb),
            renew_check_minutes: self.renew_check_minutes.or(under.renew_check_minutes),
            pairing_code_seconds: self.pairing_code_seconds.or(under.pairing_code_seconds),
            sync_port: self.sync_port.or(under.sync_port),
            sync_check_seconds: self.sync_check_seconds.or(under.sync_check_seconds),
        }
    }
}

impl Config {
    /// The settings for a data directory, with the system file from `PHONGHOP_CONFIG` if set.
    pub fn resolve(data_dir: &Path, o: Overrides) -> Result<Self, ConfigError> {
        let system = std::env::var_os(CONFIG_ENV)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        Self::resolve_with(data_dir, system, o)
    }

    /// Like [`Self::resolve`], with the system file given.
    pub fn resolve_with(
        data_dir: &Path,
        system: Option<PathBuf>,
        o: Overrides,
    ) -> Result<Self, ConfigError> {
        let mut f = FileConfig::load(data_dir)?;
        if let Some(path) = system {
            f = f.over(FileConfig::load_file(path)?);
        }
        let mdns = o.mdns.or(f.mdns).unwrap_or_else(|| "all".to_owned());
        if let Err(e) = mdns.parse::<crate::discovery::Interfaces>() {
            return Err(ConfigError::Mdns {
                value: mdns,
                message: e.to_string(),
            });
        }
        Ok(Self {
            data_dir: data_dir.to_path_buf(),
            https_port: o.https_port.or(f.https_port).unwrap_or(443),
            http_port: o.http_port.or(f.http_port).unwrap_or(80),
            bind: o.bind.or(f.bind),
            mdns,
            log_format: o.log_format.or(f.log_format).unwrap_or(LogFormat::Text),
            max_upload_bytes: f.max_upload_mb.unwrap_or(200).saturating_mul(1024 * 1024),
            renew_check: std::time::Duration::from_secs(
                f.renew_check_minutes.unwrap_or(60).max(1) * 60,
            ),
            pairing_code_lifetime: std::time::Duration::from_secs(
                f.pairing_code_seconds.unwrap_or(600).clamp(1, 3600),
            ),
            sync_port: o.sync_port.or(f.sync_port).unwrap_or(8444),
            sync_idle_check: std::time::Duration::from_secs(
                f.sync_check_seconds.unwrap_or(60).clamp(1, 86_400),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "https_port = 8443\nhttp_port = 8080\nmdns = \"lo\"\n",
        )
        .unwrap();
        let c = Config::resolve(
            dir.path(),
            Overrides {
                http_port: Some(9090),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!((c.https_port, c.http_port), (8443, 9090));
        assert_eq!(c.mdns, "lo");
        assert_eq!(c.max_upload_bytes, 200 * 1024 * 1024);
        assert_eq!(c.sync_idle_check, std::time::Duration::from_secs(60));
    }

    #[test]
    fn the_sync_check_interval_is_kept_within_a_second_and_a_day() {
        let dir = tempfile::tempdir().unwrap();
        for (given, want) in [("0", 1), ("2", 2), ("600", 600), ("9999999", 86_400)] {
            std::fs::write(
                dir.path().join(CONFIG_FILE),
                format!("sync_check_seconds = {given}\n"),
            )
            .unwrap();
            let c = Config::resolve_with(dir.path(), None, Overrides::default()).unwrap();
            assert_eq!(c.sync_idle_check.as_secs(), want, "{given}");
        }
    }

    #[test]
    fn the_data_directory_file_beats_the_system_file_key_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let etc = dir.path().join("etc.toml");
        std::fs::write(
            &etc,
            "https_port = 8443\nmax_upload_mb = 50\nmdns = \"off\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "https_port = 9443\n").unwrap();
        let c = Config::resolve_with(dir.path(), Some(etc.clone()), Overrides::default()).unwrap();
        assert_eq!(c.https_port, 9443);
        assert_eq!(c.max_upload_bytes, 50 * 1024 * 1024);
        assert_eq!(c.mdns, "off");
        // A system file that is not there sets nothing; a broken one is refused, named.
        let c = Config::resolve_with(
            dir.path(),
            Some(dir.path().join("missing.toml")),
            Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.max_upload_bytes, 200 * 1024 * 1024);
        std::fs::write(&etc, "max_upload = 1\n").unwrap();
        let err = Config::resolve_with(dir.path(), Some(etc), Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("etc.toml"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "htps_port = 1\n").unwrap();
        let err = Config::resolve(dir.path(), Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("htps_port"), "{err}");
    }
}
