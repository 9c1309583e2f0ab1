//! mDNS / DNS-SD: the box announces itself on the room's LAN, and `phonghop discover` finds boxes.
//!
//! The box announces one service of type [`SERVICE_TYPE`] (`_https._tcp.local.`): the instance
//! name is the room's name (Vietnamese, with diacritics), the SRV record points at the box's
//! `.local.` host name and HTTPS port, the A/AAAA records carry the addresses of the selected
//! interfaces, and the TXT record carries `path=/`, `node=<node id>`, `role=room`,
//! `ver=<version>` (see [`Announcement::room`]). [`Interfaces`] selects where: every LAN
//! interface (the default), only loopback, a list of names, or nowhere.
//!
//! # How mdns-sd 0.21 binds interfaces, and what this module does about it
//!
//! References are to `mdns-sd-0.21.7/src/service_daemon.rs` unless noted.
//!
//! * There is no constructor or option that selects interfaces up front: the only
//!   constructors are `ServiceDaemon::new()` (l. 347) and `new_with_port` (l. 382). The latter
//!   spawns the daemon thread, whose first act is `Zeroconf::new` (l. 843 → l. 1343; the doc
//!   of `new` says sockets open "lazily", but that means "as soon as the thread runs", not "on
//!   first use"). It binds one socket per IP family to `0.0.0.0:5353` / `[::]:5353`
//!   (l. 1356, 1363) and joins `224.0.0.251` / `ff02::fb` on *every* address that
//!   `my_ip_interfaces(true)` returns (loop l. 1370, `add_intf_addr` l. 1274,
//!   `join_multicast_group` l. 1240): every interface that is running and not point-to-point,
//!   loopback included (l. 4845–4853; link-local addresses count, mdns-sd uses if-addrs 0.15
//!   with `link-local`). `disable_interface` / `enable_interface` (l. 722, 735) only queue a
//!   command, applied when the thread reaches its run loop (l. 1696 → `process_set_option`
//!   l. 1780 → `apply_intf_selections` l. 1981 → `del_interface_addr` l. 2148, which leaves
//!   the group). So the group *join* on other interfaces cannot be prevented with mdns-sd
//!   0.21: the kernel sends an IGMP/MLD membership report on each of them. That is not mDNS,
//!   but it is traffic on those interfaces (measured in a namespace: one IGMP and one MLD
//!   report per daemon start on an unselected veth).
//! * No mDNS packet is sent in that window: the daemon sends only for registered services
//!   (probes, announcements, answers; an empty response is dropped, l. 4940–4943) or active
//!   browses. This module queues the selection as the very first command after `new()`; the
//!   channel is FIFO (l. 1696–1704), so `register`/`browse` always run with the selection in
//!   force, and a `status()` round trip confirms the unselected memberships are dropped before
//!   [`announce`]/[`browse`] go on. Afterwards incoming packets are dispatched by their
//!   `IP_PKTINFO` interface index and dropped for an unselected interface (l. 2820–2828),
//!   every send first sets `IP_MULTICAST_IF` to a selected interface (l. 4955), and the IP
//!   check every 5 s (`check_ip_changes` l. 2018) applies the same selection to interfaces
//!   that appear later (the selection is a predicate, not a snapshot). The announced
//!   `ServiceInfo` also gets `set_interfaces` with that predicate, so its A/AAAA records only
//!   carry addresses of selected interfaces.
//! * Hence the policy ([`StartupJoins`]): for [`Interfaces::Loopback`] and
//!   [`Interfaces::Named`], [`announce`] and [`browse`] *refuse*
//!   ([`DiscoveryError::UnselectedInterfaces`]) unless [`startup_exposure`] finds no interface
//!   outside the selection that mdns-sd could touch at start-up. [`announce_with`] /
//!   [`browse_with`] with [`StartupJoins::Tolerate`] accept the transient join (IGMP/MLD only,
//!   never mDNS) and log it at `warn`; that is the only way to use `Named` on a box that also
//!   has, say, an uplink. [`Interfaces::AllLan`] is not checked: it is on the LAN anyway, and
//!   the interfaces it leaves out (loopback, [`VIRTUAL_PREFIXES`]) see the same transient
//!   join. A join-free selection needs an upstream change (interface selection applied
//!   before `Zeroconf::new`). [`Interfaces::Off`] never creates a daemon.
//! * [`startup_exposure`] is conservative: every non-loopback interface in
//!   `/proc/self/net/dev` (which follows the network namespace) and in if-addrs, minus the
//!   selected ones; interfaces that are down or point-to-point are left out only when the
//!   flags in `/sys/class/net` can be trusted (sysfs shows the namespace it was mounted in, so
//!   it is used only if it lists exactly the interfaces of `/proc/self/net/dev`). The check and
//!   the daemon's start are not atomic: an interface coming up in between is missed.
//!
//! # Loopback
//!
//! mdns-sd does not skip loopback (`my_ip_interfaces(true)`; `IfKind::LoopbackV4/V6` are
//! "enabled by default", l. 997–1002). Multicast on `lo` needs its MULTICAST flag (`ip link
//! set lo multicast on`); in a fresh network namespace `lo` is down and has it off. The tests
//! run announcers and browsers over `lo` (and a private veth pair) inside `unshare -rn`.
//!
//! # Names
//!
//! * Instance: a DNS-SD instance name is UTF-8 in one DNS label, so at most 63 bytes. mdns-sd
//!   writes UTF-8 labels as they are (`dns_parser.rs` l. 1632) but fails the whole packet with
//!   `NameTooLong` for a longer label (`dns_parser.rs` l. 1593), and on a name conflict it
//!   renames the instance to `name (2)`, `name (3)`, … (`name_change` l. 5257), up to 5 more
//!   bytes. So the room name is cut to [`MAX_INSTANCE_BYTES`] = 58 bytes, on a char boundary
//!   and never between a letter and its combining marks (decomposed Vietnamese: `ệ` = `e` +
//!   U+0323 + U+0302). Control characters are dropped. Dots: mdns-sd escapes `.` and `\` when
//!   writing (`service_info.rs` l. 82), but the reader joins labels with plain dots
//!   (`dns_parser.rs` l. 2793), the cache refresh re-queries with that unescaped name (l. 4382
//!   → `write_name` splits it at the dot), and `name_change` splits on every dot. A raw dot
//!   resolves on first sight (tried) but would break refreshes and conflict renames, so `.` is
//!   replaced by `․` (U+2024 ONE DOT LEADER, which looks the same) and `\` by `/`. The room
//!   name is stored in NFC (`RoomName::parse`), so it goes out composed; a name from an older
//!   store that was typed decomposed goes out as it was typed.
//! * Host: `<label>.local.`, ASCII letters, digits and `-`, labels of at most 63 bytes (see
//!   [`local_host`], [`box_host`], [`machine_host`]).
//!
//! # Blocking
//!
//! mdns-sd runs its own thread; the functions here block on its channels ([`browse`] for its
//! whole timeout, [`Announcer::shutdown`] for about a quarter of a second). Call them from
//! `tokio::task::spawn_blocking` in async code.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mdns_sd::{DaemonStatus, IfKind, IfPredicate, ServiceDaemon, ServiceEvent, ServiceInfo};
use serde::{Deserialize, Serialize};

