//! The one error type of the core. Its `code` is a stable string the TypeScript side
//! matches on (NativeErrorCode in src/native/index.ts); the message is for humans and
//! carries the OS error when there is one.

use std::fmt;
use std::io;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The configuration JSON is unparseable or a field is invalid.
    BadConfig,
    /// /dev/net/tun could not be opened or TUNSETIFF failed.
    TunOpen,
    /// A TUN ioctl after TUNSETIFF (offload, header size, non-blocking) failed.
    TunConfig,
    /// The forwarding thread or its epoll/eventfd could not be set up.
    Thread,
    /// No open lab has the given id.
    UnknownLab,
    /// `setActive` named a policy the lab's scenario does not have (or there is none).
    UnknownPolicy,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadConfig => "QL_BAD_CONFIG",
            Code::TunOpen => "QL_TUN_OPEN",
            Code::TunConfig => "QL_TUN_CONFIG",
            Code::Thread => "QL_THREAD",
            Code::UnknownLab => "QL_UNKNOWN_LAB",
            Code::UnknownPolicy => "QL_UNKNOWN_POLICY",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: Code,
    message: String,
}

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
        }
    }

    /// `context: <os error text> (os error N)`, the shape users know from std.
    pub fn os(code: Code, context: impl fmt::Display, err: &io::Error) -> Error {
        Error::new(code, format!("{context}: {err}"))
    }

    pub fn bad_config(message: impl Into<String>) -> Error {
        Error::new(Code::BadConfig, message)
    }

    pub fn code(&self) -> Code {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn os_error_message_names_the_cause() {
        let io = io::Error::from_raw_os_error(13);
        let e = Error::os(Code::TunOpen, "cannot open /dev/net/tun", &io);
        assert_eq!(e.code().as_str(), "QL_TUN_OPEN");
        assert_eq!(
            e.message(),
            "cannot open /dev/net/tun: Permission denied (os error 13)"
        );
    }
}
