//! Why the shaping path dropped a packet: the drop reasons every stage reports.

/// Why the shaping path dropped a packet. The JSON names are part of the TS contract
/// (`ShapingDrops` in src/native/index.ts; test/native.test.ts checks they agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Loss,
    Police,
    Queue,
    Codel,
    Blackhole,
    DropAfter,
    Reset,
    Penalty,
    /// A DNS query an in-path injector answered itself (`dns-inject` with `drop_query`).
    DnsInject,
    /// The pipeline holds its maximum number of packets.
    Overflow,
    /// Unparseable at the shaping stage (the forwarder already dropped most).
    Malformed,
}

impl Reason {
    pub const ALL: [Reason; 11] = [
        Reason::Loss,
        Reason::Police,
        Reason::Queue,
        Reason::Codel,
        Reason::Blackhole,
        Reason::DropAfter,
        Reason::Reset,
        Reason::Penalty,
        Reason::DnsInject,
        Reason::Overflow,
        Reason::Malformed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Loss => "loss",
            Reason::Police => "police",
            Reason::Queue => "queue",
            Reason::Codel => "codel",
            Reason::Blackhole => "blackhole",
            Reason::DropAfter => "drop-after",
            Reason::Reset => "reset",
            Reason::Penalty => "penalty",
            Reason::DnsInject => "dns-inject",
            Reason::Overflow => "overflow",
            Reason::Malformed => "malformed",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}
