//! The server certificate as rustls sees it: one current chain, swapped in place on renewal.

use std::sync::{Arc, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// Hands every handshake the current leaf and intermediate. The SNI is ignored on purpose:
/// clients reaching the box by IP send none, and one leaf carries every name.
#[derive(Debug)]
pub(crate) struct LeafResolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl LeafResolver {
    pub fn new(initial: Arc<CertifiedKey>) -> Self {
        Self {
            current: RwLock::new(initial),
        }
    }

    pub fn current(&self) -> Arc<CertifiedKey> {
        // A poisoned lock still holds a complete Arc: the writer only ever swaps the pointer.
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub fn replace(&self, next: Arc<CertifiedKey>) {
        match self.current.write() {
            Ok(mut guard) => *guard = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }
}

impl ResolvesServerCert for LeafResolver {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}