/// The DNS-SD service type the box announces.
pub const SERVICE_TYPE: &str = "_https._tcp.local.";

/// The DNS label limit for an instance name, in bytes of UTF-8.
pub const MAX_LABEL_BYTES: usize = 63;

/// How long the room name may be once announced: [`MAX_LABEL_BYTES`] minus room for the
/// ` (NN)` that mdns-sd appends on a name conflict.
pub const MAX_INSTANCE_BYTES: usize = MAX_LABEL_BYTES - 5;

/// TXT key that marks a Phonghop node; [`browse`] only returns services that carry it.
pub const TXT_NODE: &str = "node";

/// How long to wait for the mDNS daemon thread to answer a command.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(5);

/// mdns-sd resends goodbye packets 120 ms after the first (service_daemon.rs l. 4183).
const GOODBYE_RESEND_WAIT: Duration = Duration::from_millis(250);

/// Longest TXT record we send, as RFC 6763 §6.2 recommends.
const MAX_TXT_BYTES: usize = 1300;

/// Name prefixes of interfaces that [`Interfaces::AllLan`] leaves out: container and VM
/// bridges and their veths, VPN tunnels, overlays, traffic-shaping and dummy devices. A box on a
/// LAN bridge such as `br0` is still covered (only Docker's `br-<id>` is excluded); name
/// interfaces explicitly with [`Interfaces::Named`] to override this.
pub const VIRTUAL_PREFIXES: &[&str] = &[
    "docker",
    "br-",
    "veth",
    "virbr",
    "vnet",
    "vmnet",
    "vboxnet",
    "lxcbr",
    "lxdbr",
    "podman",
    "cni",
    "flannel",
    "cali",
    "weave",
    "kube",
    "tailscale",
    "zt",
    "wg",
    "tun",
    "tap",
    "utun",
    "ifb",
    "dummy",
];

/// Where the box announces (and where `discover` looks).
///
/// Parsed from `all`, `lo`/`loopback`, `off`, or a comma-separated list of interface names
/// (`eth1,wlan0`); serialized the same way.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Interfaces {
    /// Every LAN interface: not loopback, not the [`VIRTUAL_PREFIXES`] ones.
    #[default]
    AllLan,
    /// Only loopback interfaces (`lo`). For tests and development.
    Loopback,
    /// Only these interfaces (an IPv4 alias label `eth0:1` counts as `eth0`).
    Named(Vec<String>),
    /// No mDNS at all.
    Off,
}

impl FromStr for Interfaces {
    type Err = DiscoveryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s.to_ascii_lowercase().as_str() {
            "all" => return Ok(Self::AllLan),
            "lo" | "loopback" => return Ok(Self::Loopback),
            "off" => return Ok(Self::Off),
            _ => {}
        }
        let mut names: Vec<String> = Vec::new();
        for part in s.split(',') {
            let name = part.trim();
            if name.is_empty() {
                return Err(DiscoveryError::InvalidInterfaces(format!(
                    "{s:?}: empty interface name (expected all, lo, off or names like eth1,wlan0)"
                )));
            }
            if matches!(
                name.to_ascii_lowercase().as_str(),
                "all" | "loopback" | "off"
            ) {
                return Err(DiscoveryError::InvalidInterfaces(format!(
                    "{s:?}: {name:?} cannot be combined with interface names"
                )));
            }
            // Linux: IFNAMSIZ is 16 with the NUL; no whitespace, '/' or ':' (':' marks aliases).
            if name.len() > 15
                || name
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '/' || c == ':')
            {
                return Err(DiscoveryError::InvalidInterfaces(format!(
                    "{s:?}: {name:?} is not a valid interface name"
                )));
            }
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
        Ok(Self::Named(names))
    }
}

impl fmt::Display for Interfaces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AllLan => f.write_str("all"),
            Self::Loopback => f.write_str("loopback"),
            Self::Named(names) => f.write_str(&names.join(",")),
            Self::Off => f.write_str("off"),
        }
    }
}

impl TryFrom<String> for Interfaces {
    type Error = DiscoveryError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Interfaces> for String {
    fn from(i: Interfaces) -> Self {
        i.to_string()
    }
}

impl Interfaces {
    /// Whether an interface (by name, and whether it is a loopback one) is selected.
    fn selects(&self, name: &str, is_loopback: bool) -> bool {
        match self {
            Self::AllLan => !is_loopback && !is_virtual(name),
            Self::Loopback => is_loopback,
            Self::Named(names) => {
                let base = name.split(':').next().unwrap_or(name);
                names.iter().any(|n| n == base)
            }
            Self::Off => false,
        }
    }

    /// The selection as an mdns-sd predicate (evaluated again for every interface change).
    fn predicate(&self, selected: bool) -> IfKind {
        let this = Arc::new(self.clone());
        IfKind::Predicate(IfPredicate::new(move |intf| {
            this.selects(&intf.name, intf.is_loopback()) == selected
        }))
    }
}

/// Whether `name` looks like a container/VM/VPN interface (see [`VIRTUAL_PREFIXES`]).
pub fn is_virtual(name: &str) -> bool {
    VIRTUAL_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// What to do when mdns-sd would briefly join the mDNS group on interfaces outside a
/// `Loopback`/`Named` selection (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartupJoins {
    /// Refuse with [`DiscoveryError::UnselectedInterfaces`].
    #[default]
    Refuse,
    /// Go ahead: the kernel sends IGMP/MLD join and leave reports on those interfaces (no mDNS
    /// is ever sent there). Logged at `warn`.
    Tolerate,
}

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("invalid mDNS interface selection: {0}")]
    InvalidInterfaces(String),
    #[error("invalid mDNS announcement: {0}")]
    InvalidAnnouncement(String),
    #[error(
        "mDNS was asked for {selection:?} only, but this machine also has {}, and the mDNS \
         library briefly joins the multicast group on every interface when it starts; so mDNS \
         stays off. Name those interfaces too (e.g. --mdns all), or use --mdns off; the room \
         still works by address and QR code", interfaces.join(", ")
    )]
    UnselectedInterfaces {
        selection: String,
        interfaces: Vec<String>,
    },
    #[error("mDNS is off")]
    Off,
    #[error("mDNS daemon: {0}")]
    Mdns(#[from] mdns_sd::Error),
    #[error("mDNS daemon did not answer: {0}")]
    Daemon(String),
}

/// What the box announces. Build it with [`Announcement::room`] for the standard TXT keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// The room's name (any UTF-8; cut to [`MAX_INSTANCE_BYTES`], see the module docs).
    pub instance: String,
    /// The box's host name, `phonghop-ab12.local.` (see [`local_host`]).
    pub host: String,
    /// The HTTPS port.
    pub port: u16,
    /// TXT key/value pairs, in order; keys are printable ASCII without `=`, unique.
    pub txt: Vec<(String, String)>,
}

