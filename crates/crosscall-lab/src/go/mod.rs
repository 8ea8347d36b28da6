//! Go toolchains: finding them and building and running the Go reference program with each
//! ([`goref`]), the `go` command ([`go_cmd`]), and the Go `-buildmode=c-shared` reference of
//! the deployed shape ([`go_cshared`]).

pub mod go_cmd;
pub mod go_cshared;
pub mod goref;
