//! The deployed shape: entry cost where crosscall is deployed (a dlopen()ed cdylib, the C
//! API's .so) measured from C threads — the command ([`deployed_cmd`]), the C host
//! ([`host_driver`]) and the rows it compares ([`host_shape`]).

pub mod deployed_cmd;
pub mod host_driver;
pub mod host_shape;