impl Announcement {
    /// A room box: TXT `path=/`, `node=<node_id>`, `role=room`, `ver=<version>`.
    pub fn room(
        instance: impl Into<String>,
        host: impl Into<String>,
        port: u16,
        node_id: &str,
        version: &str,
    ) -> Self {
        Self {
            instance: instance.into(),
            host: host.into(),
            port,
            txt: vec![
                ("path".to_string(), "/".to_string()),
                (TXT_NODE.to_string(), node_id.to_string()),
                ("role".to_string(), "room".to_string()),
                ("ver".to_string(), version.to_string()),
            ],
        }
    }
}

/// The running announcement. [`Announcer::shutdown`] sends the goodbye and stops the daemon;
/// dropping it without that still stops the daemon (which sends goodbyes) but does not wait.
pub struct Announcer {
    daemon: Option<ServiceDaemon>,
    fullname: String,
    instance: String,
    host: String,
    port: u16,
    interfaces: Interfaces,
}

impl fmt::Debug for Announcer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Announcer")
            .field("fullname", &self.fullname)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("interfaces", &self.interfaces)
            .field("running", &self.daemon.is_some())
            .finish()
    }
}

impl Announcer {
    /// The instance name as announced (after cutting and replacing, see the module docs).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// `<instance>._https._tcp.local.` (dots in the instance escaped as mdns-sd does).
    pub fn fullname(&self) -> &str {
        &self.fullname
    }

    /// The `.local.` host name in the SRV record.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The HTTPS port in the SRV record.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Unregisters the service (mdns-sd sends a goodbye, TTL 0, and repeats it once), then
    /// stops the daemon. Blocks for about a quarter of a second.
    pub fn shutdown(mut self) -> Result<(), DiscoveryError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), DiscoveryError> {
        let Some(daemon) = self.daemon.take() else {
            return Ok(());
        };
        let unregistered = daemon
            .unregister(&self.fullname)
            .map_err(DiscoveryError::from)
            .and_then(|rx| {
                rx.recv_timeout(CONTROL_TIMEOUT)
                    .map_err(|e| DiscoveryError::Daemon(format!("unregister: {e}")))
            });
        if unregistered.is_ok() {
            std::thread::sleep(GOODBYE_RESEND_WAIT);
        }
        let stopped = stop_daemon(&daemon);
        tracing::info!(instance = %self.instance, "mDNS announcement withdrawn");
        unregistered.map(|_| ()).and(stopped)
    }
}

impl Drop for Announcer {
    fn drop(&mut self) {
        if let Some(daemon) = self.daemon.take() {
            // The daemon's cleanup sends goodbyes for what is still registered.
            if let Err(e) = daemon.shutdown() {
                tracing::debug!("mDNS daemon shutdown on drop: {e}");
            }
        }
    }
}

/// A box found by [`browse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundBox {
    /// The instance name (the room's name).
    pub instance: String,
    /// The SRV target, e.g. `phonghop-ab12.local.`.
    pub host: String,
    /// The SRV port.
    pub port: u16,
    /// A/AAAA addresses, sorted.
    pub addrs: Vec<IpAddr>,
    /// TXT key/value pairs, in record order (a key without `=` has an empty value).
    pub txt: Vec<(String, String)>,
}

