//! The names and addresses the box answers to, and the subnets its intermediate CA may cover.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::TlsError;

/// An IP network in CIDR form. Host bits are always cleared, so `192.168.1.7/24` is stored and
/// printed as `192.168.1.0/24`; serialised as that string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subnet {
    addr: IpAddr,
    prefix: u8,
}

impl Subnet {
    /// The network of `addr` with `prefix` leading bits. Fails if the prefix is longer than the
    /// address.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, TlsError> {
        let max = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        if prefix > max {
            return Err(TlsError::InvalidName {
                name: format!("{addr}/{prefix}"),
                reason: format!("prefix longer than {max} bits"),
            });
        }
        Ok(Self {
            addr: mask(addr, prefix),
            prefix,
        })
    }

    /// The subnet that holds exactly `ip` (/32 or /128).
    pub fn host(ip: IpAddr) -> Self {
        let prefix = match ip {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        Self { addr: ip, prefix }
    }

    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        same_family(self.addr, ip) && mask(ip, self.prefix) == self.addr
    }

    /// True if every address of `other` is in `self`.
    pub fn contains_subnet(&self, other: &Subnet) -> bool {
        other.prefix >= self.prefix && self.contains(other.addr)
    }
}

fn same_family(a: IpAddr, b: IpAddr) -> bool {
    matches!(
        (a, b),
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_))
    )
}

fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let m = u32::MAX
                .checked_shl(32u32.saturating_sub(u32::from(prefix)))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = u128::MAX
                .checked_shl(128u32.saturating_sub(u32::from(prefix)))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
        }
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for Subnet {
    type Err = TlsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| TlsError::InvalidName {
            name: s.to_string(),
            reason: reason.to_string(),
        };
        let (addr, prefix) = s
            .split_once('/')
            .ok_or_else(|| bad("expected ADDR/PREFIX"))?;
        let addr = addr.parse().map_err(|_| bad("not an IP address"))?;
        let prefix = prefix.parse().map_err(|_| bad("bad prefix length"))?;
        Subnet::new(addr, prefix)
    }
}

impl Serialize for Subnet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Subnet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What the box answers to. The first DNS name is the primary one: it becomes the leaf's CN,
/// so put the `.local` name first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoxNames {
    pub dns: Vec<String>,
    pub ips: Vec<IpAddr>,
    pub subnets: Vec<Subnet>,
}

const LOCALHOST: &str = "localhost";

impl BoxNames {
    /// Gathers `local_name` (first), the host name and `localhost`, and the addresses and subnets
    /// of every interface that is up, loopback included.
    ///
    /// IPv6 link-local addresses (fe80::/10) are left out: a URL cannot carry their zone in
    /// browsers, they change with the hardware, and they would widen the constraints for nothing.
    /// IPv4 link-local (169.254/16) is kept, since a room without DHCP may use it.
    pub fn detect(local_name: &str) -> Result<BoxNames, TlsError> {
        let mut dns = vec![local_name.to_string()];
        match gethostname::gethostname().into_string() {
            Ok(host) => match normalize_dns(&host) {
                Ok(host) => dns.push(host),
                Err(e) => tracing::warn!(error = %e, "host name left out of the certificate"),
            },
            Err(raw) => tracing::warn!(?raw, "host name is not UTF-8; left out of the certificate"),
        }

        let mut ips = Vec::new();
        let mut subnets = Vec::new();
        for iface in if_addrs::get_if_addrs().map_err(TlsError::Interfaces)? {
            if !interface_is_up(&iface.name) {
                continue;
            }
            let (ip, prefix) = match &iface.addr {
                if_addrs::IfAddr::V4(a) => (IpAddr::V4(a.ip), a.prefixlen),
                if_addrs::IfAddr::V6(a) => (IpAddr::V6(a.ip), a.prefixlen),
            };
            if is_ipv6_link_local(ip) || ip.is_unspecified() || ip.is_multicast() {
                continue;
            }
            ips.push(ip);
            subnets.push(interface_subnet(ip, prefix)?);
        }
        BoxNames { dns, ips, subnets }.normalized()
    }

