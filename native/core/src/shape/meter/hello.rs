//! A flow's TLS or QUIC handshake, timed from record and packet headers alone (nothing is
//! decrypted):
//!
//! - TLS over TCP: the opener's ClientHello entering the lab → the ServerHello leaving it
//!   toward the opener → the opener's first application-data record entering the lab.
//!   That last one is what the opener sends once its handshake is done (in TLS 1.3 its
//!   Finished travels as application data; in 1.2 its first request does), so
//!   ClientHello → first application data is the handshake as the client lives it, the
//!   span curl reports as `time_appconnect - time_connect`. A ClientHello is looked for in
//!   the opener's first `LOOK` payload packets, so STARTTLS (XMPP, SMTP) is timed too.
//! - QUIC: the opener's first Initial → its first 1-RTT (short-header) packet, sent once
//!   it has the keys, which is when its handshake is done.
//!
//! Each packet costs a flag test once the handshake is timed or given up on.

use super::tcp::NONE;
use crate::wire::{quic, tls};

/// Payload packets of the opener examined for a ClientHello or a QUIC Initial, and
/// packets toward the opener examined for the ServerHello, before giving up.
const LOOK: u8 = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hello {
    pub client_hello_ns: u64,
    pub server_hello_ns: u64,
    pub app_data_ns: u64,
    pub quic_initial_ns: u64,
    pub quic_1rtt_ns: u64,
    looked_up: u8,
    looked_down: u8,
    done: bool,
}

impl Default for Hello {
    fn default() -> Hello {
        Hello {
            client_hello_ns: NONE,
            server_hello_ns: NONE,
            app_data_ns: NONE,
            quic_initial_ns: NONE,
            quic_1rtt_ns: NONE,
            looked_up: 0,
            looked_down: 0,
            done: false,
        }
    }
}

impl Hello {
    /// A payload packet entered the lab; `from_opener`: sent by the side that opened the flow.
    pub fn sent(&mut self, tcp: bool, from_opener: bool, payload: &[u8], now: u64) {
        if self.done || !from_opener || payload.is_empty() {
            return;
        }
        if tcp {
            if self.client_hello_ns == NONE {
                if tls::starts_with_handshake(payload, tls::HANDSHAKE_CLIENT_HELLO) {
                    self.client_hello_ns = now;
                } else {
                    self.give_up_after_look();
                }
            } else if self.server_hello_ns != NONE
                && tls::record_types(payload).any(|t| t == tls::CONTENT_APPLICATION_DATA)
            {
                self.app_data_ns = now;
                self.done = true;
            }
        } else if self.quic_initial_ns == NONE {
            if self.looked_up == 0 && quic::is_initial(payload) {
                self.quic_initial_ns = now;
            } else {
                self.done = true; // a QUIC flow opens with an Initial
            }
        } else if quic::is_short_header(payload) {
            self.quic_1rtt_ns = now;
            self.done = true;
        }
    }

    fn give_up_after_look(&mut self) {
        self.looked_up += 1;
        if self.looked_up >= LOOK {
            self.done = true;
        }
    }

    /// A payload packet left the lab toward the opener (TCP).
    pub fn delivered(&mut self, to_opener: bool, payload: &[u8], now: u64) {
        if self.done
            || !to_opener
            || self.client_hello_ns == NONE
            || self.server_hello_ns != NONE
            || payload.is_empty()
        {
            return;
        }
        if tls::starts_with_handshake(payload, tls::HANDSHAKE_SERVER_HELLO) {
            self.server_hello_ns = now;
        } else {
            self.looked_down += 1;
            if self.looked_down >= LOOK {
                self.done = true;
            }
        }
    }

    /// ClientHello → ServerHello, ClientHello → first application data (TLS).
    pub fn tls_ns(&self) -> (Option<u64>, Option<u64>) {
        let since =
            |t: u64| (t != NONE && self.client_hello_ns != NONE).then(|| t - self.client_hello_ns);
        (since(self.server_hello_ns), since(self.app_data_ns))
    }

    /// Initial → first 1-RTT packet (QUIC).
    pub fn quic_ns(&self) -> Option<u64> {
        (self.quic_1rtt_ns != NONE && self.quic_initial_ns != NONE)
            .then(|| self.quic_1rtt_ns - self.quic_initial_ns)
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::wire::tls::build_client_hello;

    const MS: u64 = 1_000_000;
    const SERVER_HELLO: &[u8] = &[22, 3, 3, 0, 4, 2, 0, 0, 0];

    #[test]
    fn tls_13_client_hello_server_hello_finished() {
        let mut h = Hello::default();
        h.sent(
            true,
            true,
            &build_client_hello("x.example", &["h2"], false, 0),
            10 * MS,
        );
        h.delivered(true, b"\x17\x03\x03\x00\x01x", 20 * MS); // not a ServerHello
        h.delivered(true, SERVER_HELLO, 52 * MS);
        // The client's second flight: CCS, then Finished as application data.
        h.sent(
            true,
            true,
            &[20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 2, 9, 9],
            55 * MS,
        );
        assert_eq!(h.tls_ns(), (Some(42 * MS), Some(45 * MS)));
        h.sent(true, true, &[23, 3, 3, 0, 2, 9, 9], 90 * MS);
        assert_eq!(h.tls_ns().1, Some(45 * MS), "the first one counts");
    }

    #[test]
    fn starttls_is_timed_from_its_client_hello() {
        let mut h = Hello::default();
        h.sent(true, true, b"<stream:stream to='lab'>", 0);
        h.sent(true, true, b"<starttls/>", MS);
        h.sent(
            true,
            true,
            &build_client_hello("lab", &[], false, 0),
            5 * MS,
        );
        h.delivered(true, SERVER_HELLO, 9 * MS);
        h.sent(true, true, &[23, 3, 3, 0, 1, 0], 12 * MS);
        assert_eq!(h.tls_ns(), (Some(4 * MS), Some(7 * MS)));
    }

    #[test]
    fn plain_tcp_gives_up_after_the_look_window() {
        let mut h = Hello::default();
        for i in 0..u64::from(LOOK) {
            h.sent(true, true, b"GET / HTTP/1.1\r\n", i);
        }
        assert!(h.done);
        h.sent(true, true, &build_client_hello("late", &[], false, 0), 999);
        assert_eq!(h.client_hello_ns, NONE);
    }

    #[test]
    fn quic_initial_to_first_short_header() {
        let mut h = Hello::default();
        h.sent(
            false,
            true,
            &quic::build_initial(quic::VERSION_1, 1200),
            3 * MS,
        );
        h.sent(
            false,
            true,
            &quic::build_initial(quic::VERSION_1, 1200),
            4 * MS,
        );
        h.sent(false, false, &[0x41, 0, 0], 20 * MS); // the server's 1-RTT: not the client's
        h.sent(false, true, &[0x41, 0, 0], 31 * MS);
        assert_eq!(h.quic_ns(), Some(28 * MS));
        // A UDP flow that does not open with an Initial is no QUIC flow.
        let mut rtp = Hello::default();
        rtp.sent(false, true, &[0x80, 0x6f, 0, 1], 0);
        rtp.sent(false, true, &quic::build_initial(quic::VERSION_1, 1200), MS);
        assert_eq!(rtp.quic_initial_ns, NONE);
    }
}