impl FoundBox {
    /// The value of a TXT key (case-insensitive).
    pub fn txt_value(&self, key: &str) -> Option<&str> {
        self.txt
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// Announces `a` on `ifaces` ([`StartupJoins::Refuse`]); `Ok(None)` when `ifaces` is `Off`.
pub fn announce(
    ifaces: &Interfaces,
    a: &Announcement,
) -> Result<Option<Announcer>, DiscoveryError> {
    announce_with(ifaces, a, StartupJoins::Refuse)
}

/// Announces `a` on `ifaces`; `Ok(None)` when `ifaces` is `Off`.
///
/// Returns once the service is registered; mdns-sd then probes for about 750 ms and
/// announces, so browsers see it about a second later.
pub fn announce_with(
    ifaces: &Interfaces,
    a: &Announcement,
    joins: StartupJoins,
) -> Result<Option<Announcer>, DiscoveryError> {
    if *ifaces == Interfaces::Off {
        tracing::info!("mDNS announcement is off");
        return Ok(None);
    }
    let instance = instance_name(&a.instance)?;
    let host = local_host(&a.host)?;
    if a.port == 0 {
        return Err(DiscoveryError::InvalidAnnouncement("port 0".into()));
    }
    check_txt(&a.txt)?;

    let mut info = ServiceInfo::new(SERVICE_TYPE, &instance, &host, (), a.port, &a.txt[..])?
        .enable_addr_auto();
    info.set_interfaces(vec![ifaces.predicate(true)]);
    let fullname = info.get_fullname().to_string();

    let daemon = start_daemon(ifaces, joins)?;
    if let Err(e) = daemon.register(info) {
        let _ = stop_daemon(&daemon);
        return Err(e.into());
    }
    tracing::info!(%instance, %host, port = a.port, interfaces = %ifaces, "mDNS announcement started");
    Ok(Some(Announcer {
        daemon: Some(daemon),
        fullname,
        instance,
        host,
        port: a.port,
        interfaces: ifaces.clone(),
    }))
}

/// Browses `ifaces` for `timeout` ([`StartupJoins::Refuse`]) and returns the Phonghop boxes
/// found (services of [`SERVICE_TYPE`] with a [`TXT_NODE`] key), sorted by instance name.
/// A box that said goodbye during the timeout is left out. `Off` is an error.
pub fn browse(ifaces: &Interfaces, timeout: Duration) -> Result<Vec<FoundBox>, DiscoveryError> {
    browse_with(ifaces, timeout, StartupJoins::Refuse)
}

/// [`browse`] with an explicit [`StartupJoins`] policy.
pub fn browse_with(
    ifaces: &Interfaces,
    timeout: Duration,
    joins: StartupJoins,
) -> Result<Vec<FoundBox>, DiscoveryError> {
    if *ifaces == Interfaces::Off {
        return Err(DiscoveryError::Off);
    }
    let daemon = start_daemon(ifaces, joins)?;
    let result = collect(&daemon, timeout);
    let stopped = stop_daemon(&daemon);
    let found = result?;
    stopped?;
    Ok(found)
}

fn collect(daemon: &ServiceDaemon, timeout: Duration) -> Result<Vec<FoundBox>, DiscoveryError> {
    let events = daemon.browse(SERVICE_TYPE)?;
    let deadline = Instant::now() + timeout;
    let mut found: BTreeMap<String, FoundBox> = BTreeMap::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match events.recv_timeout(left) {
            Ok(ServiceEvent::ServiceResolved(svc)) => {
                if let Some(b) = found_box(&svc) {
                    found.insert(svc.fullname.to_lowercase(), b);
                }
            }
            Ok(ServiceEvent::ServiceRemoved(_, fullname)) => {
                found.remove(&fullname.to_lowercase());
            }
            Ok(_) => {}
            Err(_) => break, // timeout, or the daemon went away
        }
    }
    let _ = daemon.stop_browse(SERVICE_TYPE);
    let mut boxes: Vec<FoundBox> = found.into_values().collect();
    boxes.sort_by(|a, b| a.instance.cmp(&b.instance).then(a.host.cmp(&b.host)));
    Ok(boxes)
}

/// Converts a resolved service to a [`FoundBox`]; `None` if it is not a Phonghop box.
fn found_box(svc: &mdns_sd::ResolvedService) -> Option<FoundBox> {
    let txt: Vec<(String, String)> = svc
        .txt_properties
        .iter()
        .map(|p| (p.key().to_string(), p.val_str().to_string()))
        .collect();
    if !txt.iter().any(|(k, _)| k.eq_ignore_ascii_case(TXT_NODE)) {
        return None;
    }
    let mut addrs: Vec<IpAddr> = svc.addresses.iter().map(|a| a.to_ip_addr()).collect();
    addrs.sort();
    addrs.dedup();
    Some(FoundBox {
        instance: instance_of(&svc.fullname)?,
        host: svc.host.clone(),
        port: svc.port,
        addrs,
        txt,
    })
}

/// The instance part of `<instance>._https._tcp.local.` (mdns-sd reports it unescaped).
fn instance_of(fullname: &str) -> Option<String> {
    let suffix_len = SERVICE_TYPE.len() + 1;
    let cut = fullname.len().checked_sub(suffix_len)?;
    if !fullname.is_char_boundary(cut) {
        return None;
    }
    let (instance, suffix) = fullname.split_at(cut);
    let ok = suffix.starts_with('.') && suffix[1..].eq_ignore_ascii_case(SERVICE_TYPE);
    (ok && !instance.is_empty()).then(|| instance.to_string())
}

/// Starts a daemon restricted to `ifaces` (not `Off`); see the module docs for the order.
fn start_daemon(ifaces: &Interfaces, joins: StartupJoins) -> Result<ServiceDaemon, DiscoveryError> {
    if matches!(ifaces, Interfaces::Loopback | Interfaces::Named(_)) {
        let exposed = startup_exposure(ifaces);
        if !exposed.is_empty() {
            match joins {
                StartupJoins::Refuse => {
                    return Err(DiscoveryError::UnselectedInterfaces {
                        selection: ifaces.to_string(),
                        interfaces: exposed,
                    })
                }
                StartupJoins::Tolerate => tracing::warn!(
                    interfaces = %exposed.join(","),
                    selection = %ifaces,
                    "mdns-sd briefly joins the mDNS group on unselected interfaces at start-up"
                ),
            }
        }
    }
    let daemon = ServiceDaemon::new()?;
    // The very first command: see the module docs.
    let selected = daemon
        .disable_interface(ifaces.predicate(false))
        .map_err(DiscoveryError::from)
        .and_then(|()| wait_status(&daemon));
    if let Err(e) = selected {
        let _ = daemon.shutdown();
        return Err(e);
    }
    Ok(daemon)
}

/// Waits until the daemon has processed every command queued before this one.
fn wait_status(daemon: &ServiceDaemon) -> Result<(), DiscoveryError> {
    match daemon.status()?.recv_timeout(CONTROL_TIMEOUT) {
        Ok(DaemonStatus::Running) => Ok(()),
        Ok(other) => Err(DiscoveryError::Daemon(format!("status {other:?}"))),
        Err(e) => Err(DiscoveryError::Daemon(format!("status: {e}"))),
    }
}

fn stop_daemon(daemon: &ServiceDaemon) -> Result<(), DiscoveryError> {
    match daemon.shutdown() {
        Ok(rx) => match rx.recv_timeout(CONTROL_TIMEOUT) {
            Ok(_) => Ok(()),
            Err(e) => Err(DiscoveryError::Daemon(format!("shutdown: {e}"))),
        },
        Err(mdns_sd::Error::DaemonShutdown) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The interfaces outside `ifaces` on which mdns-sd 0.21 may briefly join the mDNS group when
/// its daemon starts (loopback ones are not listed: nothing leaves the machine there). Sorted.
/// Conservative: see the module docs.
pub fn startup_exposure(ifaces: &Interfaces) -> Vec<String> {
    if *ifaces == Interfaces::Off {
        return Vec::new();
    }
    let mut exposed: BTreeSet<String> = BTreeSet::new();
    for (name, is_loopback) in candidate_interfaces() {
        if !is_loopback && !ifaces.selects(&name, is_loopback) {
            exposed.insert(name);
        }
    }
    exposed.into_iter().collect()
}

const IFF_UP: u32 = 0x1;
const IFF_LOOPBACK: u32 = 0x8;
const IFF_POINTOPOINT: u32 = 0x10;

/// Interfaces of this network namespace that mdns-sd might join: (name, is loopback).
fn candidate_interfaces() -> Vec<(String, bool)> {
    let mut names: BTreeSet<String> = proc_net_dev().into_iter().collect();
    let mut loopback: BTreeSet<String> = BTreeSet::new();
    if let Ok(list) = if_addrs::get_if_addrs() {
        for i in list {
            let base = i.name.split(':').next().unwrap_or(&i.name).to_string();
            if i.is_loopback() {
                loopback.insert(base.clone());
            }
            names.insert(base);
        }
    }
    let sys_ok = sysfs_matches(&names);
    names
        .into_iter()
        .filter_map(|name| {
            let flags = if sys_ok { sysfs_flags(&name) } else { None };
            let is_loopback = loopback.contains(&name)
                || name == "lo"
                || flags.is_some_and(|f| f & IFF_LOOPBACK != 0);
            match flags {
                // Known down, or point-to-point: mdns-sd skips it (l. 4850–4851).
                Some(f) if !is_loopback && (f & IFF_UP == 0 || f & IFF_POINTOPOINT != 0) => None,
                _ => Some((name, is_loopback)),
            }
        })
        .collect()
}

/// Interface names from `/proc/self/net/dev` (this process's network namespace).
fn proc_net_dev() -> Vec<String> {
    std::fs::read_to_string("/proc/self/net/dev")
        .map(|s| parse_proc_net_dev(&s))
        .unwrap_or_default()
}

fn parse_proc_net_dev(s: &str) -> Vec<String> {
    s.lines()
        .skip(2)
        .filter_map(|l| l.split_once(':').map(|(n, _)| n.trim().to_string()))
        .filter(|n| !n.is_empty())
        .collect()
}

/// Whether `/sys/class/net` shows exactly `names` (else it belongs to another namespace).
fn sysfs_matches(names: &BTreeSet<String>) -> bool {
    let Ok(dir) = std::fs::read_dir("/sys/class/net") else {
        return false;
    };
    let sys: BTreeSet<String> = dir
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    !sys.is_empty() && sys == *names
}

fn sysfs_flags(name: &str) -> Option<u32> {
    let s = std::fs::read_to_string(format!("/sys/class/net/{name}/flags")).ok()?;
    u32::from_str_radix(s.trim().trim_start_matches("0x"), 16).ok()
}

/// The room name as it will be announced: control characters dropped, `.` → `․` (U+2024) and
/// `\` → `/`, whitespace trimmed, cut to [`MAX_INSTANCE_BYTES`] (see the module docs).
pub fn instance_name(raw: &str) -> Result<String, DiscoveryError> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '.' => '\u{2024}',
            '\\' => '/',
            c => c,
        })
        .collect();
    let name = truncate_label(cleaned.trim(), MAX_INSTANCE_BYTES);
    if name.is_empty() {
        return Err(DiscoveryError::InvalidAnnouncement(format!(
            "empty instance name {raw:?}"
        )));
    }
    Ok(name.to_string())
}