    /// The canonical form used everywhere in this module: DNS names lower-cased and checked,
    /// `localhost`, 127.0.0.1, ::1, 127.0.0.0/8 and ::1/128 always present, every IP inside some
    /// subnet, duplicates and nested subnets removed. Order is kept, so the primary name stays
    /// first.
    pub fn normalized(&self) -> Result<BoxNames, TlsError> {
        let mut dns: Vec<String> = Vec::new();
        for name in self.dns.iter().map(|n| normalize_dns(n)) {
            let name = name?;
            if !dns.contains(&name) {
                dns.push(name);
            }
        }
        if !dns.iter().any(|d| d == LOCALHOST) {
            dns.push(LOCALHOST.to_string());
        }

        let mut ips: Vec<IpAddr> = Vec::new();
        let loopback = [
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ];
        for ip in self.ips.iter().chain(loopback.iter()).copied() {
            if ip.is_unspecified() || ip.is_multicast() {
                return Err(TlsError::InvalidName {
                    name: ip.to_string(),
                    reason: "not a unicast address".into(),
                });
            }
            if !ips.contains(&ip) {
                ips.push(ip);
            }
        }

        let mut wanted: Vec<Subnet> = self.subnets.clone();
        wanted.push(Subnet::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)), 8)?);
        wanted.push(Subnet::host(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        for ip in &ips {
            if !wanted.iter().any(|s| s.contains(*ip)) {
                wanted.push(Subnet::host(*ip));
            }
        }
        let mut subnets: Vec<Subnet> = Vec::new();
        for (i, s) in wanted.iter().enumerate() {
            let nested = wanted
                .iter()
                .enumerate()
                .any(|(j, o)| (o != s && o.contains_subnet(s)) || (o == s && j < i));
            if !nested {
                subnets.push(*s);
            }
        }
        Ok(BoxNames { dns, ips, subnets })
    }

    /// The primary DNS name (the leaf's CN). Only meaningful on a normalized value.
    pub fn primary(&self) -> &str {
        self.dns.first().map(String::as_str).unwrap_or(LOCALHOST)
    }
}

/// A very wide interface prefix (a misconfigured /0, some tunnels) would make the name
/// constraint meaningless, so such an interface only contributes its own address.
fn interface_subnet(ip: IpAddr, prefix: u8) -> Result<Subnet, TlsError> {
    let widest = match ip {
        IpAddr::V4(_) => 8,
        IpAddr::V6(_) => 48,
    };
    if prefix < widest {
        tracing::warn!(%ip, prefix, "interface prefix too wide for the CA constraints; using the address alone");
        return Ok(Subnet::host(ip));
    }
    Subnet::new(ip, prefix)
}

fn is_ipv6_link_local(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80)
}

/// Linux reports IFF_UP in /sys; elsewhere, or if unreadable, count the interface as up, which
/// only widens the certificate a little.
fn interface_is_up(name: &str) -> bool {
    let path = format!("/sys/class/net/{name}/flags");
    match std::fs::read_to_string(path) {
        Ok(s) => u32::from_str_radix(s.trim().trim_start_matches("0x"), 16)
            .map(|flags| flags & 0x1 != 0)
            .unwrap_or(true),
        Err(_) => true,
    }
}

/// Lower-cases and checks a host name the way certificates need it (ASCII LDH labels; IDNs
/// must already be in xn-- form).
pub(crate) fn normalize_dns(raw: &str) -> Result<String, TlsError> {
    let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let bad = |reason: &str| TlsError::InvalidName {
        name: raw.to_string(),
        reason: reason.to_string(),
    };
    if name.is_empty() {
        return Err(bad("empty"));
    }
    if name.len() > 253 {
        return Err(bad("longer than 253 characters"));
    }
    if name.parse::<IpAddr>().is_ok() {
        return Err(bad("an IP address is not a DNS name; list it under ips"));
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(bad("each label must have 1 to 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(bad(
                "only letters, digits and '-' are allowed (use the xn-- form for accents)",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(bad("a label cannot start or end with '-'"));
        }
    }
    Ok(name)
}

/// The permitted subtrees of an intermediate CA.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Coverage {
    pub dns: Vec<String>,
    pub subnets: Vec<Subnet>,
}

impl Coverage {
    pub fn of(names: &BoxNames) -> Self {
        Self {
            dns: names.dns.clone(),
            subnets: names.subnets.clone(),
        }
    }

    /// The names, addresses and subnets of `names` that this coverage does not permit.
    pub fn uncovered(&self, names: &BoxNames) -> Vec<String> {
        let mut out = Vec::new();
        for d in &names.dns {
            if !self.dns.iter().any(|c| dns_within(d, c)) {
                out.push(d.clone());
            }
        }
        for ip in &names.ips {
            if !self.subnets.iter().any(|s| s.contains(*ip)) {
                out.push(ip.to_string());
            }
        }
        for sub in &names.subnets {
            if !self.subnets.iter().any(|s| s.contains_subnet(sub)) {
                out.push(sub.to_string());
            }
        }
        out
    }
}

/// RFC 5280 dNSName constraint: the name itself or any name below it.
fn dns_within(name: &str, constraint: &str) -> bool {
    let constraint = constraint.trim_start_matches('.');
    name == constraint
        || name
            .strip_suffix(constraint)
            .is_some_and(|head| head.ends_with('.'))
}
