//! Where win notices may go: an absolute http(s) URL without user information, whose
//! address is public unless the operator allows private targets. Checked at creation on
//! the URL, and again at delivery on every address its name resolves to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Longest webhook URL, in bytes.
pub const MAX_URL_LEN: usize = 2048;

/// Whether notices may reach private addresses (loopback, link-local, private ranges).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Targets {
    /// Public addresses only (the default): no cloud metadata, no internal services.
    #[default]
    PublicOnly,
    /// Any address (tests, private networks).
    AllowPrivate,
}

/// Why a webhook URL is refused, in the contract's words; `None` when it is fine.
pub fn url_problem(raw: &str, targets: Targets) -> Option<&'static str> {
    const SHAPE: &str = "must be an absolute http:// or https:// URL";
    if raw.len() > MAX_URL_LEN {
        return Some("must be at most 2048 bytes");
    }
    let Ok(url) = url::Url::parse(raw) else {
        return Some(SHAPE);
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Some(SHAPE);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Some("must not carry user information");
    }
    let inward = match url.host() {
        None => return Some(SHAPE),
        Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    };
    (inward && targets == Targets::PublicOnly)
        .then_some("must not point at a loopback, link-local or private address")
}

/// Whether a notice may be sent to `ip` under `targets`.
pub fn may_reach(ip: IpAddr, targets: Targets) -> bool {
    targets == Targets::AllowPrivate || is_public(ip)
}

/// A routable, public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || first == 0x2001 && ip.segments()[1] == 0xdb8) // documentation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inward_urls_are_refused_unless_allowed() {
        for bad in [
            "http://169.254.169.254/latest/meta-data",
            "http://127.0.0.1:8080/hook",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost:3000/",
            "http://api.localhost/",
            "http://0.0.0.0/",
            "http://100.64.0.1/",
        ] {
            assert!(url_problem(bad, Targets::PublicOnly).is_some(), "{bad}");
            assert_eq!(url_problem(bad, Targets::AllowPrivate), None, "{bad}");
        }
        assert_eq!(
            url_problem("https://hooks.example.com/x", Targets::PublicOnly),
            None
        );
        assert_eq!(
            url_problem("http://93.184.216.34/", Targets::PublicOnly),
            None
        );
    }

    #[test]
    fn user_information_and_other_schemes_are_refused_always() {
        for bad in [
            "https://user:pass@example.com/",
            "https://user@example.com/",
            "ftp://example.com/",
            "/relative",
        ] {
            assert!(url_problem(bad, Targets::AllowPrivate).is_some(), "{bad}");
        }
    }
}