/// `s` cut to at most `max_bytes` of UTF-8, on a char boundary and not between a base letter
/// and its combining marks, with trailing whitespace removed.
pub fn truncate_label(s: &str, max_bytes: usize) -> &str {
    if s.len() <= max_bytes {
        return s;
    }
    let mut end = max_bytes;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    // The first char cut off is a combining mark: its base letter goes too.
    while end > 0 && s[end..].chars().next().is_some_and(is_combining_mark) {
        end = s[..end].char_indices().next_back().map_or(0, |(i, _)| i);
    }
    s[..end].trim_end()
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// `name` as a `.local.` host name: `phonghop-ab12`, `phonghop-ab12.local` and
/// `phonghop-ab12.local.` all give `phonghop-ab12.local.`. Labels are 1–63 bytes of ASCII
/// letters, digits and `-`, not starting or ending with `-`.
pub fn local_host(name: &str) -> Result<String, DiscoveryError> {
    let trimmed = name.trim().trim_end_matches('.');
    let stem = match trimmed.len().checked_sub(".local".len()) {
        Some(cut)
            if trimmed.is_char_boundary(cut) && trimmed[cut..].eq_ignore_ascii_case(".local") =>
        {
            &trimmed[..cut]
        }
        _ => trimmed,
    };
    let bad = |why: &str| DiscoveryError::InvalidAnnouncement(format!("host {name:?}: {why}"));
    if stem.is_empty() {
        return Err(bad("empty"));
    }
    for label in stem.split('.') {
        if label.is_empty() || label.len() > MAX_LABEL_BYTES {
            return Err(bad("each label must be 1 to 63 bytes"));
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return Err(bad("only ASCII letters, digits and inner '-' are allowed"));
        }
    }
    Ok(format!("{stem}.local."))
}

/// `phonghop-<short id>.local.` from a node id (its first 8 ASCII alphanumerics, lowercased).
pub fn box_host(node_id: &str) -> Result<String, DiscoveryError> {
    let short: String = node_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    if short.is_empty() {
        return Err(DiscoveryError::InvalidAnnouncement(format!(
            "node id {node_id:?} has no ASCII letters or digits"
        )));
    }
    local_host(&format!("phonghop-{short}"))
}

/// The machine's host name as a `.local.` name (first label, lowercased, characters other than
/// ASCII letters and digits turned into `-`); `None` if nothing usable is left.
pub fn machine_host() -> Option<String> {
    let raw = gethostname::gethostname().to_string_lossy().into_owned();
    let first = raw.split('.').next().unwrap_or_default();
    let label: String = first
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let label = truncate_label(label.trim_matches('-'), MAX_LABEL_BYTES).trim_end_matches('-');
    local_host(label).ok()
}

fn check_txt(txt: &[(String, String)]) -> Result<(), DiscoveryError> {
    let bad = |why: String| DiscoveryError::InvalidAnnouncement(format!("TXT: {why}"));
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut total = 0;
    for (k, v) in txt {
        if k.is_empty() || !k.bytes().all(|b| (0x20..=0x7e).contains(&b) && b != b'=') {
            return Err(bad(format!(
                "key {k:?} must be non-empty printable ASCII without '='"
            )));
        }
        if !seen.insert(k.to_ascii_lowercase()) {
            return Err(bad(format!("duplicate key {k:?}")));
        }
        let len = k.len() + 1 + v.len();
        if len > 255 {
            return Err(bad(format!("{k}=… is {len} bytes, over 255")));
        }
        total += len + 1;
    }
    if total > MAX_TXT_BYTES {
        return Err(bad(format!("{total} bytes in all, over {MAX_TXT_BYTES}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_interfaces() {
        assert_eq!("all".parse::<Interfaces>().unwrap(), Interfaces::AllLan);
        assert_eq!(" LO ".parse::<Interfaces>().unwrap(), Interfaces::Loopback);
        assert_eq!(
            "loopback".parse::<Interfaces>().unwrap(),
            Interfaces::Loopback
        );
        assert_eq!("off".parse::<Interfaces>().unwrap(), Interfaces::Off);
        assert_eq!(
            "eth1, wlan0,eth1".parse::<Interfaces>().unwrap(),
            Interfaces::Named(vec!["eth1".into(), "wlan0".into()])
        );
        assert_eq!(
            "eth1".parse::<Interfaces>().unwrap(),
            Interfaces::Named(vec!["eth1".into()])
        );
        for bad in [
            "",
            "eth0,",
            "all,eth0",
            "eth0,off",
            "a b",
            "eth0:1",
            "averyveryverylongname",
        ] {
            assert!(bad.parse::<Interfaces>().is_err(), "{bad:?}");
        }
        for s in ["all", "loopback", "off", "eth1,wlan0"] {
            assert_eq!(s.parse::<Interfaces>().unwrap().to_string(), s);
        }
        let json = serde_json::to_string(&Interfaces::Named(vec!["eth1".into()])).unwrap();
        assert_eq!(json, "\"eth1\"");
        let back: Interfaces = serde_json::from_str("\"lo\"").unwrap();
        assert_eq!(back, Interfaces::Loopback);
        assert!(serde_json::from_str::<Interfaces>("\"all,x\"").is_err());
        assert_eq!(Interfaces::default(), Interfaces::AllLan);
    }

    #[test]
    fn selects_interfaces() {
        let all = Interfaces::AllLan;
        assert!(all.selects("eth0", false));
        assert!(all.selects("wlan0", false));
        assert!(all.selects("br0", false));
        assert!(!all.selects("lo", true));
        assert!(!all.selects("docker0", false));
        assert!(!all.selects("br-3f2a", false));
        assert!(!all.selects("veth12ab", false));
        assert!(Interfaces::Loopback.selects("lo", true));
        assert!(!Interfaces::Loopback.selects("eth0", false));
        let named = Interfaces::Named(vec!["eth1".into()]);
        assert!(named.selects("eth1", false));
        assert!(named.selects("eth1:0", false));
        assert!(!named.selects("eth10", false));
        assert!(!named.selects("lo", true));
        assert!(!Interfaces::Off.selects("eth0", false));
    }

    #[test]
    fn truncates_on_char_and_mark_boundaries() {
        let room = "Phòng họp UBND xã Tân Phú";
        assert_eq!(instance_name(room).unwrap(), room);
        assert_eq!(truncate_label("abc", 63), "abc");
        // "ò" is 2 bytes: cutting at 3 would split it.
        assert_eq!(truncate_label("Phòng", 3), "Ph");
        // Decomposed "ệ" = e + U+0323 + U+0302: never keep "e" without its marks.
        let nfd = "Nghe\u{323}\u{302}";
        for max in 4..nfd.len() {
            assert_eq!(truncate_label(nfd, max), "Ngh", "max {max}");
        }
        assert_eq!(truncate_label(nfd, nfd.len()), nfd);
        assert_eq!(truncate_label("ab cd", 3), "ab");

        let long = "Phòng họp Hội đồng nhân dân và Ủy ban nhân dân xã Tân Phú, huyện Đồng Phú";
        let cut = instance_name(long).unwrap();
        assert!(cut.len() <= MAX_INSTANCE_BYTES, "{} bytes", cut.len());
        assert!(long.starts_with(&cut));
        assert!(cut.len() > MAX_INSTANCE_BYTES - 4);

        assert_eq!(
            instance_name(" P. họp\tsố 1\\2 ").unwrap(),
            "P\u{2024} họpsố 1/2"
        );
        assert!(instance_name(" \n ").is_err());
    }

    #[test]
    fn host_names() {
        for ok in [
            "phonghop-ab12",
            "phonghop-ab12.local",
            "phonghop-ab12.local.",
            "Box-1.LOCAL",
        ] {
            let h = local_host(ok).unwrap();
            assert!(h.ends_with(".local."), "{h}");
            assert!(!h.ends_with(".local.local."), "{h}");
        }
        assert_eq!(local_host("phonghop-ab12").unwrap(), "phonghop-ab12.local.");
        for bad in [
            "",
            ".local.",
            "-x",
            "x-",
            "a b",
            "phòng",
            "a..b",
            &"x".repeat(64),
        ] {
            assert!(local_host(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            box_host("AB12-cd34-ef56").unwrap(),
            "phonghop-ab12cd34.local."
        );
        assert!(box_host("--").is_err());
        if let Some(h) = machine_host() {
            assert!(local_host(&h).is_ok(), "{h}");
        }
    }

    #[test]
    fn txt_rules() {
        let a = Announcement::room("Phòng", "h", 8443, "ab12", "0.1.0");
        check_txt(&a.txt).unwrap();
        let keys: Vec<&str> = a.txt.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["path", "node", "role", "ver"]);
        let t = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        assert!(check_txt(&t("", "x")).is_err());
        assert!(check_txt(&t("a=b", "x")).is_err());
        assert!(check_txt(&t("khóa", "x")).is_err());
        assert!(check_txt(&t("k", &"v".repeat(254))).is_err());
        assert!(check_txt(&t("k", &"v".repeat(253))).is_ok());
        let mut dup = t("Node", "1");
        dup.extend(t("node", "2"));
        assert!(check_txt(&dup).is_err());
    }

    #[test]
    fn instance_of_fullname() {
        assert_eq!(
            instance_of("Phòng họp._https._tcp.local.").as_deref(),
            Some("Phòng họp")
        );
        assert_eq!(
            instance_of("A.B._HTTPS._tcp.local.").as_deref(),
            Some("A.B")
        );
        assert_eq!(instance_of("._https._tcp.local."), None);
        assert_eq!(instance_of("x._http._tcp.local."), None);
        assert_eq!(instance_of("local."), None);
    }

    #[test]
    fn parses_proc_net_dev() {
        let s = "Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n    lo: 0 0 0\n  eth0: 1 2 3\nwlan0:4 5\n";
        assert_eq!(parse_proc_net_dev(s), ["lo", "eth0", "wlan0"]);
    }

    #[test]
    fn off_creates_nothing() {
        // No daemon is created for Off: this is safe in the host namespace.
        let a = Announcement::room("Phòng", "phonghop-ab12", 8443, "ab12", "0.1.0");
        assert!(announce(&Interfaces::Off, &a).unwrap().is_none());
        assert!(matches!(
            browse(&Interfaces::Off, Duration::from_millis(1)),
            Err(DiscoveryError::Off)
        ));
        assert!(startup_exposure(&Interfaces::Off).is_empty());
    }

    #[test]
    fn invalid_announcements_fail_before_any_daemon() {
        // Validation happens before the daemon starts (and before the exposure check), so
        // these never touch the network even in the host namespace.
        let ok = Announcement::room("Phòng", "phonghop-ab12", 8443, "ab12", "0.1.0");
        let mut a = ok.clone();
        a.port = 0;
        assert!(matches!(
            announce(&Interfaces::Loopback, &a),
            Err(DiscoveryError::InvalidAnnouncement(_))
        ));
        let mut a = ok.clone();
        a.host = "bad host".into();
        assert!(matches!(
            announce(&Interfaces::Loopback, &a),
            Err(DiscoveryError::InvalidAnnouncement(_))
        ));
        let mut a = ok;
        a.instance = "\t".into();
        assert!(matches!(
            announce(&Interfaces::Loopback, &a),
            Err(DiscoveryError::InvalidAnnouncement(_))
        ));
    }

    // ---- Tests that run mdns-sd: only ever inside a private network namespace. ----

    const NETNS_ENV: &str = "PHONGHOP_MDNS_NETNS";
    const LO_SETUP: &str = "ip link set lo up && ip link set lo multicast on";
    /// A veth pair that exists only inside the namespace (no real interface is involved).
    /// IPv6 router solicitations and DAD are turned off so that v0's only traffic is ours.
    const VETH_SETUP: &str = "echo 0 > /proc/sys/net/ipv6/conf/default/router_solicitations \
        && echo 0 > /proc/sys/net/ipv6/conf/default/dad_transmits \
        && ip link add v0 type veth peer name v1 \
        && ip link set v0 multicast on && ip link set v1 multicast on \
        && ip addr add 10.77.0.1/24 dev v0 && ip addr add 10.77.0.2/24 dev v1 \
        && ip link set v0 up && ip link set v1 up";

    /// Re-runs the ignored test `name` of this binary inside `unshare -rn` (new user and network
    /// namespaces: only the interfaces `setup` creates exist) and asserts that it passed.
    fn run_in_netns(setup: &str, name: &str) {
        let module = module_path!()
            .split_once("::")
            .map_or(module_path!(), |(_, rest)| rest);
        let test = format!("{module}::{name}");
        let exe = std::env::current_exe().expect("current test binary");
        let script = format!(
            "set -e; {setup}; {NETNS_ENV}=1 exec \"$0\" --ignored --exact \"$1\" --show-output --test-threads=1"
        );
        let out = match std::process::Command::new("unshare")
            .args(["-rn", "sh", "-c", &script])
            .arg(&exe)
            .arg(&test)
            .output()
        {
            Ok(out) => out,
            Err(e) => panic!(
                "cannot run `unshare` ({e}): the mDNS tests must run in a private network \
                 namespace (`unshare -rn`, util-linux) and are NOT skipped without it"
            ),
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        println!("--- {test} in netns: stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
        assert!(
            out.status.success(),
            "{test} failed in `unshare -rn` ({}); if unshare itself failed, user namespaces may \
             be disabled (sysctl kernel.unprivileged_userns_clone / user.max_user_namespaces). \
             stderr:\n{stderr}",
            out.status
        );
        assert!(
            stdout.contains(&format!("test {test} ... ok")) && stdout.contains("1 passed"),
            "{test} did not run in the namespace:\n{stdout}"
        );
    }

    /// Panics unless this process is in a namespace made by [`run_in_netns`]: the marker is set
    /// and no interface other than `lo` and the private veth pair exists.
    fn assert_private_netns() {
        assert_eq!(
            std::env::var(NETNS_ENV).as_deref(),
            Ok("1"),
            "mDNS test run outside its network namespace; run it via the wrapper test"
        );
        let names = proc_net_dev();
        assert!(
            !names.is_empty()
                && names
                    .iter()
                    .all(|n| ["lo", "v0", "v1"].contains(&n.as_str())),
            "unexpected interfaces {names:?}: refusing to run mDNS here"
        );
    }

    /// Which interfaces hold the IPv4 mDNS group, from `/proc/self/net/igmp`.
    fn igmp_members() -> BTreeSet<String> {
        // 224.0.0.251 as the kernel prints it (host byte order on little-endian).
        let group = if cfg!(target_endian = "little") {
            "FB0000E0"
        } else {
            "E00000FB"
        };
        let s = std::fs::read_to_string("/proc/self/net/igmp").unwrap();
        let mut dev = String::new();
        let mut members = BTreeSet::new();
        for line in s.lines().skip(1) {
            if !line.starts_with(char::is_whitespace) {
                dev = line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_string();
            } else if line.split_whitespace().next() == Some(group) {
                members.insert(dev.clone());
            }
        }
        members
    }

    /// Which interfaces hold the IPv6 mDNS group ff02::fb, from `/proc/self/net/igmp6`.
    fn mld_members() -> BTreeSet<String> {
        let s = std::fs::read_to_string("/proc/self/net/igmp6").unwrap_or_default();
        s.lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() > 2 && f[2] == "ff0200000000000000000000000000fb")
                    .then(|| f[1].to_string())
            })
            .collect()
    }

    /// Transmitted packets of an interface, from `/proc/self/net/dev`.
    fn tx_packets(dev: &str) -> u64 {
        let s = std::fs::read_to_string("/proc/self/net/dev").unwrap();
        s.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.trim() == dev)
            .and_then(|(_, rest)| rest.split_whitespace().nth(9)?.parse().ok())
            .unwrap()
    }

    /// A per-interface IPv6 counter, from `/proc/self/net/dev_snmp6/<dev>`.
    fn snmp6(dev: &str, key: &str) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/self/net/dev_snmp6/{dev}")).unwrap();
        s.lines()
            .find_map(|l| {
                let mut f = l.split_whitespace();
                (f.next() == Some(key)).then(|| f.next()?.parse().ok())?
            })
            .unwrap()
    }

    /// Waits until `dev` has sent nothing for 2 s (delayed IGMP/MLD reports), at most 15 s.
    fn wait_quiet(dev: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut last = tx_packets(dev);
        let mut since = Instant::now();
        while Instant::now() < deadline && since.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(100));
            let now = tx_packets(dev);
            if now != last {
                last = now;
                since = Instant::now();
            }
        }
    }

    fn wait_for_resolved(
        events: &mdns_sd::Receiver<ServiceEvent>,
        fullname: &str,
        within: Duration,
    ) -> Option<FoundBox> {
        let deadline = Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match events.recv_timeout(left) {
                Ok(ServiceEvent::ServiceResolved(svc))
                    if svc.fullname.eq_ignore_ascii_case(fullname) =>
                {
                    return found_box(&svc);
                }
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }

    fn wait_for_removed(
        events: &mdns_sd::Receiver<ServiceEvent>,
        fullname: &str,
        within: Duration,
    ) -> bool {
        let deadline = Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match events.recv_timeout(left) {
                Ok(ServiceEvent::ServiceRemoved(_, name))
                    if name.eq_ignore_ascii_case(fullname) =>
                {
                    return true;
                }
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    }

    const ROOM: &str = "Phòng họp UBND xã Tân Phú";
    const LONG_ROOM: &str =
        "Phòng họp Hội đồng nhân dân và Ủy ban nhân dân xã Tân Phú, huyện Đồng Phú, tỉnh Đồng Nai";

    #[test]
    fn announce_and_browse_on_loopback() {
        run_in_netns(LO_SETUP, "netns_announce_and_browse_on_loopback");
    }

    #[test]
    fn interface_selection_in_netns() {
        run_in_netns(
            &format!("{LO_SETUP} && {VETH_SETUP}"),
            "netns_interface_selection",
        );
    }

    #[test]
    #[ignore = "runs mdns-sd: only inside `unshare -rn`, via announce_and_browse_on_loopback"]
    fn netns_announce_and_browse_on_loopback() {
        assert_private_netns();
        assert!(startup_exposure(&Interfaces::Loopback).is_empty());

        let a = Announcement::room(ROOM, "phonghop-ab12.local.", 8443, "ab12cd34", "0.1.0");
        let announcer = announce(&Interfaces::Loopback, &a).unwrap().unwrap();
        assert_eq!(announcer.instance(), ROOM);
        assert_eq!(announcer.host(), "phonghop-ab12.local.");
        let long = Announcement::room(LONG_ROOM, "phonghop-cd34", 9443, "cd34", "0.1.0");
        let long_announcer = announce(&Interfaces::Loopback, &long).unwrap().unwrap();
        let dotted = Announcement::room("P. họp số 1", "phonghop-ef56", 7443, "ef56", "0.1.0");
        let dotted_announcer = announce(&Interfaces::Loopback, &dotted).unwrap().unwrap();
        assert_eq!(igmp_members(), BTreeSet::from(["lo".to_string()]));

        // A second daemon, browsing for the whole test, to see the goodbye.
        let watcher = start_daemon(&Interfaces::Loopback, StartupJoins::Refuse).unwrap();
        let events = watcher.browse(SERVICE_TYPE).unwrap();
        let seen = wait_for_resolved(&events, announcer.fullname(), Duration::from_secs(10))
            .expect("the watcher resolves the announcement");
        assert_eq!(seen.instance, ROOM);

        let found = browse(&Interfaces::Loopback, Duration::from_secs(3)).unwrap();
        println!("found: {found:#?}");
        let b = found
            .iter()
            .find(|b| b.instance == ROOM)
            .expect("room found");
        assert_eq!(b.host, "phonghop-ab12.local.");
        assert_eq!(b.port, 8443);
        assert!(
            b.addrs.contains(&IpAddr::from([127, 0, 0, 1])),
            "{:?}",
            b.addrs
        );
        assert!(b.addrs.iter().all(|a| a.is_loopback()), "{:?}", b.addrs);
        let txt: Vec<(&str, &str)> = b
            .txt
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            txt,
            [
                ("path", "/"),
                ("node", "ab12cd34"),
                ("role", "room"),
                ("ver", "0.1.0")
            ]
        );
        assert_eq!(b.txt_value("ROLE"), Some("room"));
        assert_eq!(*b, seen);

        let l = found
            .iter()
            .find(|b| b.port == 9443)
            .expect("long-named room found");
        assert_eq!(l.instance, long_announcer.instance());
        assert!(l.instance.len() <= MAX_INSTANCE_BYTES);
        assert!(LONG_ROOM.starts_with(&l.instance));
        let d = found
            .iter()
            .find(|b| b.port == 7443)
            .expect("dotted room found");
        assert_eq!(d.instance, "P\u{2024} họp số 1");
        assert_eq!(d.instance, dotted_announcer.instance());
        assert_eq!(found.len(), 3, "{found:#?}");

        // Goodbye: the watcher sees the removal.
        let fullname = announcer.fullname().to_string();
        announcer.shutdown().unwrap();
        assert!(
            wait_for_removed(&events, &fullname, Duration::from_secs(5)),
            "goodbye seen by the watcher"
        );
        let later = browse(&Interfaces::Loopback, Duration::from_secs(2)).unwrap();
        assert!(later.iter().all(|b| b.instance != ROOM), "{later:#?}");
        assert_eq!(later.len(), 2, "{later:#?}");

        long_announcer.shutdown().unwrap();
        drop(dotted_announcer); // stops without waiting; its daemon's cleanup says goodbye
        stop_daemon(&watcher).unwrap();
    }

    #[test]
    #[ignore = "runs mdns-sd: only inside `unshare -rn`, via interface_selection_in_netns"]
    fn netns_interface_selection() {
        assert_private_netns();
        let lo_only = Interfaces::Loopback;
        let veths = Interfaces::Named(vec!["v0".into(), "v1".into()]);
        let v0 = Interfaces::Named(vec!["v0".into()]);

        // Strict by default: other interfaces exist, so Loopback and Named(v0) refuse.
        assert_eq!(startup_exposure(&lo_only), ["v0", "v1"]);
        assert_eq!(startup_exposure(&v0), ["v1"]);
        assert!(startup_exposure(&veths).is_empty());
        let a_lo = Announcement::room(ROOM, "phonghop-lo", 8443, "lo01", "0.1.0");
        let err = announce(&lo_only, &a_lo).unwrap_err();
        assert!(
            matches!(&err, DiscoveryError::UnselectedInterfaces { interfaces, .. } if interfaces == &["v0", "v1"]),
            "{err}"
        );
        println!("refusal: {err}");
        assert!(matches!(
            browse(&v0, Duration::from_millis(10)),
            Err(DiscoveryError::UnselectedInterfaces { .. })
        ));
        assert!(igmp_members().is_empty(), "{:?}", igmp_members());

        // Tolerated: the transient join happens, but by the time announce returns only lo holds
        // the group. Measure what left v0 meanwhile (nothing else uses v0 in this phase).
        wait_quiet("v0");
        let before = (
            tx_packets("v0"),
            snmp6("v0", "Ip6OutMcastPkts"),
            snmp6("v0", "Icmp6OutMLDv2Reports"),
        );
        let lo_announcer = announce_with(&lo_only, &a_lo, StartupJoins::Tolerate)
            .unwrap()
            .unwrap();
        assert_eq!(igmp_members(), BTreeSet::from(["lo".to_string()]));
        assert!(
            mld_members().iter().all(|d| d == "lo"),
            "{:?}",
            mld_members()
        );
        let on_lo = browse_with(&lo_only, Duration::from_secs(3), StartupJoins::Tolerate).unwrap();
        assert_eq!(on_lo.len(), 1, "{on_lo:#?}");
        assert_eq!(on_lo[0].instance, ROOM);
        assert!(
            on_lo[0].addrs.iter().all(|a| a.is_loopback()),
            "{:?}",
            on_lo[0].addrs
        );
        wait_quiet("v0");
        let tx = tx_packets("v0") - before.0;
        let v6_mcast = snmp6("v0", "Ip6OutMcastPkts") - before.1;
        let mld = snmp6("v0", "Icmp6OutMLDv2Reports") - before.2;
        println!(
            "v0 during two tolerated Loopback starts (announce + browse): {tx} packets, of which \
             {v6_mcast} IPv6 multicast, {mld} of them MLD reports; {} non-IPv6",
            tx - v6_mcast
        );
        assert_eq!(v6_mcast, mld, "only MLD reports went out on v0 over IPv6");

        // An announcement on the veths only.
        let a_v = Announcement::room("Phòng họp thôn 2", "phonghop-v0", 9443, "v001", "0.1.0");
        let v_announcer = announce(&veths, &a_v).unwrap().unwrap();
        assert!(igmp_members().is_superset(&BTreeSet::from(["v0".to_string(), "v1".to_string()])));

        std::thread::sleep(Duration::from_millis(1500)); // let both finish probing
        let on_lo = browse_with(&lo_only, Duration::from_secs(3), StartupJoins::Tolerate).unwrap();
        let on_veth = browse(&veths, Duration::from_secs(3)).unwrap();
        let on_lan = browse(&Interfaces::AllLan, Duration::from_secs(3)).unwrap();
        println!("lo: {on_lo:#?}\nveth: {on_veth:#?}\nall: {on_lan:#?}");
        let names = |v: &[FoundBox]| v.iter().map(|b| b.instance.clone()).collect::<Vec<_>>();
        assert_eq!(names(&on_lo), [ROOM], "loopback sees only the loopback box");
        assert_eq!(
            names(&on_veth),
            ["Phòng họp thôn 2"],
            "veths see only the veth box"
        );
        assert_eq!(
            names(&on_lan),
            ["Phòng họp thôn 2"],
            "AllLan leaves loopback out"
        );
        assert!(
            on_lo[0].addrs.iter().all(|a| a.is_loopback()),
            "{:?}",
            on_lo[0].addrs
        );
        let v_addrs = &on_veth[0].addrs;
        assert!(
            v_addrs.contains(&IpAddr::from([10, 77, 0, 1])),
            "{v_addrs:?}"
        );
        assert!(v_addrs.iter().all(|a| !a.is_loopback()), "{v_addrs:?}");

        lo_announcer.shutdown().unwrap();
        v_announcer.shutdown().unwrap();
    }
}
