//! `gantry rehearse`: a whole release, good and bad, on this machine. github-sim and kube-sim run
//! in this process; the real action binaries run as child processes with the environment the
//! runner gives each step, in the order the workflows run them; the expectations are checked
//! against the simulators' state; a timeline and an HTML report tell what happened. `gantry dora`
//! ([`dora`]) computes the four DORA keys from an environment's GitHub deployment records.

pub mod binaries;
pub mod developer;
pub mod dora;
pub mod endpoint;
pub mod facts;
pub mod layout;
pub mod page;
pub mod progress;
pub mod report;
pub mod scenario;
pub mod stage;
pub mod step;

pub use binaries::Binaries;
pub use layout::{Layout, Sources};
pub use progress::Progress;
pub use scenario::{Report, rehearse};
pub use stage::Stage;
